#!/usr/bin/env python3
"""Checks of deploy/ that need no external tool, run by scripts/check-deploy (in its venv: PyYAML).

  lint.py metrics   ROOT [SCRAPE [JOB]]    every metric and label the alert rules and the dashboard use is one
                                           quipd or quip-bridge exports (the metrics macros in broker/src and
                                           bridge/src), selected under the job that exports it; with SCRAPE (a
                                           live /metrics text), every scraped name is one the macros declare
                                           (with JOB, quipd or quip-bridge: declared by that program)
  lint.py dash-rules ROOT OUT              the dashboard's queries as a rules file, for `promtool check rules`
  lint.py k8s       ROOT                   cross-references of the Kubernetes manifests
  lint.py scrape    ROOT                   prometheus.yml's jobs scrape compose's admin listeners (not
                                           published beyond loopback); the systemd units keep them on loopback
  lint.py env       ROOT QUIPD_EXAMPLE     every QUIP_* / QUIP_BRIDGE_* variable set in deploy/ is a setting

Prints what is wrong and exits 1; prints nothing when all is well.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import yaml

PROBLEMS: list[str] = []


def problem(msg: str) -> None:
    PROBLEMS.append(msg)


# ---------------------------------------------------------------- what quipd and quip-bridge export

# The programs whose series the alerts and the dashboard may use: (scrape job, source tree, telemetry module).
SOURCES = [("quipd", "broker/src", "broker/src/telemetry.rs"), ("quip-bridge", "bridge/src", "bridge/src/telemetry.rs")]
# Where the recorder is built (histogram buckets): one recorder for both programs since quip-service has it.
RECORDER_FILES = ["service/src/metrics.rs", "broker/src/telemetry.rs", "bridge/src/telemetry.rs"]

MACRO_START = re.compile(r"\b(counter|gauge|histogram)!\(")
DESCRIBE = re.compile(r'\bdescribe_(counter|gauge|histogram)!\(\s*"([A-Za-z_:][A-Za-z0-9_:]*)"', re.S)
NAME_ARG = re.compile(r'"([A-Za-z_:][A-Za-z0-9_:]*)"')
LABEL_ARG = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*=>\s*(.+)', re.S)
# A computed label value that is an error code's name (quip_protocol's ErrorCode::name).
CODE_EXPR = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_.]*\.)?code(?:\.name\(\))?$")


def macro_args(text: str, start: int) -> list[str]:
    """The top-level, comma-separated arguments of the macro call whose `(` is at text[start - 1]."""
    args, depth, cur, i = [], 0, [], start
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append("".join(cur).strip())
                return [a for a in args if a]
            depth -= 1
        elif c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    return []


def match_arms(text: str, fn: str) -> set[str] | None:
    """The string literals a small `fn NAME(...) -> &'static str { match ... }` returns."""
    m = re.search(rf"\bfn {fn}\([^)]*\)\s*->\s*&'static str\s*\{{(.*?)\n\}}", text, re.S)
    return set(re.findall(r'=>\s*"([^"]*)"', m.group(1))) or None if m else None


def exported(root: Path) -> dict[str, dict]:
    """name -> {"type", "job", "labels": {key: set of values, or None when some are computed and unknown}}."""
    codes = error_codes(root)
    out: dict[str, dict] = {}
    for job, tree, telemetry in SOURCES:
        tpath = root / telemetry
        ttext = tpath.read_text() if tpath.is_file() else ""
        for path in sorted((root / tree).rglob("*.rs")):
            text = path.read_text()
            for m in MACRO_START.finditer(text):
                if text[max(0, m.start() - 9):m.start()].endswith("describe_"):
                    continue
                kind, args = m.group(1), macro_args(text, m.end())
                name = NAME_ARG.fullmatch(args[0]) if args else None
                if not name:
                    continue  # not a literal name: not a metric this check can see
                name = name.group(1)
                e = out.setdefault(name, {"type": kind, "job": job, "labels": {}})
                if e["type"] != kind:
                    problem(f"{tree}: {name} is recorded both as a {e['type']} and as a {kind}")
                if e["job"] != job:
                    problem(f"{name} is recorded by both {e['job']} and {job}")
                for arg in args[1:]:
                    lab = LABEL_ARG.fullmatch(arg)
                    if not lab:
                        continue
                    key, value = lab.group(1), lab.group(2).strip()
                    cur = e["labels"].get(key, set())
                    if cur is None:
                        continue
                    lit = re.fullmatch(r'"([^"]*)"', value)
                    if lit:
                        vals = {lit.group(1)}
                    elif CODE_EXPR.fullmatch(value):
                        vals = codes  # an ErrorCode's name
                    elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) and match_arms(ttext, value):
                        vals = match_arms(ttext, value)  # e.g. the bridge's `transport` labels
                    else:
                        vals = None
                    e["labels"][key] = None if vals is None else cur | vals
        for kind, name in DESCRIBE.findall(ttext):
            e = out.setdefault(name, {"type": kind, "job": job, "labels": {}})
    return out


def error_codes(root: Path) -> set[str]:
    text = (root / "protocol" / "src" / "family" / "errors.rs").read_text()
    block = re.search(r"error_codes!\s*\{(.*?)\n\}", text, re.S)
    return set(re.findall(r"^\s*([A-Z][A-Za-z0-9]*)\s*=\s*\d+", block.group(1), re.M)) if block else set()


def series_names(name: str, kind: str, histograms_have_buckets: bool) -> list[str]:
    if kind == "histogram":
        return [f"{name}_sum", f"{name}_count"] + ([f"{name}_bucket"] if histograms_have_buckets else [])
    return [name]


# ---------------------------------------------------------------- PromQL, just enough of it

STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}")
MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:\\.|[^"\\])*)"')
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
NUMBER = re.compile(r"(?<![A-Za-z0-9_:])(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)")
KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "Inf", "NaN"}
# Prometheus' own series that a query may use besides quipd's and quip-bridge's.
BUILTIN = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "ALERTS", "ALERTS_FOR_STATE"}
SCRAPE_LABELS = {"job", "instance", "namespace", "pod"}


def grafana_vars(expr: str) -> str:
    expr = re.sub(r"\$\{?__(rate_interval|interval|range)[^}\s\]]*\}?", "5m", expr)
    return re.sub(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*", ".*", expr)


def analyse(expr: str):
    """(metric names, [(metric or None, label, op, value)], grouping labels) of one PromQL expression."""
    matchers = []
    for name, body in SELECTOR.findall(expr):
        for label, op, value in MATCHER.findall(body):
            matchers.append((name or None, label, op, value))
    groups = set()
    for _, labels in GROUPING.findall(expr):
        groups |= {x.strip() for x in labels.split(",") if x.strip()}
    e = STRING.sub('""', expr)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = GROUPING.sub("", e)
    e = re.sub(r"\boffset\s+-?[0-9a-z]+", "", e)
    e = NUMBER.sub("", e)
    names = set()
    for m in IDENT.finditer(e):
        word = m.group(0)
        rest = e[m.end():].lstrip()
        if word in KEYWORDS or rest.startswith("("):
            continue  # a function, an aggregation or an operator
        names.add(word)
    return names, matchers, groups


def dashboard_queries(root: Path):
    """[(where, expr)] of the dashboard's panel targets, plus the metric names of its variables."""
    dash = json.loads((root / "deploy" / "grafana" / "dashboards" / "quip.json").read_text())
    out, ids = [], set()

    def walk(panels):
        for p in panels:
            if p.get("type") != "row":
                if p.get("id") in ids:
                    problem(f"dashboard: panel id {p.get('id')} is used twice")
                ids.add(p.get("id"))
                for key in ("gridPos", "title", "datasource"):
                    if key not in p:
                        problem(f"dashboard: panel {p.get('title')!r} has no {key}")
                if not p.get("targets"):
                    problem(f"dashboard: panel {p.get('title')!r} has no query")
            for t in p.get("targets", []):
                if "expr" not in t:
                    problem(f"dashboard: panel {p.get('title')!r} target {t.get('refId')} has no expr")
                    continue
                out.append((f"dashboard panel {p.get('title')!r} {t.get('refId')}", t["expr"]))
            walk(p.get("panels", []))

    walk(dash.get("panels", []))
    for var in dash.get("templating", {}).get("list", []):
        q = var.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        lv = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", q)
        if var.get("type") == "query":
            if not lv:
                problem(f"dashboard: variable {var.get('name')} is not a label_values(series, label) query")
                continue
            out.append((f"dashboard variable {var.get('name')}", lv.group(1)))
    return out


