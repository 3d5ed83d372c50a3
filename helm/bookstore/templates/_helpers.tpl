{{/* Names and labels. */}}
{{- define "bookstore.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bookstore.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "bookstore.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bookstore.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of every object; `component` is a service name, migrate, postgresql, redis… */}}
{{- define "bookstore.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{ include "bookstore.selectorLabels" . }}
app.kubernetes.io/part-of: bookstore
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{- define "bookstore.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "bookstore.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "bookstore.image" -}}
{{- $image := mergeOverwrite (deepCopy .root.Values.image) (.service.image | default dict) -}}
{{- printf "%s:%s" $image.repository (default .root.Chart.AppVersion $image.tag) -}}
{{- end -}}

{{/* The binary's service names, and which ones keep data where. */}}
{{- define "bookstore.grpcServices" -}}user catalog cart order inventory{{- end -}}
{{- define "bookstore.sqlServices" -}}user catalog order inventory{{- end -}}
{{- define "bookstore.redisServices" -}}user catalog cart inventory{{- if ne (dig "bff" "cache" "enabled" true (.Values.config | default dict)) false }} bff{{- end }}{{- end -}}

{{/*
A gRPC service's readiness health name (its generated service name): NOT_SERVING while a
store it needs does not answer and once it drains. Liveness is the empty name.
*/}}
{{- define "bookstore.readinessName" -}}bookstore.{{ . }}.v1.{{ title . }}Service{{- end -}}

{{/*
Who calls whom (platform's ServiceName::callees): the callers a service's NetworkPolicy
admits. Every service fetches svc-user's key set, and those with callees get service tokens
from it, so every service may reach svc-user.
*/}}
{{- define "bookstore.callers" -}}
{{- $callers := dict
  "user" (list "catalog" "cart" "order" "inventory" "bff")
  "catalog" (list "cart" "order" "inventory" "bff")
  "cart" (list "order" "bff")
  "order" (list "bff")
  "inventory" (list "order" "bff") -}}
{{- get $callers . | join " " -}}
{{- end -}}

{{/* Services that call others and so hold a client secret. */}}
{{- define "bookstore.clientServices" -}}cart order inventory bff{{- end -}}

{{/* Env var name of a config key path: BOOKSTORE_ + upper-case keys joined by `__`. */}}
{{- define "bookstore.envName" -}}
{{- printf "BOOKSTORE_%s" (join "__" .) | upper -}}
{{- end -}}

{{/*
A value as the binary's loader reads it: strings as they are, whole numbers without an
exponent (YAML numbers arrive as float64), lists as TOML arrays (JSON arrays of scalars are
valid TOML).
*/}}
{{- define "bookstore.envValue" -}}
{{- if kindIs "slice" . -}}
{{- toJson . -}}
{{- else if kindIs "float64" . -}}
{{- if eq . (float64 (int64 .)) -}}{{ int64 . }}{{- else -}}{{ . }}{{- end -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/* Flattens `config` into `out` (a dict): {path: [keys…], value: …, out: dict}. */}}
{{- define "bookstore.flattenConfig" -}}
{{- $out := .out -}}
{{- $path := .path -}}
{{- range $key, $value := .value -}}
{{- if kindIs "map" $value -}}
{{- include "bookstore.flattenConfig" (dict "path" (append $path $key) "value" $value "out" $out) -}}
{{- else if not (kindIs "invalid" $value) -}}
{{- $_ := set $out (include "bookstore.envName" (append $path $key)) (include "bookstore.envValue" $value) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Endpoints of a gRPC service as a TOML array: its headless Service's one name. Callers
resolve it again every discovery.resolve_interval_ms and balance over every ready pod. */}}
{{- define "bookstore.endpoints" -}}
{{- $root := .root -}}
{{- $host := printf "%s-%s" (include "bookstore.fullname" $root) .service -}}
{{- $port := int (get $root.Values.services .service).port -}}
{{- toJson (list (printf "http://%s:%d" $host $port)) -}}
{{- end -}}

{{/* Stores: in-chart demo ones only while no external one is given. */}}
{{- define "bookstore.externalDatabase" -}}
{{- $db := .Values.externalDatabase -}}
{{- if or $db.existingSecret $db.urls.user $db.urls.catalog $db.urls.order $db.urls.inventory -}}true{{- end -}}
{{- end -}}

{{- define "bookstore.postgresql.enabled" -}}
{{- if and .Values.postgresql.enabled (not (include "bookstore.externalDatabase" .)) -}}true{{- end -}}
{{- end -}}

{{- define "bookstore.redis.enabled" -}}
{{- if and .Values.redis.enabled (not (or .Values.externalRedis.existingSecret .Values.externalRedis.url)) -}}true{{- end -}}
{{- end -}}

{{/* Refuses values that would install a store that cannot start. */}}
{{- define "bookstore.validate" -}}
{{- $db := .Values.externalDatabase -}}
{{- if and (include "bookstore.externalDatabase" .) (not $db.existingSecret) -}}
{{- range $service := splitList " " (include "bookstore.sqlServices" .) -}}
{{- if not (get $db.urls $service) -}}
{{- fail (printf "externalDatabase.urls.%s is required: give every SQL service's URL (user, catalog, order, inventory) or externalDatabase.existingSecret" $service) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not (or (include "bookstore.externalDatabase" .) (include "bookstore.postgresql.enabled" .)) -}}
{{- fail "a database is required: set externalDatabase.existingSecret or externalDatabase.urls.<service>, or postgresql.enabled=true for the demo database" -}}
{{- end -}}
{{- if not (or .Values.externalRedis.existingSecret .Values.externalRedis.url (include "bookstore.redis.enabled" .)) -}}
{{- fail "a Redis is required: set externalRedis.existingSecret or externalRedis.url, or redis.enabled=true for the demo Redis" -}}
{{- end -}}
{{- if ge (int .Values.termination.preStopSleepSeconds) (int .Values.termination.gracePeriodSeconds) -}}
{{- fail "termination.preStopSleepSeconds must be less than termination.gracePeriodSeconds: the drain after SIGTERM needs time too" -}}
{{- end -}}
{{- if and .Values.auth.bootstrapAdmin.email (not (or .Values.auth.bootstrapAdmin.password .Values.auth.existingSecret)) -}}
{{- fail "auth.bootstrapAdmin.password is required with auth.bootstrapAdmin.email (or put bootstrap-admin-password in auth.existingSecret)" -}}
{{- end -}}
{{- end -}}

{{/*
Generated secrets, the same in every template of one render and kept across upgrades: read
back from the live Secrets (lookup is empty under `helm template`, which then generates).
*/}}
{{- define "bookstore.generated" -}}
{{- if not (hasKey .Values "__generated") -}}
{{- $fullname := include "bookstore.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- $auth := (lookup "v1" "Secret" $ns (printf "%s-auth" $fullname)).data | default dict -}}
{{- $pg := (lookup "v1" "Secret" $ns (printf "%s-postgresql" $fullname)).data | default dict -}}
{{- $redis := (lookup "v1" "Secret" $ns (printf "%s-redis" $fullname)).data | default dict -}}
{{- $generated := dict
  "signing-key.pem" (get $auth "signing-key.pem" | b64dec | default (genPrivateKey "ed25519"))
  "client-secret-cart" (get $auth "client-secret-cart" | b64dec | default (randAlphaNum 32))
  "client-secret-order" (get $auth "client-secret-order" | b64dec | default (randAlphaNum 32))
  "client-secret-inventory" (get $auth "client-secret-inventory" | b64dec | default (randAlphaNum 32))
  "client-secret-bff" (get $auth "client-secret-bff" | b64dec | default (randAlphaNum 32))
  "postgresql-password" (get $pg "password" | b64dec | default (randAlphaNum 32))
  "redis-password" (get $redis "password" | b64dec | default (randAlphaNum 32)) -}}
{{- $_ := set .Values "__generated" $generated -}}
{{- end -}}
{{- end -}}

{{- define "bookstore.generatedValue" -}}
{{- $_ := include "bookstore.generated" .root -}}
{{- get .root.Values.__generated .key -}}
{{- end -}}

{{/* Secret names and keys the pods read. */}}
{{- define "bookstore.authSecret" -}}
{{- default (printf "%s-auth" (include "bookstore.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "bookstore.storesSecret" -}}
{{- printf "%s-stores" (include "bookstore.fullname" .) -}}
{{- end -}}

{{/* A projected volume's Secret source of a service's database URL, as `database-url`. */}}
{{- define "bookstore.databaseUrlRef" -}}
{{- $db := .root.Values.externalDatabase -}}
name: {{ default (include "bookstore.storesSecret" .root) $db.existingSecret }}
items:
  - key: {{ .service }}-database-url
    path: database-url
{{- end -}}

{{/* The same of the Redis URL, as `redis-url`. */}}
{{- define "bookstore.redisUrlRef" -}}
name: {{ default (include "bookstore.storesSecret" .) .Values.externalRedis.existingSecret }}
items:
  - key: redis-url
    path: redis-url
{{- end -}}

{{/* The demo stores' URLs. */}}
{{- define "bookstore.demoDatabaseUrl" -}}
{{- printf "postgres://bookstore:%s@%s-postgresql:5432/bookstore_%s" (include "bookstore.generatedValue" (dict "root" .root "key" "postgresql-password")) (include "bookstore.fullname" .root) .service -}}
{{- end -}}

{{- define "bookstore.demoRedisUrl" -}}
{{- printf "redis://:%s@%s-redis:6379" (include "bookstore.generatedValue" (dict "root" . "key" "redis-password")) (include "bookstore.fullname" .) -}}
{{- end -}}

{{/* A Secret's data: the database URLs and the Redis URL the chart manages. */}}
{{- define "bookstore.storesData" -}}
{{- if not .Values.externalDatabase.existingSecret }}
{{- range $service := splitList " " (include "bookstore.sqlServices" .) }}
{{- $url := get $.Values.externalDatabase.urls $service | default (include "bookstore.demoDatabaseUrl" (dict "root" $ "service" $service)) }}
{{ $service }}-database-url: {{ $url | b64enc | quote }}
{{- end }}
{{- end }}
{{- if not .Values.externalRedis.existingSecret }}
redis-url: {{ .Values.externalRedis.url | default (include "bookstore.demoRedisUrl" .) | b64enc | quote }}
{{- end }}
{{- end -}}

{{/* True when the chart manages a stores Secret at all. */}}
{{- define "bookstore.storesSecretNeeded" -}}
{{- if or (not .Values.externalDatabase.existingSecret) (not .Values.externalRedis.existingSecret) -}}true{{- end -}}
{{- end -}}

{{/*
The hardened pod settings. No token: nothing here calls the Kubernetes API. No service
links: their variables (BOOKSTORE_USER_PORT=… for a Service named bookstore-user) would be
unknown configuration keys to the binary. `serviceAccountName` may be given (the hooks).
*/}}
{{- define "bookstore.podSecurity" -}}
{{- $root := .root | default . -}}
automountServiceAccountToken: false
enableServiceLinks: false
serviceAccountName: {{ .serviceAccountName | default (include "bookstore.serviceAccountName" $root) }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The ConfigMap's BOOKSTORE_… variables, as YAML (name: value). */}}
{{- define "bookstore.configEnv" -}}
{{- $root := . -}}
{{- $env := dict -}}
{{- include "bookstore.flattenConfig" (dict "path" list "value" $root.Values.config "out" $env) -}}
{{- /* The chart's own keys win over `config`. */ -}}
{{- $_ := set $env "BOOKSTORE_DATA_DIR" "/tmp/bookstore" -}}
{{- range $service := splitList " " (include "bookstore.grpcServices" $root) -}}
{{- $values := get $root.Values.services $service -}}
{{- $_ := set $env (include "bookstore.envName" (list $service "listen")) (printf "%s:%d" $root.Values.listenAddress (int $values.port)) -}}
{{- $_ := set $env (include "bookstore.envName" (list $service "metrics_listen")) (printf "%s:%d" $root.Values.listenAddress (int $values.metricsPort)) -}}
{{- $_ := set $env (include "bookstore.envName" (list $service "endpoints")) (include "bookstore.endpoints" (dict "root" $root "service" $service)) -}}
{{- if and $root.Values.migrations.enabled (has $service (splitList " " (include "bookstore.sqlServices" $root))) -}}
{{- $_ := set $env (include "bookstore.envName" (list $service "migrate_on_start")) "false" -}}
{{- end -}}
{{- end -}}
{{- $_ := set $env "BOOKSTORE_BFF__LISTEN" (printf "%s:%d" $root.Values.listenAddress (int $root.Values.services.bff.port)) }}
{{- if not (hasKey $env "BOOKSTORE_DATABASE_POOL_SIZE") -}}
{{- $_ := set $env "BOOKSTORE_DATABASE_POOL_SIZE" (include "bookstore.databasePoolSize" $root) -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/*
PostgreSQL connections per SQL pod (`database_pool_size`): the server's connections less the
reserved ones, shared by every SQL pod that may run at once (each service's replicas, or its
autoscaler's maxReplicas, plus the one surge pod of a rolling update), at least 2 and at most
24 (the binary's own ceiling: past it a pod only queues in PostgreSQL).
*/}}
{{- define "bookstore.databasePoolSize" -}}
{{- $pool := .Values.databasePool -}}
{{- $pods := 0 -}}
{{- range $service := splitList " " (include "bookstore.sqlServices" .) -}}
{{- $values := get $.Values.services $service -}}
{{- $autoscaling := mergeOverwrite (deepCopy $.Values.autoscaling) ($values.autoscaling | default dict) -}}
{{- $replicas := ternary $autoscaling.maxReplicas $values.replicas (and $autoscaling.enabled true) -}}
{{- $pods = add $pods $replicas 1 -}}
{{- end -}}
{{- $share := div (sub (int $pool.maxConnections) (int $pool.reservedConnections)) $pods -}}
{{- max 2 (min 24 $share) -}}
{{- end -}}
