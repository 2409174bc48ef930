"""Several endpoints: annotation throughput against 1, 2 and 4 replicas of a fake OpenAI-compatible server with a
fixed latency that answers one request at a time (as llama-cpp-python's server does), each in its own process, with
`max_in_flight=1` per endpoint. Also the client's own overhead per request: one endpoint answering at once.
Run it alone on an idle machine.

    python bench/endpoints.py [--latency 0.1] [--requests 200]
"""
import argparse
import faulthandler
import os
import subprocess
import sys
import tempfile

from _common import ROOT, command, machine, write_section
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
ideal = lambda n: a.requests * a.latency / n
lines = [f"| endpoints | wall s | requests/s | vs one endpoint | ideal s | overhead per request (ms) | requests per endpoint |",
         "|---:|---:|---:|---:|---:|---:|---|"]
for n, wall, rps, eps in rows:
    per = (wall * n / a.requests - a.latency) * 1000
    split = " / ".join(str(e["sent"]) for e in eps) if eps else str(a.requests)
    lines.append(f"| {n} | {wall:.2f} | {rps:.1f} | **{rps / base:.2f}x** | {ideal(n):.1f} | {per:.1f} | {split} |")
body = f"""## Several endpoints (`bench/endpoints.py`)

`{command()}` on {machine()}. {a.requests} CoNLL-2003 train sentences (zero-shot prompt) annotated through
`annotate(base_url=[...], max_in_flight=1)` (timed from the first request to the last answer) against 1, 2 and 4 fake OpenAI-compatible servers (ner_distill.annotate.fake_llm, each
in its own process) that take {a.latency * 1000:.0f} ms per request and answer one request at a time, as
llama-cpp-python's server does. Each request goes to the endpoint with the fewest requests in flight. The
overhead is the time per request each endpoint's slot spends beyond the server's latency (wall x endpoints /
requests - latency): the HTTP round trip, the openai client, parsing, the cache. Against one endpoint that
answers at once, one request at a time, a request takes {zero / a.requests * 1000:.1f} ms end to end.

{chr(10).join(lines)}

Goal: 2 endpoints >= 1.8x, 4 endpoints >= 3.5x.
"""
write_section("endpoints", body)
print(body)