def alert_queries(root: Path):
    rules = yaml.safe_load((root / "deploy" / "prometheus" / "alerts.yml").read_text())
    return [
        (f"alert {r.get('alert') or r.get('record')}", r["expr"])
        for g in rules.get("groups", [])
        for r in g.get("rules", [])
    ]


def check_metrics(root: Path, scrape: Path | None, scrape_job: str | None = None) -> None:
    exp = exported(root)
    jobs = [job for job, _, _ in SOURCES]
    for job, tree, _ in SOURCES:
        if not any(m["job"] == job for m in exp.values()):
            problem(f"{tree}: no metrics::counter!/gauge!/histogram! call found (has the macro syntax changed?)")
    if not exp:
        return
    buckets = any("set_buckets" in (root / f).read_text() for f in RECORDER_FILES if (root / f).is_file())
    series = {}
    for name, m in exp.items():
        for s in series_names(name, m["type"], buckets):
            series[s] = name
    all_labels = set(SCRAPE_LABELS) | {"le"} | {k for m in exp.values() for k in m["labels"]}

    for where, expr in alert_queries(root) + dashboard_queries(root):
        names, matchers, groups = analyse(grafana_vars(expr))
        for n in sorted(names):
            if n not in series and n not in BUILTIN:
                problem(f"{where}: {n} is not a metric quipd or quip-bridge exports ({expr.strip()})")
        for metric, label, op, value in matchers:
            base = series.get(metric) if metric else None
            if metric and base is None:
                continue  # reported above, or a builtin
            if label == "job" and op == "=":
                if value not in jobs:
                    problem(f"{where}: job {value!r} is none of the scrape jobs {jobs}")
                elif base and exp[base]["job"] != value:
                    problem(f"{where}: {metric} is exported by {exp[base]['job']}, not by job {value!r}")
                continue
            allowed = set(SCRAPE_LABELS)
            if base:
                allowed |= set(exp[base]["labels"])
                if metric.endswith("_bucket"):
                    allowed.add("le")
            else:
                allowed = all_labels
            if label not in allowed:
                who = exp[base]["job"] if base else "quipd or quip-bridge"
                problem(f"{where}: {metric or 'selector'} has no label {label!r} ({who} sets {sorted(allowed)})")
                continue
            if not base or label not in exp[base]["labels"] or op not in ("=", "=~"):
                continue
            known = exp[base]["labels"][label]
            if known is None or (op == "=~" and not re.fullmatch(r"[A-Za-z0-9_|]+", value)):
                continue
            for v in value.split("|") if op == "=~" else [value]:
                if v not in known:
                    problem(f"{where}: {metric}{{{label}}} is never {v!r} ({exp[base]['job']} sets {sorted(known)})")
        for g in sorted(groups - all_labels):
            problem(f"{where}: groups by {g!r}, a label no quipd or quip-bridge metric has")

    if scrape is not None:
        text = scrape.read_text()
        scraped = set(re.findall(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{|\s)", text, re.M))
        who = scrape_job or "the scraped program"
        if not scraped:
            problem(f"live scrape of {who}: /metrics returned no sample")
        for s in sorted(scraped - set(series)):
            problem(f"live scrape: {who} exports {s}, which no metrics macro in broker/src or bridge/src "
                    "declares (lint.py's extraction needs updating)")
        if scrape_job:
            for s in sorted(x for x in scraped & set(series) if exp[series[x]]["job"] != scrape_job):
                problem(f"live scrape: {scrape_job} exports {s}, which the lint attributes to "
                        f"{exp[series[s]]['job']}")


def dash_rules(root: Path, out: Path) -> None:
    rules = []
    for i, (_, expr) in enumerate(dashboard_queries(root)):
        rules.append({"record": f"dashboard:query_{i}", "expr": grafana_vars(expr)})
    out.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, sort_keys=False))


