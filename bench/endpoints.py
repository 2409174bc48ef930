"""Several endpoints: annotation throughput against 1, 2 and 4 fake OpenAI-compatible servers of fixed latency that
answer one request at a time, each in its own process, and the client's own overhead per request. Run it alone.

    python bench/endpoints.py [--latency 0.1] [--requests 200]
"""
import argparse
import faulthandler
import os
import subprocess
import sys
import tempfile

import pandas as pd

from _common import command, machine, write_section
from ner_distill import sweep_tables
from ner_distill.annotate.run import annotate

faulthandler.dump_traceback_later(900, exit=True)   # never hang a machine
p = argparse.ArgumentParser()
p.add_argument("--latency", type=float, default=0.1, help="seconds each fake server takes per request")
p.add_argument("--requests", type=int, default=200)
a = p.parse_args()
os.environ.setdefault("OPENAI_API_KEY", "not-needed")


def servers(n, delay):
    procs = [subprocess.Popen([sys.executable, "-c", "from ner_distill.annotate.fake_llm import main; main()", "--delay", str(delay), "--serial"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(n)]
    return procs, [pr.stdout.readline().strip() for pr in procs]


def run(urls, offset):
    with tempfile.TemporaryDirectory() as out:   # a fresh cache: every request goes out
        r = annotate("train", "openai", out=out, limit=a.requests, seed=offset, base_url=urls, model="fake",
                       prompt="zero-shot", max_in_flight=1, progress=False)
        wall = r["parse"]["seconds"]            # the labelling itself, from first request to last answer
    assert r["parse"]["status"] == {"ok": a.requests}, r["parse"]["status"]
    return wall, r["parse"].get("endpoints")


rows, procs = [], []
try:
    zprocs, zurls = servers(1, 0.0)
    procs += zprocs
    run(zurls, 99)                                           # warm-up: imports, the dataset, the client
    zero, _ = run(zurls, 98)
    fprocs, furls = servers(4, a.latency)
    procs += fprocs
    for n in (1, 2, 4):
        wall, eps = run(furls[:n], n)
        rows.append((n, wall, a.requests / wall, eps))
finally:
    for pr in procs: pr.stdin.close(); pr.wait(timeout=10)

base = rows[0][2]
table = pd.DataFrame([{"endpoints": n, "wall s": f"{wall:.2f}", "requests/s": f"{rps:.1f}", "vs one endpoint": f"**{rps / base:.2f}x**",
                       "ideal s": f"{a.requests * a.latency / n:.1f}", "overhead per request (ms)": f"{(wall * n / a.requests - a.latency) * 1000:.1f}",
                       "requests per endpoint": " / ".join(str(e["sent"]) for e in eps) if eps else str(a.requests)}
                      for n, wall, rps, eps in rows])
print(write_section("endpoints", head=f"`{command()}` on {machine()}", a=a, ms=a.latency * 1000, zero=zero / a.requests * 1000,
                    table=sweep_tables.to_markdown(table)))
