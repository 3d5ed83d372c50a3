#!/usr/bin/env bash
# The chart's alerts, checked by Prometheus' own tool: renders templates/prometheusrule.yaml
# (prometheusRule.enabled, default thresholds, namespace `shop`), takes its rule groups, and
# runs `promtool check rules` on them and `promtool test rules` with .ci/alerts_test.yaml (each
# alert fired from synthetic series, and some not). Needs helm (.ci/helm_check.sh installs it
# into .ci/cache) and promtool (Debian's `prometheus` package; .ci/run installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
helm="${HELM:-$root/.ci/cache/bin/helm}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$helm" template bookstore "$root/helm/bookstore" --namespace shop --set prometheusRule.enabled=true \
  --show-only templates/prometheusrule.yaml >"$work/prometheusrule.yaml"
python3 - "$work/prometheusrule.yaml" "$work/rules.yaml" <<'PY'
import sys, yaml
rule = yaml.safe_load(open(sys.argv[1]))
assert rule["kind"] == "PrometheusRule", rule["kind"]
yaml.safe_dump({"groups": rule["spec"]["groups"]}, open(sys.argv[2], "w"), sort_keys=False)
alerts = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
print(f"{len(alerts)} alerts rendered: {', '.join(alerts)}")
PY
cp .ci/alerts_test.yaml "$work/alerts_test.yaml"
promtool check rules "$work/rules.yaml"
# Every alert has a unit test that fires it.
python3 - "$work/rules.yaml" "$work/alerts_test.yaml" <<'PY'
import sys, yaml
alerts = {r["alert"] for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"] if "alert" in r}
fired = {case["alertname"] for test in yaml.safe_load(open(sys.argv[2]))["tests"]
         for case in test.get("alert_rule_test", []) if case.get("exp_alerts")}
missing = sorted(alerts - fired)
assert not missing, f"alerts without a test that fires them: {missing}"
print(f"every alert ({len(alerts)}) has a test that fires it")
PY
(cd "$work" && promtool test rules alerts_test.yaml)