# ---------------------------------------------------------------- Kubernetes cross-references

def docs(path: Path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def pod_specs(objs):
    for o in objs:
        if o.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
            yield o, o["spec"]["template"]


def matches(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_k8s(root: Path) -> None:
    k8s = root / "deploy" / "k8s"
    kust = yaml.safe_load((k8s / "kustomization.yaml").read_text())
    listed = set(kust.get("resources", []))
    for r in listed:
        if not (k8s / r).is_file():
            problem(f"k8s/kustomization.yaml: {r} does not exist")
    objs = []
    for path in sorted(k8s.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        ds = docs(path)
        crd = any("monitoring.coreos.com" in d.get("apiVersion", "") for d in ds)
        if not crd and path.name not in listed:
            problem(f"k8s/kustomization.yaml does not list {path.name}")
        if crd and path.name in listed:
            problem(f"k8s/kustomization.yaml lists {path.name}, which needs the Prometheus Operator's CRDs")
        for d in ds:
            if d.get("metadata", {}).get("namespace"):
                problem(f"k8s/{path.name}: {d['kind']}/{d['metadata']['name']} sets a namespace")
            objs.append(d)
    by_kind = lambda kind: [o for o in objs if o.get("kind") == kind]  # noqa: E731
    workloads = list(pod_specs(objs))
    configmaps = {o["metadata"]["name"]: o for o in by_kind("ConfigMap")}

    def ports_of(template):
        return {(p.get("name"), p.get("protocol", "TCP")) for c in template["spec"]["containers"]
                for p in c.get("ports", [])}

    for w, t in workloads:
        name = f"{w['kind']}/{w['metadata']['name']}"
        if not matches(w["spec"]["selector"]["matchLabels"], t["metadata"]["labels"]):
            problem(f"k8s: {name}'s selector does not match its pod template")
        names = {p for p, _ in ports_of(t)}
        for c in t["spec"]["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                port = c.get(probe, {}).get("httpGet", {}).get("port")
                if isinstance(port, str) and port not in names:
                    problem(f"k8s: {name} {probe} uses port {port!r}, which the container does not declare")
            for ref in c.get("envFrom", []):
                cm = ref.get("configMapRef", {}).get("name")
                if cm and cm not in configmaps:
                    problem(f"k8s: {name} reads ConfigMap {cm}, which no manifest defines")
        for v in t["spec"].get("volumes", []):
            cm = v.get("configMap", {}).get("name")
            if cm and cm not in configmaps:
                problem(f"k8s: {name} mounts ConfigMap {cm}, which no manifest defines")
        if w["kind"] == "StatefulSet":
            svc = [s for s in by_kind("Service") if s["metadata"]["name"] == w["spec"].get("serviceName")]
            if not svc or svc[0]["spec"].get("clusterIP") != "None":
                problem(f"k8s: {name}'s serviceName is not a headless Service of these manifests")

    services = by_kind("Service")
    for s in services:
        sel = s["spec"].get("selector", {})
        targets = [t for _, t in workloads if matches(sel, t["metadata"]["labels"])]
        if not targets:
            problem(f"k8s: Service/{s['metadata']['name']} selects no pod of these manifests")
        for p in s["spec"]["ports"]:
            tp = p.get("targetPort")
            if isinstance(tp, str) and not any((tp, p.get("protocol", "TCP")) in ports_of(t) for t in targets):
                problem(f"k8s: Service/{s['metadata']['name']} port {p.get('name')} targets {tp!r}/"
                        f"{p.get('protocol', 'TCP')}, which its pods do not declare")
    for pdb in by_kind("PodDisruptionBudget"):
        if not any(matches(pdb["spec"]["selector"]["matchLabels"], t["metadata"]["labels"]) for _, t in workloads):
            problem(f"k8s: PodDisruptionBudget/{pdb['metadata']['name']} selects no pod")
    jobs = [job for job, _, _ in SOURCES]
    monitored = set()
    for sm in by_kind("ServiceMonitor"):
        sel = sm["spec"]["selector"]["matchLabels"]
        hit = [s for s in services if matches(sel, s["metadata"].get("labels", {}))]
        if len(hit) != 1:
            problem(f"k8s: ServiceMonitor/{sm['metadata']['name']} selects {len(hit)} Services (want 1)")
        if sm["spec"].get("jobLabel"):
            problem(f"k8s: ServiceMonitor/{sm['metadata']['name']} sets jobLabel: the job must be the Service's name")
        for ep in sm["spec"]["endpoints"]:
            if hit and ep["port"] not in {p.get("name") for p in hit[0]["spec"]["ports"]}:
                problem(f"k8s: ServiceMonitor/{sm['metadata']['name']} scrapes port {ep['port']!r}, "
                        f"which Service/{hit[0]['metadata']['name']} does not have")
            if ep["port"] != "admin":
                problem(f"k8s: ServiceMonitor/{sm['metadata']['name']} scrapes port {ep['port']!r}, not the admin one")
        if hit:
            name = hit[0]["metadata"]["name"]
            if name not in jobs:
                problem(f"k8s: ServiceMonitor/{sm['metadata']['name']} scrapes Service/{name}, so job={name!r}, "
                        f"which alerts.yml and the dashboard do not use (they use {jobs})")
            monitored.add(name)
    if by_kind("ServiceMonitor"):
        for job in jobs:
            if job not in monitored:
                problem(f"k8s: no ServiceMonitor scrapes a Service named {job} (job={job!r} in alerts.yml)")

    # The listen addresses the programs are configured with vs the container ports declared for them, and
    # the prometheus.io/port annotation vs the admin port.
    def port_of(addr):
        host, _, port = str(addr).rpartition(":")
        return host, int(port) if port.isdigit() else None

    quipd_toml = tomllib.loads(configmaps.get("quipd-config", {}).get("data", {}).get("quipd.toml", "") or "")
    bridge_env = configmaps.get("quip-bridge-config", {}).get("data", {})
    listens = {
        "quipd": {"quic": quipd_toml.get("listen"), "admin": quipd_toml.get("admin", {}).get("listen")},
        "quip-bridge": {"http": bridge_env.get("QUIP_BRIDGE_LISTEN"), "admin": bridge_env.get("QUIP_BRIDGE_ADMIN_LISTEN")},
    }
    for w, t in workloads:
        wname = w["metadata"]["name"]
        declared = {p.get("name"): p.get("containerPort") for c in t["spec"]["containers"] for p in c.get("ports", [])}
        for port_name, addr in listens.get(wname, {}).items():
            if addr is None:
                problem(f"k8s: {wname}'s configuration does not set the listen address of its port {port_name!r}")
                continue
            host, port = port_of(addr)
            if port != declared.get(port_name):
                problem(f"k8s: {wname} listens on {addr} for {port_name!r}, but the container port is "
                        f"{declared.get(port_name)}")
            if host not in ("0.0.0.0", "[::]"):
                problem(f"k8s: {wname} listens on {addr} for {port_name!r}: the kubelet and Prometheus cannot reach it")
        ann = t["metadata"].get("annotations", {})
        if "prometheus.io/port" in ann and str(ann["prometheus.io/port"]) != str(declared.get("admin")):
            problem(f"k8s: {wname}'s prometheus.io/port is {ann['prometheus.io/port']}, its admin port "
                    f"{declared.get('admin')}")

    # Grace period vs the drain timeout of quipd's own config.
    cfg = configmaps.get("quipd-config", {}).get("data", {}).get("quipd.toml")
    if cfg is None:
        problem("k8s: ConfigMap quipd-config has no quipd.toml")
        return
    drain_s = tomllib.loads(cfg).get("shutdown", {}).get("drain_timeout_ms", 10_000) / 1000
    for w, t in workloads:
        if w["metadata"]["name"] == "quipd":
            grace = t["spec"].get("terminationGracePeriodSeconds", 30)
            if grace < drain_s + 15:
                problem(f"k8s: quipd's terminationGracePeriodSeconds {grace} < drain_timeout {drain_s:g} s + 15 s")


# ---------------------------------------------------------------- scrape targets (compose, systemd)

# The setting of each program's admin listener (the one Prometheus scrapes).
ADMIN_ENV = {"quipd": "QUIP_ADMIN_LISTEN", "quip-bridge": "QUIP_BRIDGE_ADMIN_LISTEN"}


def check_scrape(root: Path) -> None:
    d = root / "deploy"
    prom = yaml.safe_load((d / "prometheus" / "prometheus.yml").read_text())
    compose = yaml.safe_load((d / "compose.yaml").read_text())
    services = compose.get("services", {})
    jobs = {j["job_name"]: j for j in prom.get("scrape_configs", [])}
    for job, env in ADMIN_ENV.items():
        if job not in jobs:
            problem(f"prometheus.yml: no scrape job {job!r} (alerts.yml and the dashboard select on it)")
            continue
        targets = [t for sc in jobs[job].get("static_configs", []) for t in sc.get("targets", [])]
        if not targets:
            problem(f"prometheus.yml: job {job} has no static target")
        for target in targets:
            host, _, port = target.rpartition(":")
            svc = services.get(host)
            if svc is None:
                problem(f"prometheus.yml: job {job} scrapes {target}, but compose.yaml has no service {host!r}")
                continue
            senv = svc.get("environment", {})
            listen = str(senv.get(env, "")) if isinstance(senv, dict) else ""
            if listen.rpartition(":")[2] != port:
                problem(f"prometheus.yml: job {job} scrapes {target}, but compose.yaml's {host} sets "
                        f"{env}={listen or '(unset: loopback only)'}")
            elif not listen.startswith("0.0.0.0:"):
                problem(f"compose.yaml: {host}'s {env}={listen} is not reachable from Prometheus' container")
            admin_port = listen.rpartition(":")[2]
            for published in svc.get("ports", []):
                parts = str(published).split("/")[0].split(":")
                if admin_port and parts[-1] == admin_port and (len(parts) < 3 or parts[0] not in ("127.0.0.1", "[::1]")):
                    problem(f"compose.yaml: {host} publishes its admin port {admin_port} beyond loopback ({published})")
    if jobs.get("quip-bridge") and "8080" in str(jobs["quip-bridge"].get("static_configs")):
        problem("prometheus.yml: job quip-bridge scrapes the client port 8080; /metrics is on the admin port")
    for unit, env in (("quipd.service", ADMIN_ENV["quipd"]), ("quip-bridge.service", ADMIN_ENV["quip-bridge"])):
        for line in (d / "systemd" / unit).read_text().splitlines():
            if line.startswith(f"Environment={env}="):
                addr = line.split("=", 2)[2]
                if not (addr.startswith("127.0.0.1:") or addr.startswith("[::1]:")):
                    problem(f"systemd/{unit}: {env}={addr} is not loopback")


# ---------------------------------------------------------------- QUIP_* variables

def flatten(prefix: str, table: dict, out: set) -> None:
    for k, v in table.items():
        name = f"{prefix}_{k.upper()}"
        if isinstance(v, dict):
            flatten(name, v, out)
        else:
            out.add(name)


def bridge_example(root: Path) -> str | None:
    path = root / "bridge" / "src" / "config.rs"
    if not path.is_file():
        return None
    m = re.search(r'pub const EXAMPLE: &str = r#"(.*?)"#;', path.read_text(), re.S)
    return m.group(1) if m else None


def used_env(root: Path):
    """[(where, NAME)] of every QUIP_* variable the deployment files set."""
    d = root / "deploy"
    out = []
    compose = yaml.safe_load((d / "compose.yaml").read_text())
    for svc, spec in compose.get("services", {}).items():
        env = spec.get("environment", {})
        keys = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
        out += [(f"compose.yaml {svc}", k) for k in keys]
    for unit in sorted((d / "systemd").glob("*.service")):
        for line in unit.read_text().splitlines():
            if line.startswith("Environment="):
                out.append((f"systemd/{unit.name}", line.split("=", 2)[1]))
    for line in (d / "Dockerfile").read_text().splitlines():
        out += [("Dockerfile", n) for n in re.findall(r"\b(QUIP_[A-Z0-9_]+)=", line)]
    for path in sorted((d / "k8s").glob("*.yaml")):
        for doc in docs(path):
            if doc.get("kind") == "ConfigMap":
                out += [(f"k8s/{path.name}", k) for k in doc.get("data", {}) if k.startswith("QUIP_")]
            for _, t in pod_specs([doc]):
                for c in t["spec"]["containers"]:
                    out += [(f"k8s/{path.name}", e["name"]) for e in c.get("env", [])]
    return [(w, n) for w, n in out if n.startswith("QUIP_")]


def check_env(root: Path, quipd_example: Path) -> None:
    quipd = {"QUIP_CONFIG"}
    flatten("QUIP", tomllib.loads(quipd_example.read_text()), quipd)
    bridge_text = bridge_example(root)
    bridge = None
    if bridge_text is not None:
        bridge = set()
        flatten("QUIP_BRIDGE", tomllib.loads(bridge_text), bridge)
    skipped = False
    for where, name in used_env(root):
        if name.startswith("QUIP_BRIDGE_"):
            if bridge is None:
                skipped = True
            elif name not in bridge:
                problem(f"{where}: {name} is not a quip-bridge setting (bridge/src/config.rs EXAMPLE)")
        elif name not in quipd:
            problem(f"{where}: {name} is not a quipd setting (`quipd config example`)")
    if skipped:
        print("QUIP_BRIDGE_* names not checked: bridge/src/config.rs has no EXAMPLE yet")


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, root = argv[1], Path(argv[2])
    if cmd == "metrics":
        check_metrics(root, Path(argv[3]) if len(argv) > 3 else None, argv[4] if len(argv) > 4 else None)
    elif cmd == "dash-rules":
        dash_rules(root, Path(argv[3]))
    elif cmd == "k8s":
        check_k8s(root)
    elif cmd == "scrape":
        check_scrape(root)
    elif cmd == "env":
        check_env(root, Path(argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for p in PROBLEMS:
        print(p)
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
