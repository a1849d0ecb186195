{{/*
One stateless HTTP workload: ServiceAccount, Deployment, Service, and optionally a
HorizontalPodAutoscaler and a PodDisruptionBudget. Every service of the store and the
gateway are rendered by this one template.

Arguments (a dict):
  root        the chart's top-level context
  component   the workload's name (catalog, gateway, ...); objects are <release>-<component>
  image       the image name under .Values.image.repository (default: component)
  port        the HTTP port (named "http")
  w           the workload's values: service (type, nodePort; optional), replicas, resources, autoscaling, podDisruptionBudget,
              topologySpread, preStopSeconds, terminationGracePeriodSeconds, podAnnotations,
              nodeSelector, tolerations, affinity
  env         map NAME -> value | {secretName, key}
  probes      map with live, ready (HTTP paths) and startupSeconds (how long starting may take)
  extra       optional: command, args, volumes, volumeMounts, ports (more container ports),
              servicePorts (more Service ports: name, port; targetPort is the name),
              automountToken (default false), checksum (a string whose hash rolls the pods),
              sidecars (more containers, complete)
*/}}
{{- define "store-lib.workload" -}}
{{- $w := .w -}}
{{- $extra := .extra | default dict -}}
{{- $fullname := include "store-lib.fullname" . -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  {{- include "store-lib.metadata" . | nindent 2 }}
automountServiceAccountToken: {{ $extra.automountToken | default false }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "store-lib.metadata" . | nindent 2 }}
spec:
  {{- if not $w.autoscaling.enabled }}
  replicas: {{ $w.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "store-lib.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:
        {{- include "store-lib.labels" . | nindent 8 }}
      {{- if or $extra.checksum $w.podAnnotations }}
      annotations:
        {{- with $extra.checksum }}
        checksum/config: {{ . | sha256sum }}
        {{- end }}
        {{- with $w.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- end }}
    spec:
      serviceAccountName: {{ $fullname }}
      automountServiceAccountToken: {{ $extra.automountToken | default false }}
      {{- with .root.Values.image.pullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- include "store-lib.podSecurityContext" . | nindent 8 }}
      terminationGracePeriodSeconds: {{ $w.terminationGracePeriodSeconds }}
      {{- if $w.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range $key := list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
        - maxSkew: {{ $w.topologySpread.maxSkew }}
          topologyKey: {{ $key }}
          whenUnsatisfiable: {{ $w.topologySpread.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "store-lib.selectorLabels" $ | nindent 14 }}
        {{- end }}
      {{- end }}
      {{- with $w.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $w.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $w.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "store-lib.image" (dict "root" .root "name" (.image | default .component)) }}
          imagePullPolicy: {{ .root.Values.image.pullPolicy }}
          {{- with $extra.command }}
          command:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with $extra.args }}
          args:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          ports:
            - name: http
              containerPort: {{ .port }}
              protocol: TCP
            {{- with $extra.ports }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- with .env }}
          env:
            {{- include "store-lib.env" . | nindent 12 }}
          {{- end }}
          securityContext:
            {{- include "store-lib.containerSecurityContext" . | nindent 12 }}
          resources:
            {{- toYaml $w.resources | nindent 12 }}
          # Starting covers waiting for Cassandra and running migrations; after that a
          # process that stops answering is restarted, and one whose dependencies are
          # down is only taken out of the Service.
          startupProbe:
            httpGet: {path: {{ .probes.live }}, port: http}
            periodSeconds: 5
            failureThreshold: {{ div .probes.startupSeconds 5 }}
          livenessProbe:
            httpGet: {path: {{ .probes.live }}, port: http}
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          readinessProbe:
            httpGet: {path: {{ .probes.ready }}, port: http}
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          lifecycle:
            # Endpoints are removed asynchronously: keep serving while the Service and the
            # gateway stop sending new requests, then shut down cleanly.
            preStop:
              sleep:
                seconds: {{ $w.preStopSeconds }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- with $extra.volumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
        {{- with $extra.sidecars }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      volumes:
        # The root filesystem is read-only; scratch space lives here.
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- with $extra.volumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  {{- include "store-lib.metadata" . | nindent 2 }}
spec:
  type: {{ ($w.service).type | default "ClusterIP" }}
  selector:
    {{- include "store-lib.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .port }}
      targetPort: http
      protocol: TCP
      {{- with ($w.service).nodePort }}
      nodePort: {{ . }}
      {{- end }}
    {{- range $extra.servicePorts }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
    {{- end }}
{{- if $w.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  {{- include "store-lib.metadata" . | nindent 2 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $fullname }}
  minReplicas: {{ $w.autoscaling.minReplicas }}
  maxReplicas: {{ $w.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $w.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- if $w.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  {{- include "store-lib.metadata" . | nindent 2 }}
spec:
  maxUnavailable: {{ $w.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "store-lib.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}
