"""The bundle as a service under load: a real `ner-distill-infer --serve` process on 127.0.0.1, clients in this
(separate) process. Requests/s and latency percentiles at 1, 8 and 64 concurrent clients, with requests of one
sentence and of 32 sentences (CoNLL-2003 test sentences as raw text), each load bounded in requests and time; then
a soak of `--soak-minutes` at 8 clients, with the server's resident memory sampled from start to end and every
failure counted. Run it alone on an idle machine.

    python bench/serve_load.py [--bundle export/demo] [--soak-minutes 10]
"""
import argparse
import http.client
import json
import re
import statistics as st
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import ROOT, command, machine, write_section
from ner_distill import data

p = argparse.ArgumentParser()
p.add_argument("--bundle", default=str(ROOT / "export" / "demo"))
p.add_argument("--seconds", type=float, default=15.0, help="each load runs this long at most")
p.add_argument("--max-requests", type=int, default=3000, help="and at most this many requests")
p.add_argument("--soak-minutes", type=float, default=10.0)
p.add_argument("--max-concurrency", type=int, default=2)
a = p.parse_args()
bundle = Path(a.bundle)
texts = [" ".join(s) for s in data.conll2003("test").tokens]

srv = subprocess.Popen([sys.executable, str(bundle / "ner_distill_infer.py"), "--bundle", str(bundle), "--serve", "--port", "0",
                        "--max-concurrency", str(a.max_concurrency)], stderr=subprocess.PIPE, text=True)
port = int(re.search(r":(\d+)", srv.stderr.readline()).group(1))
threading.Thread(target=srv.stderr.read, daemon=True).start()


def rss_mb() -> float:
    for line in open(f"/proc/{srv.pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
    return float("nan")


def load(clients: int, size: int, seconds: float, max_requests: int):
    "Run `clients` threads, each on one keep-alive connection, until the time or request bound; latencies and failures."
    lat, fails, lock, count = [], [], threading.Lock(), [0]
    stop_at = time.perf_counter() + seconds
    def client(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = k * 7919
        while time.perf_counter() < stop_at:
            with lock:
                if count[0] >= max_requests: return
                count[0] += 1
            body = json.dumps({"texts": [texts[(i + j) % len(texts)] for j in range(size)]}).encode(); i += size
            t = time.perf_counter()
            try:
                conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
                r = conn.getresponse(); r.read()
                ok = r.status == 200
                if r.getheader("Connection", "").lower() == "close": conn.close(); conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            except Exception as e:
                ok = False; conn.close(); conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60); r = e
            with lock:
                (lat if ok else fails).append(1000 * (time.perf_counter() - t) if ok else getattr(r, "status", type(r).__name__))
    t0 = time.perf_counter()
    ts = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in ts: t.start()
    for t in ts: t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    return dict(clients=clients, size=size, requests=len(lat) + len(fails), rps=len(lat) / wall, p50=st.median(lat),
                p99=lat[int(0.99 * (len(lat) - 1))], failures=len(fails), failure_kinds=sorted(set(map(str, fails))))


for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5); c.request("GET", "/ready")
        if c.getresponse().status == 200: break
    except OSError: pass
    time.sleep(0.1)

rows = []
try:
    load(4, 1, 3, 500)                                   # warm-up
    for size in (1, 32):
        for clients in (1, 8, 64):
            rows.append(load(clients, size, a.seconds, a.max_requests)); print(rows[-1], flush=True)
    rss0 = rss_mb()
    samples, soak_rows, t_end = [(0.0, rss0)], [], time.time() + 60 * a.soak_minutes
    while time.time() < t_end:
        soak_rows.append(load(8, 1, min(30.0, max(1.0, t_end - time.time())), 10 ** 9))
        samples.append((round((time.time() - (t_end - 60 * a.soak_minutes)) / 60, 1), rss_mb()))
        print(samples[-1], soak_rows[-1]["failures"], flush=True)
    rss1 = rss_mb()
finally:
    srv.terminate(); srv.wait(30)

soak_req = sum(r["requests"] for r in soak_rows)
soak_fail = sum(r["failures"] for r in soak_rows)
table = "\n".join(f"| {r['size']} | {r['clients']} | {r['requests']:,} | **{r['rps']:.1f}** | {r['rps'] * r['size']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['failures']} |"
                  for r in rows)
write_section("serve-load", f"""## The bundle as a service under load (`bench/serve_load.py`)

`{command()}` on {machine()}. Server: `ner-distill-infer --serve --max-concurrency {a.max_concurrency}` (defaults otherwise:
`--max-queue 64`, `--timeout 30`) of the bundle `{bundle.name}` ({json.loads((bundle / 'manifest.json').read_text())['default_variant']}),
in its own process; clients in this process on 127.0.0.1, each thread on one keep-alive connection; requests of 1 or 32
CoNLL-2003 test sentences as raw text; each load bounded to {a.seconds:g} s and {a.max_requests:,} requests.

| sentences per request | concurrent clients | requests | requests/s | sentences/s | p50 ms | p99 ms | failed |
|---|---|---|---|---|---|---|---|
{table}

Soak: {a.soak_minutes:g} minutes at 8 clients, one-sentence requests: {soak_req:,} requests, **{soak_fail} failed**; the server's
resident memory {rss0:.0f} MB at the start and {rss1:.0f} MB at the end (**{100 * (rss1 - rss0) / rss0:+.1f} %**); samples (minutes, MB):
{', '.join(f'{m:g}: {r:.0f}' for m, r in samples)}.
""")
