{{/*
The chart name, or nameOverride.
*/}}
{{- define "twilio-trusthub-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the resources: fullnameOverride, or <release>-<name>, or the
release name alone when it already contains the chart name. 63 characters at
most, the limit of a DNS label.
*/}}
{{- define "twilio-trusthub-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "twilio-trusthub-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "twilio-trusthub-exporter.labels" -}}
helm.sh/chart: {{ include "twilio-trusthub-exporter.chart" . }}
{{ include "twilio-trusthub-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "twilio-trusthub-exporter.name" . }}
{{- end }}

{{/*
Selector labels: fixed for the life of a release, since a Deployment's selector
cannot change.
*/}}
{{- define "twilio-trusthub-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "twilio-trusthub-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "twilio-trusthub-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "twilio-trusthub-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image: repository with the digest when one is given, else the tag
(the chart's appVersion by default).
*/}}
{{- define "twilio-trusthub-exporter.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The name of the Secret holding the configuration file.
*/}}
{{- define "twilio-trusthub-exporter.secretName" -}}
{{- default (include "twilio-trusthub-exporter.fullname" .) .Values.existingSecret.name }}
{{- end }}

{{/*
The key of the configuration file in that Secret.
*/}}
{{- define "twilio-trusthub-exporter.secretKey" -}}
{{- if .Values.existingSecret.name }}
{{- default "config.yml" .Values.existingSecret.key }}
{{- else }}
{{- "config.yml" }}
{{- end }}
{{- end }}

{{/*
The configuration file rendered from .Values.config: written into the Secret,
and hashed into the pods' checksum/config annotation so that a change of it
rolls the pods.
*/}}
{{- define "twilio-trusthub-exporter.configFile" -}}
{{- toYaml .Values.config }}
{{- end }}

{{/*
Where the configuration Secret is mounted.
*/}}
{{- define "twilio-trusthub-exporter.configDir" -}}
/etc/twilio-trusthub-exporter
{{- end }}
