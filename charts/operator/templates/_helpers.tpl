{{- define "store-operator.name" -}}
{{- printf "%s-operator" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "store-operator.labels" -}}
app.kubernetes.io/name: store-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "store-operator.selector" -}}
app.kubernetes.io/name: store-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
