"""The bundle's service under overload, driven by wrk (a real HTTP load generator): `ner-distill-infer --serve` in its
own process on 127.0.0.1, `wrk -t2` POSTing one fixed body (the first two CoNLL-2003 test sentences as raw text) at
64, 256 and 512 connections (64 is "1x"), then the same 512 connections against a server that refuses at once
(`--busy-delay 0`, the earlier behaviour) for comparison, then a soak at 256 connections with the server's resident
memory sampled. Answered requests, their latency (p50/p99/max, from the service's access log: wrk cannot tell a 200
from a 503) and refusals come from the access log; socket errors of every kind from wrk. Run it alone on an idle machine.

    python bench/serve_overload.py [--bundle export/demo] [--seconds 20] [--soak-minutes 10]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, command, machine, write_section
from ner_distill import data, loadgen, sweep_tables

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
work = Path(tempfile.mkdtemp(prefix="serve-overload-"))
lua = loadgen.wrk_script(work / "post.lua", {"texts": [" ".join(s) for s in data.conll2003("test").tokens[:2]]})


def server(*extra) -> loadgen.Service:
    "`ner-distill-infer --serve` with an access log, answering and warm."
    srv = loadgen.Service(runtime, bundle, "--max-concurrency", a.max_concurrency, *extra,
                          access_log=work / f"access-{time.time_ns()}.jsonl", variant_line=True)
    loadgen.wrk_load(srv, lua, 8, 3)                 # until it answers, and warm
    loadgen.wrk_load(srv, lua, 64, 5)
    return srv


load_before = os.getloadavg()[0]
rows = []
srv = server()
try:
    for conns in (64, 256, 512):
        rows.append(dict(loadgen.wrk_load(srv, lua, conns, a.seconds), server="default")); print(rows[-1], flush=True)
    rss0 = srv.rss_mb()
    soak, samples = loadgen.soak(lambda s: loadgen.wrk_load(srv, lua, 256, round(s)), a.soak_minutes, 60.0, 5.0, srv.rss_mb)
    soak = loadgen.soak_summary(soak, samples, rss0, srv.rss_mb(), counts=("answered", "refused", "socket_errors"))
finally:
    srv.stop()
old = server("--busy-delay", "0")
try: rows.append(dict(loadgen.wrk_load(old, lua, 512, a.seconds), server="refusing at once (--busy-delay 0)")); print(rows[-1], flush=True)
finally: old.stop()

s512 = rows[2]
print(write_section("serve-overload", head=f"`{command()}` on {machine()}, load average before: {load_before:.2f}",
                    a=a, bundle=bundle.name, runtime=os.path.relpath(runtime, ROOT), variant=srv.variant,
                    table=sweep_tables.to_markdown(loadgen.overload_table(rows)),
                    goodput=s512["answered_per_s"] / rows[0]["answered_per_s"], p99x=s512["p99"] / rows[0]["p99"], soak=soak))
