{{/*
The server's config file (src/config.ts is its schema): `config` values as they are, then the keys
the chart owns, which values.schema.json keeps out of `config`.
*/}}
{{- define "mirrord-mcp-server.config" -}}
{{- $fullname := include "mirrord-mcp-server.fullname" . }}
{{- $config := deepCopy (.Values.config | default dict) }}
{{- $hosts := list }}
{{- if .Values.ingress.enabled }}
{{- $hosts = concat $hosts .Values.ingress.hosts }}
{{- end }}
{{- $svc := printf "%s.%s" $fullname .Release.Namespace }}
{{- $hosts = concat $hosts (list $fullname $svc (printf "%s.svc" $svc) (printf "%s.svc.%s" $svc .Values.clusterDomain) "localhost" "127.0.0.1") .Values.extraAllowedHosts | uniq }}
{{- $_ := set $config "host" "0.0.0.0" }}
{{- $_ = set $config "port" (include "mirrord-mcp-server.containerPort" . | int) }}
{{- if .Values.basePath }}
{{- $_ = set $config "basePath" .Values.basePath }}
{{- end }}
{{- $_ = set $config "allowedHosts" $hosts }}
{{- $_ = set $config "mirrordBin" "/opt/mirrord/bin/mirrord" }}
{{- $_ = set $config "defaultNamespace" (include "mirrord-mcp-server.defaultNamespace" .) }}
{{- $_ = set $config "agentNamespace" (include "mirrord-mcp-server.agentNamespace" .) }}
{{- $_ = set $config "namespaces" (dict "allowed" (include "mirrord-mcp-server.allowedNamespaces" . | fromJsonArray)) }}
{{- $auth := dict "subjectAccessReview" .Values.auth.subjectAccessReview "publicMetrics" .Values.auth.publicMetrics }}
{{- if .Values.auth.tokens.enabled }}
{{- $_ = set $auth "tokensFile" (printf "%s/tokens.yaml" (include "mirrord-mcp-server.tokensDir" .)) }}
{{- end }}
{{- with .Values.auth.oidc }}
{{- if .enabled }}
{{- $oidc := dict "issuer" .issuer "audience" .audience "identityClaim" .identityClaim "identityPrefix" .identityPrefix "groupsClaim" .groupsClaim }}
{{- if .jwksUri }}{{ $_ = set $oidc "jwksUri" .jwksUri }}{{ end }}
{{- if .namespacesClaim }}{{ $_ = set $oidc "namespacesClaim" .namespacesClaim }}{{ end }}
{{- $_ = set $auth "oidc" $oidc }}
{{- end }}
{{- end }}
{{- with .Values.auth.tokenReview }}
{{- $_ = set $auth "tokenReview" (dict "enabled" .enabled "audiences" .audiences "cacheS" (.cacheS | int)) }}
{{- end }}
{{- if .Values.auth.resourceUrl }}
{{- $_ = set $auth "resourceUrl" .Values.auth.resourceUrl }}
{{- end }}
{{- $_ = set $config "auth" $auth }}
{{- if .Values.workspaces.enabled }}
{{- $_ = set $config "workspaces" (merge (dict "dataDir" .Values.workspaces.mountPath) ($config.workspaces | default dict)) }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* Fails the render when no authentication is on: the server refuses to listen beyond loopback without one. */}}
{{- define "mirrord-mcp-server.requireAuth" -}}
{{- if not (or .Values.auth.tokens.enabled .Values.auth.oidc.enabled .Values.auth.tokenReview.enabled) }}
{{- fail "auth: enable at least one of auth.tokens, auth.oidc and auth.tokenReview: the server refuses to listen without authentication" }}
{{- end }}
{{- end }}
