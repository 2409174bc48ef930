"""The bundle's service under overload, driven by wrk (a real HTTP load generator): `ner-distill-infer --serve` in its
own process on 127.0.0.1, `wrk -t2` POSTing one fixed body (the first two CoNLL-2003 test sentences as raw text) at
64, 256 and 512 connections (64 is "1x"), then the same 512 connections against a server that refuses at once
(`--busy-delay 0`, the earlier behaviour) for comparison, then a soak at 256 connections with the server's resident
memory sampled. Answered requests, their latency (p50/p99/max, from the service's access log: wrk cannot tell a 200
from a 503) and refusals come from the access log; socket errors of every kind from wrk. Run it alone on an idle machine.

    python bench/serve_overload.py [--bundle export/demo] [--seconds 20] [--soak-minutes 10]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _common import ROOT, command, machine, write_section
from ner_distill import data, loadgen, sweep, sweep_tables

p = argparse.ArgumentParser()
p.add_argument("--bundle", default=str(ROOT / "export" / "demo"))
p.add_argument("--runtime", default=None, help="runtime file to serve with (default: the bundle's own ner_distill_infer.py)")
p.add_argument("--seconds", type=float, default=20.0, help="each load level runs this long")
p.add_argument("--soak-minutes", type=float, default=10.0)
p.add_argument("--max-concurrency", type=int, default=2)
a = p.parse_args()
if shutil.which("wrk") is None:
    sys.exit("wrk is not installed: `apt-get install -y wrk` (Debian's package), then run this again")
bundle = Path(a.bundle)
runtime = Path(a.runtime or bundle / "ner_distill_infer.py")
texts = [" ".join(s) for s in data.conll2003("test").tokens[:2]]
work = Path(tempfile.mkdtemp(prefix="serve-overload-"))
lua = work / "post.lua"
lua.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
               f"wrk.body = {json.dumps(json.dumps({'texts': texts}))}\n")


class Server:
    "`ner-distill-infer --serve` with an access log; its resident memory and the log lines since a mark."
    def __init__(self, *extra):
        self.log = work / f"access-{time.time_ns()}.jsonl"
        self.p = subprocess.Popen([sys.executable, str(runtime), "--bundle", str(bundle), "--serve", "--port", "0",
                                   "--max-concurrency", str(a.max_concurrency), "--access-log", str(self.log), *extra],
                                  stderr=subprocess.PIPE, text=True)
        self.port = int(re.search(r":(\d+)", self.p.stderr.readline()).group(1))
        self.variant = self.p.stderr.readline().strip()
        threading.Thread(target=self.p.stderr.read, daemon=True).start()   # keep draining its log
        wrk(self, 8, 3)                                  # until it answers, and warm
        wrk(self, 64, 5)

    def rss_mb(self) -> float:
        for line in open(f"/proc/{self.p.pid}/status"):
            if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
        return float("nan")

    def lines(self) -> int: return sum(1 for _ in open(self.log)) if self.log.exists() else 0

    def stop(self):
        self.p.terminate(); self.p.wait(60)


def wrk(srv: Server, conns: int, seconds: float) -> dict:
    "One wrk run; its totals, socket errors, and the access log's view of the same requests."
    while True:                                      # wait until the model is loaded
        r = subprocess.run(["curl", "-s", f"http://127.0.0.1:{srv.port}/ready"], capture_output=True, text=True)
        if '"ready"' in r.stdout: break
        time.sleep(0.2)
    mark = srv.lines()
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{round(seconds)}s", "-s", str(lua), f"http://127.0.0.1:{srv.port}/predict"],
                         capture_output=True, text=True).stdout
    time.sleep(1.5)                                  # the last held refusals are logged
    recs = [json.loads(line) for line in open(srv.log).readlines()[mark:]]
    ok = np.array([r["latency_ms"] for r in recs if r["status"] == 200])
    err = dict(zip(("connect", "read", "write", "timeout"),
                   map(int, re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", out).groups()))) \
        if "Socket errors" in out else dict(connect=0, read=0, write=0, timeout=0)
    return dict(connections=conns, seconds=seconds, answered=len(ok), answered_per_s=len(ok) / seconds,
                refused=sum(r["status"] == 503 for r in recs), other=sum(r["status"] not in (200, 503) for r in recs),
                **loadgen.percentiles(ok), socket_errors=sum(err.values()), errors=err,
                wrk_requests=int(re.search(r"(\d+) requests in", out).group(1)), rss_mb=srv.rss_mb())


def table(rows) -> str:
    base = rows[0]["answered_per_s"]
    ms = lambda x: "-" if x is None else f"{x:.0f}"
    return sweep_tables.to_markdown(pd.DataFrame([{
        "server": r["server"], "connections": r["connections"], "answered/s": f"{r['answered_per_s']:.0f}",
        "vs 64 connections": f"{r['answered_per_s'] / base:.2f}x", "refused (503)": f"{r['refused']:,}",
        "p50 ms": ms(r["p50"]), "p99 ms": ms(r["p99"]), "max ms": ms(r["max"]),
        "socket errors (connect/read/write/timeout)": "{connect}/{read}/{write}/{timeout}".format(**r["errors"]),
        "resident MB": f"{r['rss_mb']:.0f}"} for r in rows]))


load_before = os.getloadavg()[0]
rows = []
srv = Server()
try:
    for conns in (64, 256, 512):
        rows.append(dict(wrk(srv, conns, a.seconds), server="default")); print(rows[-1], flush=True)
    rss0, samples, t0 = srv.rss_mb(), [], time.time()
    soak = []
    while time.time() - t0 < 60 * a.soak_minutes:
        soak.append(wrk(srv, 256, round(min(60.0, max(5.0, 60 * a.soak_minutes - (time.time() - t0))))))
        samples.append((round((time.time() - t0) / 60, 1), soak[-1]["rss_mb"])); print(samples[-1], soak[-1]["socket_errors"], flush=True)
    rss1 = srv.rss_mb()
finally:
    srv.stop()
old = Server("--busy-delay", "0")
try: rows.append(dict(wrk(old, 512, a.seconds), server="refusing at once (--busy-delay 0)")); print(rows[-1], flush=True)
finally: old.stop()

s512 = rows[2]
print(write_section("serve-overload", head=f"`{command()}` on {machine()}, load average before: {load_before:.2f}",
                    a=a, bundle=bundle.name, runtime=os.path.relpath(runtime, ROOT), variant=srv.variant, table=table(rows),
                    goodput=s512["answered_per_s"] / rows[0]["answered_per_s"], p99x=s512["p99"] / rows[0]["p99"],
                    soak_req=sum(r["answered"] for r in soak), soak_refused=sum(r["refused"] for r in soak),
                    soak_errors=sum(r["socket_errors"] for r in soak), rss0=rss0, rss1=rss1, growth=100 * (rss1 - rss0) / rss0,
                    samples=", ".join(f"{m:g}: {r:.0f}" for m, r in samples)))
