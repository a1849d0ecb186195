{{/*
Helpers of the umbrella chart. Workload templates and labels come from the store-lib
library chart; what is specific to the store (topology, secrets, Cassandra wiring) is here.
*/}}

{{/* The one topology (services/kit/kit/topology.yaml through the files/ link), as a dict. */}}
{{- define "store.topology" -}}
{{- $raw := .Files.Get "files/topology.yaml" -}}
{{- if not $raw -}}
{{- fail "files/topology.yaml is missing: the chart must be installed from the repository (it links services/kit/kit/topology.yaml) or packaged with `helm package`" -}}
{{- end -}}
{{- $raw -}}
{{- end }}

{{- define "store.fullname" -}}
{{- include "store-lib.fullname" (dict "root" .root "component" .component) -}}
{{- end }}

{{/*
Name of a Secret the chart needs: the existing one named by secrets.<key>, else the one the
chart generates when secrets.generate is on, else a template-time failure naming the value.
Arguments: root, key (signingKeys | admin | serviceClients), what (for the message).
*/}}
{{- define "store.secretName" -}}
{{- $given := index .root.Values.secrets .key -}}
{{- if $given -}}
{{- $given -}}
{{- else if .root.Values.secrets.generate -}}
{{- printf "%s-%s" .root.Release.Name (.key | kebabcase) -}}
{{- else -}}
{{- fail (printf "secrets.%s is required: the name of an existing Secret with %s (or secrets.generate=true, for development only)" .key .what) -}}
{{- end -}}
{{- end }}

{{/* The Secret of the SigningKeyRing (the operator creates and rotates it). */}}
{{- define "store.keyRingSecret" -}}
{{- include "store.fullname" (dict "root" . "component" "signing-key-ring") -}}
{{- end }}

{{/* The Secret the users service reads its signing keys from: the ring's, or secrets.signingKeys. */}}
{{- define "store.signingKeysSecret" -}}
{{- if .Values.signingKeyRing.enabled -}}
{{- include "store.keyRingSecret" . -}}
{{- else -}}
{{- include "store.secretName" (dict "root" . "key" "signingKeys" "what" "the signing keys (`<kid>.pem` files and `active`)") -}}
{{- end -}}
{{- end }}

{{/* The Cassandra credentials Secret, or "" when the database runs without authentication. */}}
{{- define "store.cassandraAuthSecret" -}}
{{- $c := .Values.cassandra -}}
{{- if $c.authSecret -}}
{{- $c.authSecret -}}
{{- else if eq $c.mode "k8ssandra" -}}
{{- if .Values.secrets.generate -}}
{{- printf "%s-cassandra-superuser" .Release.Name -}}
{{- else -}}
{{- fail "cassandra.authSecret is required in k8ssandra mode: the name of an existing Secret with `username` and `password` (the cluster's superuser), or secrets.generate=true for development" -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/* Contact points of the store's Cassandra, as a JSON list (the services' setting format). */}}
{{- define "store.cassandraHosts" -}}
{{- $c := .Values.cassandra -}}
{{- if eq $c.mode "external" -}}
{{- if not $c.external.hosts -}}
{{- fail "cassandra.external.hosts is required in external mode" -}}
{{- end -}}
{{- toJson $c.external.hosts -}}
{{- else if eq $c.mode "k8ssandra" -}}
{{- list (printf "%s-%s-service" (include "store.fullname" (dict "root" . "component" "cassandra")) $c.k8ssandra.datacenter) | toJson -}}
{{- else -}}
{{- list (include "store.fullname" (dict "root" . "component" "cassandra")) | toJson -}}
{{- end -}}
{{- end }}

{{/* Keyspace replication in the services' format (kit/migrations.py replication_map). */}}
{{- define "store.replication" -}}
{{- $c := .Values.cassandra -}}
{{- if $c.replication -}}
{{- $pairs := list -}}
{{- range $dc, $rf := $c.replication }}{{ $pairs = append $pairs (printf "%s=%v" $dc $rf) }}{{ end -}}
NetworkTopologyStrategy:{{ join "," $pairs }}
{{- else if eq $c.mode "k8ssandra" -}}
NetworkTopologyStrategy:{{ $c.k8ssandra.datacenter }}={{ min 3 $c.k8ssandra.size }}
{{- else -}}
SimpleStrategy:1
{{- end -}}
{{- end }}

{{- define "store.localDatacenter" -}}
{{- if .Values.cassandra.localDatacenter -}}
{{- .Values.cassandra.localDatacenter -}}
{{- else if eq .Values.cassandra.mode "k8ssandra" -}}
{{- .Values.cassandra.k8ssandra.datacenter -}}
{{- end -}}
{{- end }}

