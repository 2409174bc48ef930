"""Better LLM labels: few-shot demonstrations retrieved from the gold pool (`--demos similar|entities`) and the
schema's conventions (`--conventions`), against today's random demonstrations, for a local instruct model served by
llama-cpp-python on 127.0.0.1 (2 threads, one request in flight, temperature 0). Each setting labels the 100 choosing
dev sentences; the best by label F1 and today's setting then label the other 300, each in a fresh run folder (no
request cache): label F1 per type and wall-clock sentences/s. Writes the "llm-demos" section. Run it ALONE:

    python bench/llm_demos.py [--model qwen2.5-coder-1.5b] [--settings random-5 similar-8 ...]
    python bench/llm_demos.py --parallel 4 --out llm-demos-parallel --settings random-5 similar-8   # llama-server
"""
import argparse
import time

from _common import ROOT, command, machine, render, write_section
from ner_distill import study, sweep_tables
from ner_distill.annotate.local_llm import ANNOTATE_BASE, MODELS, describe, exit_on_sigterm, fetch, served

FEW, GOLD = dict(prompt="few-shot", json_mode=False), dict(demo_pool=1000)   # seed 0's gold pool: 1,000 train sentences
SETTINGS = {"random-5": dict(FEW, k_shot=5),                                # today's: 5 drawn once from all of train
            "random-8": dict(FEW, **GOLD, k_shot=8),
            "similar-4": dict(FEW, **GOLD, k_shot=4, demos="similar"),
            "similar-4+conventions": dict(FEW, **GOLD, k_shot=4, demos="similar", conventions=True),
            "similar-8": dict(FEW, **GOLD, k_shot=8, demos="similar"),
            "entities-8": dict(FEW, **GOLD, k_shot=8, demos="entities"),
            "similar-8+conventions": dict(FEW, **GOLD, k_shot=8, demos="similar", conventions=True),
            "entities-8+conventions": dict(FEW, **GOLD, k_shot=8, demos="entities", conventions=True)}
BASELINE = "random-5"

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--model", default="qwen2.5-coder-1.5b", choices=[m for m in MODELS if m.startswith("qwen")])
p.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
p.add_argument("--threads", type=int, default=2)
p.add_argument("--port", type=int, default=8768)
p.add_argument("--parallel", type=int, default=0, help="llama.cpp's own server with this many slots, as many requests in flight")
p.add_argument("--select-only", action="store_true", help="stop after the 100 choosing sentences (no 300-sentence figures)")
p.add_argument("--note", default="", help="how the machine was kept idle while the answers were asked, for the section")
p.add_argument("--out", default="llm-demos", help="folder under runs/ (a server setting of its own keeps its own runs)")
a = p.parse_args()
exit_on_sigterm()
OUT = ROOT / "runs" / a.out / a.model
BASE = dict(ANNOTATE_BASE, max_in_flight=max(1, a.parallel))
OUT.mkdir(parents=True, exist_ok=True)
t0, info = time.time(), fetch(a.model)
ev, sel = study.dev_files(ROOT / "runs" / "local-llm", [300], 100, 400)      # the local-llm section's sentences
with open(OUT.parent / f"{a.model}-server.log", "a") as log, served(MODELS[a.model], info["file"], a.port, a.threads, log=log, parallel=a.parallel) as url:
    best, rows = study.measure_forms(url, a.model, {k: SETTINGS[k] for k in a.settings}, sel, None if a.select_only else ev[300],
                                     OUT, BASE, progress=True)
    if best != BASELINE and not a.select_only: rows += study.measure_forms(url, a.model, {BASELINE: SETTINGS[BASELINE]}, None, ev[300], OUT, BASE, progress=True)[1]
evals = [r for r in rows if r["part"] == "eval"]
server = (f"llama.cpp's own llama-server ({a.parallel} parallel slots, {a.parallel} requests in flight)" if a.parallel else
          "llama-cpp-python's server (one request at a time, one in flight)")
print(write_section(a.out, render("llm-demos", suffix=f", llama-server with {a.parallel} slots" if a.parallel else "", head=f"`{command()}` on {machine()}", minutes=(time.time() - t0) / 60, model=describe(a.model, info),
                    threads=a.threads, best=best, server=server, note=a.note, settings="\n".join(f"- `{k}`: {v}" for k, v in SETTINGS.items() if k in a.settings),
                    select=sweep_tables.to_markdown(study.demo_table([r for r in rows if r["part"] == "select"], BASELINE, wall=False)),
                    eval=sweep_tables.to_markdown(study.demo_table(evals, BASELINE), "(not measured in this call: --select-only)"))))
