"""Several endpoints: annotation throughput against 1, 2 and 4 fake OpenAI-compatible servers of fixed latency that
answer one request at a time, each in its own process, and the client's own overhead per request. Run it alone.

    python bench/endpoints.py [--latency 0.1] [--requests 200]
"""
import argparse
import faulthandler
import os

from _common import command, machine, write_section
from ner_distill import sweep_tables
from ner_distill.loadgen import endpoints_run, endpoints_table, fake_servers

faulthandler.dump_traceback_later(900, exit=True)   # never hang a machine
p = argparse.ArgumentParser()
p.add_argument("--latency", type=float, default=0.1, help="seconds each fake server takes per request")
p.add_argument("--requests", type=int, default=200)
a = p.parse_args()
os.environ.setdefault("OPENAI_API_KEY", "not-needed")

with fake_servers(1, 0.0) as zurls:
    endpoints_run(zurls, a.requests, 99)                     # warm-up: imports, the dataset, the client
    zero, _ = endpoints_run(zurls, a.requests, 98)
    with fake_servers(4, a.latency) as furls:
        rows = [(n, wall, a.requests / wall, eps) for n in (1, 2, 4) for wall, eps in [endpoints_run(furls[:n], a.requests, n)]]

print(write_section("endpoints", head=f"`{command()}` on {machine()}", a=a, ms=a.latency * 1000, zero=zero / a.requests * 1000,
                    table=sweep_tables.to_markdown(endpoints_table(rows, a.requests, a.latency))))