{{/* OTLP endpoint of the services, "" when tracing is off. */}}
{{- define "store.otlpEndpoint" -}}
{{- if .Values.tracing.otlpEndpoint -}}
{{- .Values.tracing.otlpEndpoint -}}
{{- else if .Values.jaeger.enabled -}}
{{- printf "http://%s-jaeger:4318" .Release.Name -}}
{{- end -}}
{{- end }}

{{/* Base URL of a service in the cluster. Arguments: root, name, svc (its topology entry). */}}
{{- define "store.serviceUrl" -}}
http://{{ include "store.fullname" (dict "root" .root "component" .name) }}:{{ .svc.port }}
{{- end }}

{{/* The label kube-prometheus-stack selects ServiceMonitors and rules by. */}}
{{- define "store.prometheusLabels" -}}
release: {{ .Values.monitoring.prometheusRelease | default .Release.Name }}
{{- end }}

{{/*
Environment of one service, as YAML (NAME: value | {secretName, key}): the same settings the
local stack passes (devstack/stack.py), wired to the cluster's names.
Arguments: root, name, topo (the topology dict), w (its workload values; w.env wins).
*/}}
{{- define "store.serviceEnv" -}}
{{- $root := .root -}}
{{- $svc := index .topo.services .name -}}
{{- $p := $svc.env_prefix -}}
{{- $issuer := .topo.token_issuer -}}
{{- $issuerUrl := include "store.serviceUrl" (dict "root" $root "name" $issuer "svc" (index .topo.services $issuer)) -}}
{{- $env := dict -}}
{{- $_ := set $env (printf "%sJWKS_URL" $p) (printf "%s/.well-known/jwks.json" $issuerUrl) -}}
{{- $peers := dict -}}
{{- range $name, $peer := .topo.services -}}
{{- $_ = set $peers $name (printf "%s/health/ready" (include "store.serviceUrl" (dict "root" $root "name" $name "svc" $peer))) -}}
{{- end -}}
{{- $_ = set $env (printf "%sHEALTH_PEERS" $p) (toJson $peers) -}}
{{- $_ = set $env (printf "%sCASSANDRA_HOSTS" $p) (include "store.cassandraHosts" $root) -}}
{{- $_ = set $env (printf "%sCASSANDRA_PORT" $p) (toString (eq $root.Values.cassandra.mode "external" | ternary $root.Values.cassandra.external.port 9042)) -}}
{{- $_ = set $env (printf "%sCASSANDRA_REPLICATION" $p) (include "store.replication" $root) -}}
{{- with include "store.localDatacenter" $root -}}
{{- $_ = set $env (printf "%sCASSANDRA_LOCAL_DC" $p) . -}}
{{- end -}}
{{- with include "store.cassandraAuthSecret" $root -}}
{{- $_ = set $env (printf "%sCASSANDRA_USERNAME" $p) (dict "secretName" . "key" "username") -}}
{{- $_ = set $env (printf "%sCASSANDRA_PASSWORD" $p) (dict "secretName" . "key" "password") -}}
{{- end -}}
{{- with include "store.otlpEndpoint" $root -}}
{{- $_ = set $env "OTEL_EXPORTER_OTLP_ENDPOINT" . -}}
{{- $_ = set $env "OTEL_TRACES_SAMPLER" "parentbased_traceidratio" -}}
{{- $_ = set $env "OTEL_TRACES_SAMPLER_ARG" (toString $root.Values.tracing.sampleRatio) -}}
{{- end -}}
{{- range $svc.calls -}}
{{- $_ = set $env (printf "%s%s_URL" $p (upper .)) (include "store.serviceUrl" (dict "root" $root "name" . "svc" (index $.topo.services .))) -}}
{{- end -}}
{{- if has $issuer $svc.calls -}}
{{- $_ = set $env (printf "%sCLIENT_ID" $p) .name -}}
{{- $_ = set $env (printf "%sCLIENT_SECRET" $p) (dict "secretName" (include "store.secretName" (dict "root" $root "key" "serviceClients" "what" "one client secret per calling service")) "key" .name) -}}
{{- end -}}
{{- if eq .name $issuer -}}
{{- $admin := include "store.secretName" (dict "root" $root "key" "admin" "what" "the first administrator's `username`, `email` and `password`") -}}
{{- $_ = set $env (printf "%sADMIN_USERNAME" $p) (dict "secretName" $admin "key" "username") -}}
{{- $_ = set $env (printf "%sADMIN_EMAIL" $p) (dict "secretName" $admin "key" "email") -}}
{{- $_ = set $env (printf "%sADMIN_PASSWORD" $p) (dict "secretName" $admin "key" "password") -}}
{{- $_ = set $env (printf "%sKEYS_DIR" $p) "/var/run/store/signing-keys" -}}
{{- $_ = set $env (printf "%sSERVICE_CLIENTS_DIR" $p) "/var/run/store/service-clients" -}}
{{- end -}}
{{- toYaml (merge (deepCopy .w.env) $env) -}}
{{- end }}
