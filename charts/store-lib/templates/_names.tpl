{{/*
Names, labels, images and security contexts shared by every workload of the store.
Every template takes a dict: `root` (the chart's top-level context) and `component`
(catalog, cart, orders, users, gateway, cassandra, ...).
*/}}

{{/* <release>-<component>, within the 63 characters of a DNS label. */}}
{{- define "store-lib.fullname" -}}
{{- printf "%s-%s" .root.Release.Name .component | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- define "store-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{- define "store-lib.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{ include "store-lib.selectorLabels" . }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: product-store
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/* metadata of a namespaced object: name, namespace and labels. */}}
{{- define "store-lib.metadata" -}}
name: {{ include "store-lib.fullname" . }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "store-lib.labels" . | nindent 2 }}
{{- end }}

{{/* <registry><repository>/<name>:<tag>; the tag is `tag` if given, else image.tag, else the
chart's appVersion. */}}
{{- define "store-lib.image" -}}
{{- $image := .root.Values.image -}}
{{- printf "%s%s/%s:%s" $image.registry $image.repository .name (.tag | default $image.tag | default .root.Chart.AppVersion) -}}
{{- end }}

{{/* The `restricted` Pod Security Standard, pod level. */}}
{{- define "store-lib.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .root.Values.securityContext.runAsUser }}
runAsGroup: {{ .root.Values.securityContext.runAsGroup }}
fsGroup: {{ .root.Values.securityContext.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The `restricted` Pod Security Standard, container level, plus a read-only root. */}}
{{- define "store-lib.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* env entries from a map: NAME: value (plain) or NAME: {secretName, key} (a Secret's key). */}}
{{- define "store-lib.env" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
{{- if kindIs "map" $value }}
  valueFrom:
    secretKeyRef:
      name: {{ $value.secretName }}
      key: {{ $value.key }}
{{- else }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end }}
