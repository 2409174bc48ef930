"""The bundle as a service under load: a real `ner-distill-infer --serve` process on 127.0.0.1, clients in this
process (`loadgen.service_load`) at 1, 8 and 64 concurrent clients with requests of 1 and 32 CoNLL-2003 test sentences as
raw text, each load bounded in requests and time; then a soak at 8 clients, the server's resident memory sampled from
start to end and every failure counted. Run it alone on an idle machine.

    python bench/serve_load.py [--bundle export/demo] [--soak-minutes 10]
"""
import argparse
import json
from pathlib import Path

from _common import ROOT, command, machine, write_section
from ner_distill import data, loadgen, sweep_tables

p = argparse.ArgumentParser()
p.add_argument("--bundle", default=str(ROOT / "export" / "demo"))
p.add_argument("--seconds", type=float, default=15.0, help="each load runs this long at most")
p.add_argument("--max-requests", type=int, default=3000, help="and at most this many requests")
p.add_argument("--soak-minutes", type=float, default=10.0)
p.add_argument("--max-concurrency", type=int, default=2)
a = p.parse_args()
bundle = Path(a.bundle)
texts = [" ".join(s) for s in data.conll2003("test").tokens]
srv = loadgen.Service(bundle / "ner_distill_infer.py", bundle, "--max-concurrency", a.max_concurrency)
srv.wait_ready()
rows = []
try:
    load = lambda clients, size, seconds, most: loadgen.service_load(srv.port, texts, clients, size, seconds, most)
    load(4, 1, 3, 500)                                   # warm-up
    for size in (1, 32):
        for clients in (1, 8, 64):
            rows.append(load(clients, size, a.seconds, a.max_requests)); print(rows[-1], flush=True)
    rss0 = srv.rss_mb()
    soak_rows, samples = loadgen.soak(lambda s: load(8, 1, s, 10 ** 9), a.soak_minutes, 30.0, 1.0, srv.rss_mb)
    soak = loadgen.soak_summary(soak_rows, [(0.0, rss0), *samples], rss0, srv.rss_mb())
finally:
    srv.stop(30)

print(write_section("serve-load", head=f"`{command()}` on {machine()}", a=a, bundle=bundle.name,
                    variant=json.loads((bundle / "manifest.json").read_text())["default_variant"],
                    table=sweep_tables.to_markdown(loadgen.load_table(rows)), soak=soak))
