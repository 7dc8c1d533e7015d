"""Parses Prometheus text exposition files with the reference Python parser (prometheus_client) and
prints every sample as JSON: {"file": [{"name", "labels", "value"}, ...]}. A file that does not parse
exits non-zero with the parser's error."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

out = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    samples = []
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.append({"name": s.name, "labels": s.labels, "value": s.value, "type": family.type})
    out[path] = samples
print(json.dumps(out))
