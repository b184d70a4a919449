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
The namespace of every object: namespaceOverride, or the release's.
*/}}
{{- define "twilio-trusthub-exporter.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource: the selector labels and the others.
*/}}
{{- define "twilio-trusthub-exporter.labels" -}}
{{ include "twilio-trusthub-exporter.selectorLabels" . }}
{{ include "twilio-trusthub-exporter.otherLabels" . }}
{{- end }}

{{/*
The labels besides the selector labels: the chart's, then commonLabels
(which may not replace a selector label: a Deployment's selector cannot
change). The helm test pod has these alone, so that no selector of the
release (Service, PodDisruptionBudget, NetworkPolicy) picks it.
*/}}
{{- define "twilio-trusthub-exporter.otherLabels" -}}
{{- $selector := include "twilio-trusthub-exporter.selectorLabels" . | fromYaml }}
{{- range $k, $v := .Values.commonLabels }}
{{- if hasKey $selector $k }}
{{- fail (printf "commonLabels.%s: the chart's selector label cannot be overridden" $k) }}
{{- end }}
{{- end -}}
helm.sh/chart: {{ include "twilio-trusthub-exporter.chart" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "twilio-trusthub-exporter.name" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
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
The image: the repository, its registry host replaced by (or, when it names
none, prefixed with) global.imageRegistry or image.registry when one is set;
then the digest when one is given, else the tag (the chart's appVersion by
default). The first part of a repository is a registry host when it holds a
"." or a ":" or is "localhost", as Docker reads image references.
*/}}
{{- define "twilio-trusthub-exporter.image" -}}
{{- $repository := .Values.image.repository }}
{{- $registry := (.Values.global | default dict).imageRegistry | default .Values.image.registry }}
{{- if $registry }}
{{- $parts := splitList "/" $repository }}
{{- $first := first $parts }}
{{- if and (gt (len $parts) 1) (or (contains "." $first) (contains ":" $first) (eq $first "localhost")) }}
{{- $repository = rest $parts | join "/" }}
{{- end }}
{{- $repository = printf "%s/%s" (trimSuffix "/" $registry) $repository }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) }}
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
rolls the pods. With auth.existingSecret, each account that names no
credential of its own gets the mounted file of that Secret: api_secret_file
for an account with an api_key, auth_token_file otherwise. A copy is changed,
never .Values, since this is included more than once.
*/}}
{{- define "twilio-trusthub-exporter.configFile" -}}
{{- $config := deepCopy .Values.config }}
{{- if and .Values.auth.existingSecret (kindIs "slice" $config.accounts) }}
{{- $dir := include "twilio-trusthub-exporter.authDir" . }}
{{- $accounts := list }}
{{- range $i, $account := $config.accounts }}
{{- $a := $account }}
{{- if and (kindIs "map" $a) (not (or $a.auth_token $a.auth_token_file $a.api_secret $a.api_secret_file)) }}
{{- if $a.api_key }}
{{- if not $.Values.auth.apiSecretKey }}
{{- fail (printf "config.accounts[%d] has an api_key and no api_secret: set auth.apiSecretKey to its key in Secret %s, or api_secret_file" $i $.Values.auth.existingSecret) }}
{{- end }}
{{- $_ := set $a "api_secret_file" (printf "%s/%s" $dir $.Values.auth.apiSecretKey) }}
{{- else }}
{{- if not $.Values.auth.tokenKey }}
{{- fail (printf "config.accounts[%d] has no credential: set auth.tokenKey to the auth token's key in Secret %s, or auth_token_file" $i $.Values.auth.existingSecret) }}
{{- end }}
{{- $_ := set $a "auth_token_file" (printf "%s/%s" $dir $.Values.auth.tokenKey) }}
{{- end }}
{{- end }}
{{- $accounts = append $accounts $a }}
{{- end }}
{{- $_ := set $config "accounts" $accounts }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/*
Where the configuration Secret is mounted.
*/}}
{{- define "twilio-trusthub-exporter.configDir" -}}
/etc/twilio-trusthub-exporter
{{- end }}

{{/*
Where the auth.existingSecret Secret is mounted.
*/}}
{{- define "twilio-trusthub-exporter.authDir" -}}
/etc/twilio-trusthub-exporter-auth
{{- end }}

{{/*
The volumes of the exporter's pod, shared with the helm test pod so that it
checks the configuration with the very same files.
*/}}
{{- define "twilio-trusthub-exporter.volumes" -}}
- name: config
  secret:
    secretName: {{ include "twilio-trusthub-exporter.secretName" . }}
    # Readable by the pod's fsGroup, the exporter's group, alone.
    defaultMode: 0440
{{- with .Values.auth.existingSecret }}
- name: auth
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The exporter container's volume mounts, shared with the helm test pod.
Directories, not subPaths: the kubelet then updates the files in place when
a Secret changes.
*/}}
{{- define "twilio-trusthub-exporter.volumeMounts" -}}
- name: config
  mountPath: {{ include "twilio-trusthub-exporter.configDir" . }}
  readOnly: true
{{- if .Values.auth.existingSecret }}
- name: auth
  mountPath: {{ include "twilio-trusthub-exporter.authDir" . }}
  readOnly: true
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The --config.file flag, shared with the helm test pod.
*/}}
{{- define "twilio-trusthub-exporter.configFlag" -}}
--config.file={{ include "twilio-trusthub-exporter.configDir" . }}/{{ include "twilio-trusthub-exporter.secretKey" . }}
{{- end }}
