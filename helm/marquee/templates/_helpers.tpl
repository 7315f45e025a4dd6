{{/*
Shared helpers. Every per-service template loops over the merged service map built by
"marquee.resolveServices", so adding a service is a values change only.
*/}}

{{/* Prefix of every resource name: fullnameOverride, else the release name. */}}
{{- define "marquee.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of one service's resources: <fullname>-<service>. */}}
{{- define "marquee.serviceName" -}}
{{- printf "%s-%s" (include "marquee.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object of the release. */}}
{{- define "marquee.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: marquee
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one service's pods (dict root, name). */}}
{{- define "marquee.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* All labels of one service's objects (dict root, name, svc). */}}
{{- define "marquee.serviceLabels" -}}
{{ include "marquee.labels" .root }}
app.kubernetes.io/component: {{ .name }}
app.kubernetes.io/version: {{ include "marquee.imageTag" . | trunc 63 | quote }}
{{- end -}}

{{/*
Deep merge of .src into .dst, in place: maps merge key by key, anything else (scalars,
lists, false, empty values) from .src replaces .dst. Sprig's mergeOverwrite ignores
false and empty lists, which would make `enabled: false` impossible to set.
*/}}
{{- define "marquee.deepMerge" -}}
{{- $dst := .dst -}}
{{- range $key, $value := .src -}}
{{- if and (kindIs "map" $value) (kindIs "map" (get $dst $key)) -}}
{{- include "marquee.deepMerge" (dict "dst" (get $dst $key) "src" $value) -}}
{{- else -}}
{{- $_ := set $dst $key (deepCopy $value) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Fills .out (a dict) with every entry of .Values.services merged over serviceDefaults,
each with its "name" set. Call: include "marquee.resolveServices" (dict "root" $ "out" $all)
*/}}
{{- define "marquee.resolveServices" -}}
{{- $root := .root -}}
{{- range $name, $cfg := $root.Values.services -}}
{{- $svc := deepCopy $root.Values.serviceDefaults -}}
{{- include "marquee.deepMerge" (dict "dst" $svc "src" (default dict $cfg)) -}}
{{- $_ := set $svc "name" $name -}}
{{- if not $svc.binary -}}
{{- $_ := set $svc "binary" (printf "marquee-%s" $name) -}}
{{- end -}}
{{- $_ := set $.out $name $svc -}}
{{- end -}}
{{- end -}}

{{/* Image tag of a service (dict root, svc). */}}
{{- define "marquee.imageTag" -}}
{{- .svc.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- end -}}

{{/* Full image reference of a service (dict root, svc): by digest when one is given. */}}
{{- define "marquee.image" -}}
{{- $repo := .svc.image.repository | default (printf "%s/%s/%s" .root.Values.image.registry .root.Values.image.owner .svc.binary) -}}
{{- $digest := .svc.image.digest | default .root.Values.image.digest -}}
{{- if $digest -}}
{{- printf "%s@%s" $repo $digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (include "marquee.imageTag" .) -}}
{{- end -}}
{{- end -}}

{{/*
The headless Service of a gRPC service (dict root, name): no cluster IP, so its DNS name
resolves to every ready pod (stable and canary alike) and the callers balance over them.
*/}}
{{- define "marquee.headlessName" -}}
{{- printf "%s-headless" (include "marquee.serviceName" . | trunc 54 | trimSuffix "-") -}}
{{- end -}}

{{/*
Paths of the public edge (HTTPRoute, and the opt-in Ingress): the REST API, its
documentation, the JWKS, and the web studio's pages and files. Never /metrics, /healthz,
/readyz or the admin port. One "type path" pair per line (Exact or PathPrefix).
*/}}
{{- define "marquee.publicPaths" -}}
PathPrefix /api
PathPrefix /docs
PathPrefix /.well-known
Exact /
Exact /index.html
Exact /favicon.svg
PathPrefix /assets
PathPrefix /signin
PathPrefix /signup
PathPrefix /verify-email
PathPrefix /reset-password
PathPrefix /dashboard
PathPrefix /upload
PathPrefix /search
PathPrefix /creators
PathPrefix /me
PathPrefix /campaigns
PathPrefix /billing
PathPrefix /moderation
PathPrefix /apps
PathPrefix /admin
{{- end -}}

{{/* Environment-variable form of a service name: tenant-operator -> TENANT_OPERATOR. */}}
{{- define "marquee.envName" -}}
{{- . | upper | replace "-" "_" -}}
{{- end -}}

{{/* Pod-level security context shared by services and jobs. */}}
{{- define "marquee.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security context shared by services and jobs. */}}
{{- define "marquee.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Annotations of a workload (dict root, name, svc). */}}
{{- define "marquee.workloadAnnotations" -}}
{{- if .svc.serviceAccount.automountToken }}
checkov.io/skip1: CKV_K8S_38=serviceAccount.automountToken is true only for services that call the Kubernetes API (the tenant operator)
{{- end }}
{{- end -}}

{{/*
Does the service take part in mutual TLS (tls.enabled, and it is enabled and serves gRPC
or calls an enabled service)? (dict root, name, svc)
*/}}
{{- define "marquee.usesTls" -}}
{{- if and .root.Values.tls.enabled .svc.enabled -}}
{{- if eq .svc.protocol "grpc" -}}true
{{- else -}}
{{- $all := dict -}}
{{- include "marquee.resolveServices" (dict "root" .root "out" $all) -}}
{{- $calls := false -}}
{{- range $target := .svc.calls -}}
{{- $callee := get $all $target -}}
{{- if and $callee $callee.enabled -}}{{- $calls = true -}}{{- end -}}
{{- end -}}
{{- if $calls -}}true{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The Secret (and Certificate) holding a service's TLS files (dict root, name). */}}
{{- define "marquee.tlsSecretName" -}}
{{- printf "%s-tls" (include "marquee.serviceName" . | trunc 59 | trimSuffix "-") -}}
{{- end -}}

{{/* Where secretFiles are mounted: <path>/<volume>/<key>. */}}
{{- define "marquee.secretFilesPath" -}}/etc/marquee/files{{- end -}}

{{/* The volume of one secretFiles entry, named after its variable. */}}
{{- define "marquee.secretFileVolume" -}}
{{- printf "file-%s" (. | lower | replace "_" "-") | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Where the TLS files are mounted in the pods. */}}
{{- define "marquee.tlsMountPath" -}}/etc/marquee/tls{{- end -}}

{{/* The issuer of the services' certificates: tls.issuerRef, else the chart's CA Issuer. */}}
{{- define "marquee.tlsIssuerRef" -}}
{{- if .Values.tls.issuerRef.name -}}
{{- toYaml .Values.tls.issuerRef -}}
{{- else -}}
name: {{ include "marquee.fullname" . }}-ca
kind: Issuer
group: cert-manager.io
{{- end -}}
{{- end -}}

{{/*
Is the service an Argo Rollout canary whose HTTP traffic is split by the Gateway API
plugin (the gateway with httpRoute on)? (dict root, name, svc)
*/}}
{{- define "marquee.canaryTrafficRouting" -}}
{{- if and (include "marquee.isRollout" .) .root.Values.httpRoute.enabled (eq .name "gateway") (eq .svc.protocol "http") (ne .svc.rollout.strategy "blueGreen") -}}true{{- end -}}
{{- end -}}

{{/*
Does the service run as an Argo Rollout (rollouts.enabled, and its rollout.enabled is not
false)? Otherwise it is a Deployment. (dict root, svc)
*/}}
{{- define "marquee.isRollout" -}}
{{- if and .root.Values.rollouts.enabled (ne (toString .svc.rollout.enabled) "false") -}}true{{- end -}}
{{- end -}}

{{/* Does the service run as an Argo Rollout with the blue/green strategy? (dict root, svc) */}}
{{- define "marquee.isBlueGreen" -}}
{{- if and (include "marquee.isRollout" .) (eq .svc.rollout.strategy "blueGreen") -}}true{{- end -}}
{{- end -}}

{{/*
The pod template of a service, shared by Deployment and Rollout (dict root, name, svc).
*/}}
{{- define "marquee.podTemplate" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $fullName := include "marquee.serviceName" . -}}
metadata:
  labels:
    {{- include "marquee.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/version: {{ include "marquee.imageTag" . | trunc 63 | quote }}
    {{- with $svc.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include "marquee.configData" . | sha256sum }}
    {{- with $svc.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ $fullName }}
  automountServiceAccountToken: {{ $svc.serviceAccount.automountToken }}
  securityContext:
    {{- include "marquee.podSecurityContext" . | nindent 4 }}
  {{- with $root.Values.image.pullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if le (int $svc.terminationGracePeriodSeconds) (add $svc.drain.preStopSleepSeconds $svc.drain.shutdownSeconds | int) }}
  {{- fail (printf "services.%s.terminationGracePeriodSeconds (%v) must exceed drain.preStopSleepSeconds + drain.shutdownSeconds (%v)" .name $svc.terminationGracePeriodSeconds (add $svc.drain.preStopSleepSeconds $svc.drain.shutdownSeconds)) }}
  {{- end }}
  terminationGracePeriodSeconds: {{ $svc.terminationGracePeriodSeconds }}
  {{- with $svc.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  containers:
    - name: {{ .name }}
      image: {{ include "marquee.image" . | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      {{- with $svc.args }}
      args:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      ports:
        {{- if ne $svc.protocol "none" }}
        - name: {{ $svc.protocol }}
          containerPort: {{ $svc.port }}
          protocol: TCP
        {{- end }}
        - name: admin
          containerPort: {{ $svc.adminPort }}
          protocol: TCP
      envFrom:
        - configMapRef:
            name: {{ $fullName }}
        {{- with $svc.existingSecret }}
        - secretRef:
            name: {{ . }}
        {{- end }}
      {{- if and $svc.secretEnv (not $svc.existingSecret) }}
      {{- fail (printf "services.%s.secretEnv needs services.%s.existingSecret" .name .name) }}
      {{- end }}
      {{- if or $svc.secretEnv $svc.secretFiles $svc.fieldEnv }}
      env:
        {{- range $var := keys $svc.fieldEnv | sortAlpha }}
        - name: {{ $var }}
          valueFrom:
            fieldRef:
              fieldPath: {{ get $svc.fieldEnv $var }}
        {{- end }}
        {{- range $var := keys $svc.secretEnv | sortAlpha }}
        - name: {{ $var }}
          valueFrom:
            secretKeyRef:
              name: {{ $svc.existingSecret }}
              key: {{ get $svc.secretEnv $var }}
        {{- end }}
        {{- range $var := keys $svc.secretFiles | sortAlpha }}
        - name: {{ $var }}
          value: {{ printf "%s/%s/%s" (include "marquee.secretFilesPath" $) (include "marquee.secretFileVolume" $var) (get $svc.secretFiles $var).key | quote }}
        {{- end }}
      {{- end }}
      {{- if $svc.drain.preStopSleepSeconds }}
      lifecycle:
        preStop:
          sleep:
            seconds: {{ $svc.drain.preStopSleepSeconds }}
      {{- end }}
      startupProbe:
        httpGet:
          path: /healthz
          port: admin
        periodSeconds: 2
        timeoutSeconds: {{ $svc.probes.timeoutSeconds }}
        failureThreshold: {{ $svc.probes.startupFailureThreshold }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: admin
        initialDelaySeconds: {{ $svc.probes.initialDelaySeconds }}
        periodSeconds: {{ $svc.probes.periodSeconds }}
        timeoutSeconds: {{ $svc.probes.timeoutSeconds }}
        failureThreshold: {{ $svc.probes.failureThreshold }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: admin
        initialDelaySeconds: {{ $svc.probes.initialDelaySeconds }}
        periodSeconds: {{ $svc.probes.periodSeconds }}
        timeoutSeconds: {{ $svc.probes.timeoutSeconds }}
        failureThreshold: {{ $svc.probes.failureThreshold }}
      resources:
        {{- toYaml $svc.resources | nindent 8 }}
      securityContext:
        {{- include "marquee.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if include "marquee.usesTls" . }}
        {{- /* The directory, never subPath: kubelet then swaps renewed files in. */}}
        - name: tls
          mountPath: {{ include "marquee.tlsMountPath" . }}
          readOnly: true
        {{- end }}
        {{- range $var := keys $svc.secretFiles | sortAlpha }}
        - name: {{ include "marquee.secretFileVolume" $var }}
          mountPath: {{ printf "%s/%s" (include "marquee.secretFilesPath" $) (include "marquee.secretFileVolume" $var) }}
          readOnly: true
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- if include "marquee.usesTls" . }}
    - name: tls
      secret:
        secretName: {{ include "marquee.tlsSecretName" . }}
        defaultMode: 288  # 0440: owner and the pod's group (fsGroup) read
    {{- end }}
    {{- range $var := keys $svc.secretFiles | sortAlpha }}
    {{- $file := get $svc.secretFiles $var }}
    {{- $secret := $file.secret | default $svc.existingSecret }}
    {{- if not $secret }}
    {{- fail (printf "services.%s.secretFiles.%s needs a secret (or services.%s.existingSecret)" $.name $var $.name) }}
    {{- end }}
    - name: {{ include "marquee.secretFileVolume" $var }}
      secret:
        secretName: {{ $secret }}
        items:
          - key: {{ $file.key }}
            path: {{ $file.key }}
        defaultMode: 288
    {{- end }}
  {{- if $svc.topologySpread.enabled }}
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: topology.kubernetes.io/zone
      whenUnsatisfiable: {{ $svc.topologySpread.zoneWhenUnsatisfiable }}
      labelSelector:
        matchLabels:
          {{- include "marquee.selectorLabels" . | nindent 10 }}
      {{- if include "marquee.isRollout" . }}
      matchLabelKeys: [rollouts-pod-template-hash]
      {{- else }}
      matchLabelKeys: [pod-template-hash]
      {{- end }}
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: {{ $svc.topologySpread.hostWhenUnsatisfiable }}
      labelSelector:
        matchLabels:
          {{- include "marquee.selectorLabels" . | nindent 10 }}
      {{- if include "marquee.isRollout" . }}
      matchLabelKeys: [rollouts-pod-template-hash]
      {{- else }}
      matchLabelKeys: [pod-template-hash]
      {{- end }}
  {{- end }}
  {{- with $svc.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $svc.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $svc.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* The ConfigMap data of a service (dict root, name, svc); its hash rolls the pods. */}}
{{- define "marquee.configData" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $all := dict -}}
{{- include "marquee.resolveServices" (dict "root" $root "out" $all) -}}
{{- $data := dict
      "MARQUEE_LOG__FORMAT" $root.Values.global.logFormat
      "RUST_LOG" $root.Values.global.logFilter
      "MARQUEE_ADMIN_ADDR" (printf "0.0.0.0:%v" $svc.adminPort)
      "OTEL_SERVICE_NAME" $svc.binary
      "MARQUEE_PROFILE" $root.Values.global.profile -}}
{{- /* Tokens: auth signs them, the gateway checks them (the only readers). */ -}}
{{- if has .name (list "auth" "gateway") -}}
{{- $_ := set $data "MARQUEE_JWT_ISSUER" $root.Values.global.jwt.issuer -}}
{{- $_ := set $data "MARQUEE_JWT_AUDIENCE" $root.Values.global.jwt.audience -}}
{{- end -}}
{{- /* The tenant operator: where the release runs (tenant namespaces may reach it on the
       gateway's and the gRPC services' ports) and where its leader-election Lease lives. */ -}}
{{- if eq .name "tenant-operator" -}}
{{- $ports := list -}}
{{- with get $all "gateway" -}}
{{- if .enabled -}}{{- $ports = append $ports (toString .port) -}}{{- end -}}
{{- end -}}
{{- range $n := keys $all | sortAlpha -}}
{{- $s := get $all $n -}}
{{- if and $s.enabled (eq $s.protocol "grpc") -}}
{{- $ports = append $ports (toString $s.port) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $data "MARQUEE_TENANT_OPERATOR_RELEASE_NAMESPACE" $root.Release.Namespace -}}
{{- $_ := set $data "MARQUEE_TENANT_OPERATOR_FLEET_PORTS" ($ports | uniq | join ",") -}}
{{- $_ := set $data "MARQUEE_TENANT_OPERATOR_LEASE__NAMESPACE" $root.Release.Namespace -}}
{{- end -}}
{{- if hasKey $svc.secretEnv "MARQUEE_DATABASE_URL" -}}
{{- $_ := set $data "MARQUEE_DB_POOL__MAX_CONNECTIONS" (toString $svc.databasePool.maxConnections) -}}
{{- $_ := set $data "MARQUEE_DB_POOL__MIN_CONNECTIONS" (toString $svc.databasePool.minConnections) -}}
{{- end -}}
{{- if $svc.addrEnv -}}
{{- $_ := set $data $svc.addrEnv (printf "0.0.0.0:%v" $svc.port) -}}
{{- end -}}
{{- with $root.Values.global.otel.endpoint -}}
{{- $_ := set $data "OTEL_EXPORTER_OTLP_ENDPOINT" . -}}
{{- end -}}
{{- range $target := $svc.calls -}}
{{- $callee := get $all $target -}}
{{- if and $callee $callee.enabled -}}
{{- $key := printf "MARQUEE_%s_%s_URL" (include "marquee.envName" $svc.name) (include "marquee.envName" $target) -}}
{{- $scheme := ternary "https" "http" $root.Values.tls.enabled -}}
{{- /* The headless Service: every ready pod's address, re-resolved by the client. */ -}}
{{- $host := include "marquee.serviceName" (dict "root" $root "name" $target) -}}
{{- if eq $callee.protocol "grpc" -}}
{{- $host = include "marquee.headlessName" (dict "root" $root "name" $target) -}}
{{- end -}}
{{- $_ := set $data $key (printf "%s://%s:%v" $scheme $host $callee.port) -}}
{{- end -}}
{{- end -}}
{{- /* Signed service identity: trust the public key of every enabled service that calls this one. */ -}}
{{- range $caller := keys $all | sortAlpha -}}
{{- $other := get $all $caller -}}
{{- if and $other.enabled (has $svc.name $other.calls) -}}
{{- $key := get $root.Values.identity.publicKeys $caller -}}
{{- if $key -}}
{{- $_ := set $data (printf "MARQUEE_IDENTITY__TRUSTED__%s" (include "marquee.envName" $caller)) $key -}}
{{- else if $root.Values.identity.requireKeys -}}
{{- fail (printf "identity.publicKeys.%s is not set, and %s calls %s: run `marquee identity-keys DIR`" $caller $caller $svc.name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- /* Mutual TLS: the files of the mounted cert-manager Secret. */ -}}
{{- if include "marquee.usesTls" . -}}
{{- $dir := include "marquee.tlsMountPath" . -}}
{{- $_ := set $data "MARQUEE_TLS__ENABLED" "true" -}}
{{- $_ := set $data "MARQUEE_TLS__CERT_FILE" (printf "%s/tls.crt" $dir) -}}
{{- $_ := set $data "MARQUEE_TLS__KEY_FILE" (printf "%s/tls.key" $dir) -}}
{{- $_ := set $data "MARQUEE_TLS__CA_FILE" (printf "%s/ca.crt" $dir) -}}
{{- end -}}
{{- range $k, $v := $root.Values.global.env -}}
{{- $_ := set $data $k (toString $v) -}}
{{- end -}}
{{- range $k, $v := $svc.env -}}
{{- $_ := set $data $k (toString $v) -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}
