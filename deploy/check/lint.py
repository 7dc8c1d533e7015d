#!/usr/bin/env python3
"""Checks of deploy/ that need no external tool, run by scripts/check-deploy (in its venv: PyYAML).

  lint.py metrics   ROOT [SCRAPE]          every metric and label the alert rules and the dashboard use is one
                                           quipd exports (its metrics macros in broker/src); with SCRAPE (a
                                           live /metrics text), every scraped name is one the macros declare
  lint.py dash-rules ROOT OUT              the dashboard's queries as a rules file, for `promtool check rules`
  lint.py k8s       ROOT                   cross-references of the Kubernetes manifests
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


# ---------------------------------------------------------------- what quipd exports

MACRO = re.compile(
    r'\b(counter|gauge|histogram)!\(\s*"([A-Za-z_:][A-Za-z0-9_:]*)"((?:\s*,\s*"[A-Za-z_][A-Za-z0-9_]*"\s*=>\s*[^,)]+)*)\s*\)',
    re.S,
)
DESCRIBE = re.compile(r'\bdescribe_(counter|gauge|histogram)!\(\s*"([A-Za-z_:][A-Za-z0-9_:]*)"', re.S)
LABEL = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*=>\s*([^,)]+)')


def exported(root: Path) -> dict[str, dict]:
    """name -> {"type": ..., "labels": {key: set of literal values, or None when computed}}."""
    out: dict[str, dict] = {}
    for path in sorted((root / "broker" / "src").rglob("*.rs")):
        text = path.read_text()
        for kind, name, labels in MACRO.findall(text):
            m = out.setdefault(name, {"type": kind, "labels": {}, "described": False})
            if m["type"] != kind:
                problem(f"broker/src: {name} is recorded both as a {m['type']} and as a {kind}")
            for key, value in LABEL.findall(labels):
                value = value.strip()
                lit = re.fullmatch(r'"([^"]*)"', value)
                cur = m["labels"].get(key, set())
                m["labels"][key] = None if (cur is None or not lit) else cur | {lit.group(1)}
        for kind, name in DESCRIBE.findall(text):
            m = out.setdefault(name, {"type": kind, "labels": {}, "described": True})
            m["described"] = True
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
# Prometheus' own series that a query may use besides quipd's.
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


def check_metrics(root: Path, scrape: Path | None) -> None:
    exp = exported(root)
    if not exp:
        problem("broker/src: no metrics::counter!/gauge!/histogram! call found (has the macro syntax changed?)")
        return
    telemetry = (root / "broker" / "src" / "telemetry.rs").read_text()
    buckets = "set_buckets" in telemetry
    series = {}
    for name, m in exp.items():
        for s in series_names(name, m["type"], buckets):
            series[s] = name
    codes = error_codes(root)
    all_labels = set(SCRAPE_LABELS) | {"le"} | {k for m in exp.values() for k in m["labels"]}

    for where, expr in alert_queries(root) + dashboard_queries(root):
        names, matchers, groups = analyse(grafana_vars(expr))
        for n in sorted(names):
            if n not in series and n not in BUILTIN:
                problem(f"{where}: {n} is not a metric quipd exports ({expr.strip()})")
        for metric, label, op, value in matchers:
            base = series.get(metric) if metric else None
            if metric and base is None:
                continue  # reported above, or a builtin
            allowed = set(SCRAPE_LABELS)
            if base:
                allowed |= set(exp[base]["labels"])
                if metric.endswith("_bucket"):
                    allowed.add("le")
            else:
                allowed = all_labels
            if label not in allowed:
                problem(f"{where}: {metric or 'selector'} has no label {label!r} (quipd sets {sorted(allowed)})")
                continue
            if not base or label not in exp[base]["labels"] or op not in ("=", "=~"):
                continue
            known = exp[base]["labels"][label]
            if known is None and label == "code":
                known = codes
            if known is None or (op == "=~" and not re.fullmatch(r"[A-Za-z0-9_|]+", value)):
                continue
            for v in value.split("|") if op == "=~" else [value]:
                if v not in known:
                    problem(f"{where}: {metric}{{{label}}} is never {v!r} (quipd sets {sorted(known)})")
        for g in sorted(groups - all_labels):
            problem(f"{where}: groups by {g!r}, a label no quipd metric has")

    if scrape is not None:
        text = scrape.read_text()
        scraped = set(re.findall(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{|\s)", text, re.M))
        if not scraped:
            problem("live scrape: /metrics returned no sample")
        for s in sorted(scraped - set(series)):
            problem(f"live scrape: quipd exports {s}, which the macros in broker/src do not declare "
                    "(lint.py's extraction needs updating)")


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
    for sm in by_kind("ServiceMonitor"):
        sel = sm["spec"]["selector"]["matchLabels"]
        hit = [s for s in services if matches(sel, s["metadata"].get("labels", {}))]
        if len(hit) != 1:
            problem(f"k8s: ServiceMonitor/{sm['metadata']['name']} selects {len(hit)} Services (want 1)")
        for ep in sm["spec"]["endpoints"]:
            if hit and ep["port"] not in {p.get("name") for p in hit[0]["spec"]["ports"]}:
                problem(f"k8s: ServiceMonitor/{sm['metadata']['name']} scrapes port {ep['port']!r}, "
                        f"which Service/{hit[0]['metadata']['name']} does not have")
            if hit and hit[0]["metadata"]["name"] != "quipd":
                problem("k8s: the ServiceMonitor's Service must be named quipd (job=\"quipd\" in alerts.yml)")

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
        check_metrics(root, Path(argv[3]) if len(argv) > 3 else None)
    elif cmd == "dash-rules":
        dash_rules(root, Path(argv[3]))
    elif cmd == "k8s":
        check_k8s(root)
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
