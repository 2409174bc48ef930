"""The closed network's own LLM as a teacher, measured: Qwen2.5-Coder-0.5B and -1.5B Instruct (Q4_K_M GGUF, from their
PyPI parts) and Gemma-3-270M base, each served by llama-cpp-python's OpenAI-compatible server on 127.0.0.1 with one
request in flight, label CoNLL-2003 dev sentences through `ner-distill annotate --teacher openai`. For each Qwen model
the prompt form (zero-shot, few-shot, few-shot + the answer's JSON schema) is chosen by label F1 on SELECT dev
sentences, then measured on N OTHER dev sentences: label F1 per type against gold, seconds per sentence, the share of
answers that parse. Gemma-270M, the reference, keeps the form measured for it before (5-shot chat, stop sequences; its
JSON grammar took 10-20 s an answer). Writes the "local-llm" section of BENCHMARKS.md. Run it alone, under the lock:

    flock /tmp/ner-heavy.lock python bench/local_llm.py [--n 300] [--select 100] [--models qwen2.5-coder-0.5b,...]

Resumable: every answer is in its run folder's request cache (runs/local-llm/MODEL/FORM-{select,eval}/cache.sqlite),
so a killed run, or a larger --n, sends only what was never answered. Needs .venv-llm (see `ner-distill llm --help`).
"""
import argparse
import faulthandler
import json
import os
import time

from _common import ROOT, command, machine, render, write_section
from ner_distill.annotate.local_llm import ANNOTATE_BASE, GEMMA_FORMS, MODELS, PROMPT_FORMS, describe, exit_on_sigterm, fetch, served
from ner_distill import study, sweep_tables

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=300, help="dev sentences measured per model")
p.add_argument("--select", type=int, default=100, help="other dev sentences that choose the prompt form")
p.add_argument("--models", default="qwen2.5-coder-0.5b,qwen2.5-coder-1.5b,gemma-3-270m")
p.add_argument("--threads", type=int, default=2, help="the server's threads (generation and prompt)")
p.add_argument("--port", type=int, default=8766)
p.add_argument("--phase", choices=("all", "select"), default="all", help="select: only the form selection")
p.add_argument("--no-write", action="store_true", help="print the tables, leave BENCHMARKS.md alone")
p.add_argument("--cap", action="append", default=[], metavar="MODEL=N",
               help="measure MODEL on its first N sentences only (the rest of --n left for a later, resumed run)")
p.add_argument("--note", default="", help="a closing paragraph for the section (e.g. what a partial run left out)")
a = p.parse_args()
faulthandler.dump_traceback_later(4 * 3600, exit=True)   # never hang a machine
exit_on_sigterm()                                        # a killed run stops its server too
os.environ.setdefault("OPENAI_API_KEY", "not-needed")
OUT = ROOT / "runs" / "local-llm"
POOL = 400                                  # the first N of a seeded sample of 400 are measured, its last 100 choose

CAPS = {k: int(v) for k, v in (c.split("=") for c in a.cap)}


def measure(name, ev, sel):
    "Model `name` fetched, served and measured (`study.measure_forms`); the form it chose is left for bench/local_teacher.py."
    info = fetch(name)                                  # verified: magic, architecture, name, size, sha256
    forms = GEMMA_FORMS if name.startswith("gemma") else PROMPT_FORMS
    measured = ev[CAPS.get(name, a.n)] if a.phase == "all" else None
    with open(OUT / f"{name}-server.log", "a") as log, served(MODELS[name], info["file"], a.port, a.threads, log=log) as url:
        best, rows = study.measure_forms(url, name, forms, sel, measured, OUT / name, ANNOTATE_BASE, progress=True)
    (OUT / name).mkdir(parents=True, exist_ok=True)
    (OUT / name / "chosen.json").write_text(json.dumps(dict(form=best)))     # the form bench/local_teacher.py labels with
    return info, best, rows


t0 = time.time()
ev, sel = study.dev_files(OUT, [a.n, *CAPS.values()], a.select, POOL)
results = {name: measure(name, ev, sel) for name in a.models.split(",")}
sel_rows = [r for _, _, rows in results.values() for r in rows if r["part"] == "select"]
evals = {n: next((r for r in rows if r["part"] == "eval"), None) for n, (_, _, rows) in results.items()}
body = render("local-llm", head=f"`{command()}` on {machine()}", minutes=(time.time() - t0) / 60, a=a, max_tokens=ANNOTATE_BASE["max_tokens"],
              pool=POOL, files="\n".join(describe(n, info) for n, (info, _, _) in results.items()),
              sel=sweep_tables.to_markdown(study.form_table(sel_rows, {n: b for n, (_, b, _) in results.items()}), "(no selection run)"),
              ev=sweep_tables.to_markdown(study.llm_table(evals, "gemma-3-270m"), "(no measured run)"),
              details="\n".join(f"- {n}: statuses {json.dumps(r['status'])}; faults {json.dumps(r['faults'])}; entities {json.dumps(r['entities'])}; "
                                f"errors against gold {json.dumps(r['errors'])}" for n, r in evals.items() if r))
print(body)
if not a.no_write and a.phase == "all": write_section("local-llm", body)
