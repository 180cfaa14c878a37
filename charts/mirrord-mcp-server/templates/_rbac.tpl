{{/*
RBAC rules: what mirrord needs without its operator (MIRRORD.md §6, src/kube/permissions.ts) plus
what the server itself reads. Whoever may run commands holds these: keep them exactly this small.
*/}}

{{/* In each target namespace: find targets, follow a rollout's workloadRef; the server's watch caches. */}}
{{- define "mirrord-mcp-server.targetRules" -}}
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["podtemplates"]
  verbs: ["get"]
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["get"]
- apiGroups: ["argoproj.io"]
  resources: ["rollouts"]
  verbs: ["get", "list", "watch"]
{{- end }}

{{/* In the agent namespace: create the agent Job, wait for its pod, read its log, port-forward to it. */}}
{{- define "mirrord-mcp-server.agentRules" -}}
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["create"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["pods/portforward"]
  verbs: ["create"]
{{- end }}

{{/* Cluster-scoped: the agent namespace's PodSecurity label (doctor, server_info), and what auth and options add. */}}
{{- define "mirrord-mcp-server.clusterRules" -}}
- apiGroups: [""]
  resources: ["namespaces"]
  resourceNames: [{{ include "mirrord-mcp-server.agentNamespace" . | quote }}]
  verbs: ["get"]
{{- if .Values.auth.tokenReview.enabled }}
- apiGroups: ["authentication.k8s.io"]
  resources: ["tokenreviews"]
  verbs: ["create"]
{{- end }}
{{- if .Values.auth.subjectAccessReview }}
- apiGroups: ["authorization.k8s.io"]
  resources: ["subjectaccessreviews"]
  verbs: ["create"]
{{- end }}
{{- if .Values.rbac.nodeCapacityCheck }}
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
{{- end }}
{{- end }}

{{/* Namespaces that get a target Role (none when targets are cluster-wide), as JSON. */}}
{{- define "mirrord-mcp-server.targetNamespaces" -}}
{{- if eq (include "mirrord-mcp-server.clusterWide" .) "true" }}
{{- toJson (list) }}
{{- else }}
{{- include "mirrord-mcp-server.allowedNamespaces" . }}
{{- end }}
{{- end }}

{{/* The subject every binding names. */}}
{{- define "mirrord-mcp-server.subject" -}}
- kind: ServiceAccount
  name: {{ include "mirrord-mcp-server.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}
