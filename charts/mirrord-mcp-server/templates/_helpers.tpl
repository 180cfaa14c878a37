{{/* Chart name. */}}
{{- define "mirrord-mcp-server.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release name, plus the chart name when the release name does not contain it. */}}
{{- define "mirrord-mcp-server.fullname" -}}
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

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "mirrord-mcp-server.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels. */}}
{{- define "mirrord-mcp-server.labels" -}}
helm.sh/chart: {{ include "mirrord-mcp-server.chart" . }}
{{ include "mirrord-mcp-server.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels. */}}
{{- define "mirrord-mcp-server.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mirrord-mcp-server.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* ServiceAccount name. */}}
{{- define "mirrord-mcp-server.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mirrord-mcp-server.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Namespace of mirrord's agent Jobs. */}}
{{- define "mirrord-mcp-server.agentNamespace" -}}
{{- default (printf "%s-agents" (include "mirrord-mcp-server.fullname" .) | trunc 63 | trimSuffix "-") .Values.agentNamespace.name }}
{{- end }}

{{/* Namespaces callers may target (names or globs), as JSON: the release's namespace when none is given. */}}
{{- define "mirrord-mcp-server.allowedNamespaces" -}}
{{- if .Values.namespaces.allowed }}
{{- toJson .Values.namespaces.allowed }}
{{- else }}
{{- toJson (list .Release.Namespace) }}
{{- end }}
{{- end }}

{{/* "true" when a glob is allowed: then no list of namespaces is known, and target RBAC is cluster-wide. */}}
{{- define "mirrord-mcp-server.clusterWide" -}}
{{- $wide := false }}
{{- range (include "mirrord-mcp-server.allowedNamespaces" . | fromJsonArray) }}
{{- if or (contains "*" .) (contains "?" .) }}{{ $wide = true }}{{ end }}
{{- end }}
{{- $wide }}
{{- end }}

{{/* Namespace used when a call names none. */}}
{{- define "mirrord-mcp-server.defaultNamespace" -}}
{{- if .Values.namespaces.default }}
{{- .Values.namespaces.default }}
{{- else }}
{{- $allowed := include "mirrord-mcp-server.allowedNamespaces" . | fromJsonArray }}
{{- $exact := list }}
{{- range $allowed }}
{{- if not (or (contains "*" .) (contains "?" .)) }}{{ $exact = append $exact . }}{{ end }}
{{- end }}
{{- if $exact }}
{{- first $exact }}
{{- else if has "*" $allowed }}
{{- "default" }}
{{- else }}
{{- fail "namespaces.default is required when namespaces.allowed holds only globs (other than \"*\")" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of the Secret holding the tokens file. */}}
{{- define "mirrord-mcp-server.tokensSecretName" -}}
{{- default (printf "%s-tokens" (include "mirrord-mcp-server.fullname" .)) .Values.auth.tokens.existingSecret }}
{{- end }}

{{/* The image reference: repository with digest, else with tag (default appVersion). */}}
{{- define "mirrord-mcp-server.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Where the config file and the tokens file are mounted (side by side: a mount inside a ConfigMap volume fails). */}}
{{- define "mirrord-mcp-server.configDir" -}}/etc/mirrord-mcp-server/config{{- end }}
{{- define "mirrord-mcp-server.tokensDir" -}}/etc/mirrord-mcp-server/auth{{- end }}

{{/* Port the server listens on inside the pod. */}}
{{- define "mirrord-mcp-server.containerPort" -}}3000{{- end }}
