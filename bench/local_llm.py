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
import sys
import time

import pandas as pd

from _common import ROOT, command, machine, write_section
from _common import BASE, FORMS, GEMMA
from ner_distill.annotate.local_llm import MODELS, exit_on_sigterm, fetch, served
from ner_distill import data, formats, sweep, sweep_tables
from ner_distill.annotate.run import annotate

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


def sentences():
    "(measured files by N, choosing file) of dev sentences, disjoint, as files that keep their ids."
    OUT.mkdir(parents=True, exist_ok=True)
    pool = data.gold_pool(data.load_dataset("conll2003").split("dev"), POOL, seed=0)
    assert a.n <= POOL - a.select, f"--n {a.n} + --select {a.select} > {POOL}"
    evs = {n: OUT / f"dev-eval-{n}.jsonl" for n in {a.n, *CAPS.values()}}
    for n, f in evs.items(): formats.write_jsonl(formats.Corpus(pool.sentences[:n], "dev"), f)
    sel = OUT / f"dev-select-{a.select}.jsonl"
    formats.write_jsonl(formats.Corpus(pool.sentences[POOL - a.select:], "dev"), sel)
    return evs, sel


def run(url, name, form, settings, src, part):
    "One annotation run (resumed from its cache); its figures, the time per sentence from each answer's own latency."
    out = OUT / name / f"{form}-{part}"
    r = annotate(str(src), "openai", out=str(out), base_url=url, model=name, **BASE | settings)
    labelled = formats.read_jsonl(out / "labels.jsonl", types=None)
    lat = [s.meta.get("latency") or 0.0 for s in labelled if s.meta.get("status") in ("ok", "malformed")]
    pr, q = r["parse"], r["quality"] or {}
    return dict(model=name, form=form, part=part, n=len(labelled), f1=q.get("f1"),
                per_type={t: q.get("per_type", {}).get(t, {}).get("f1", 0.0) for t in ("PER", "ORG", "LOC", "MISC")},
                s_per_sentence=sum(lat) / max(1, len(lat)), parsed=pr["status"].get("ok", 0) / max(1, len(labelled)),
                status=pr["status"], entities=pr["entities"], faults=pr["faults"], tokens=(pr["prompt_tokens"], pr["completion_tokens"]),
                cached=pr["requests_cached"], wall=pr["seconds"], errors=q.get("errors"))


def measure(name, ev, sel):
    m = MODELS[name]
    info = fetch(name)                                  # verified: magic, architecture, name, size, sha256
    forms = GEMMA if name.startswith("gemma") else FORMS
    rows = []
    with open(OUT / f"{name}-server.log", "a") as log, served(m, info["file"], a.port, a.threads, log=log) as url:
        if len(forms) > 1:
            for form, st in forms.items():
                rows.append(run(url, name, form, st, sel, "select")); print(json.dumps(rows[-1]), flush=True)
            best = max((r for r in rows), key=lambda r: (r["f1"] or 0.0, -r["s_per_sentence"]))["form"]
        else: best = next(iter(forms))
        (OUT / name).mkdir(parents=True, exist_ok=True)
        (OUT / name / "chosen.json").write_text(json.dumps(dict(form=best)))     # the form bench/local_teacher.py labels with
        if a.phase == "all":
            rows.append(run(url, name, best, forms[best], ev[CAPS.get(name, a.n)], "eval")); print(json.dumps(rows[-1]), flush=True)
    return info, best, rows


t0 = time.time()
ev, sel = sentences()
results = {name: measure(name, ev, sel) for name in a.models.split(",")}
minutes = (time.time() - t0) / 60

sel_table = pd.DataFrame([{"model": n, "form": r["form"], "label F1": f"{r['f1']:.3f}", "answers that parse": f"{r['parsed']:.0%}",
                           "s / sentence": f"{r['s_per_sentence']:.2f}", "chosen": "**yes**" if r["form"] == best else ""}
                          for n, (_, best, rows) in results.items() for r in rows if r["part"] == "select"])
evals = {n: next((r for r in rows if r["part"] == "eval"), None) for n, (_, _, rows) in results.items()}
ref = evals.get("gemma-3-270m")
ev_table = pd.DataFrame([{"model": n, "form": r["form"], "N": r["n"], "label F1": f"**{r['f1']:.3f}**",
                          "PER / ORG / LOC / MISC": " / ".join(f"{v:.2f}" for v in r["per_type"].values()),
                          "answers that parse": f"{r['parsed']:.1%}", "s / sentence": f"{r['s_per_sentence']:.2f}",
                          "sentences/s": f"{1 / r['s_per_sentence']:.2f}",
                          "speed vs Gemma-270M": f"{ref['s_per_sentence'] / r['s_per_sentence']:.2f}x" if ref else "-",
                          "prompt / completion tokens": f"{r['tokens'][0]:,} / {r['tokens'][1]:,}"}
                         for n, r in evals.items() if r])
files = "\n".join(f"- `{n}`: {info['name']} ({info['architecture']}, GGUF v{info['gguf_version']}, file type {info['file_type']} = Q4_K_M), "
                  f"{info['size']:,} bytes, sha256 `{info['sha256']}`, from `{MODELS[n].packages[0].split('==')[0].rsplit('-', 1)[0]}-*"
                  f"=={MODELS[n].packages[0].split('==')[1]}` ({len(MODELS[n].packages)} parts; {MODELS[n].licence})"
                  for n, (info, _, _) in results.items())
details = "\n".join(f"- {n}: statuses {json.dumps(r['status'])}; faults {json.dumps(r['faults'])}; entities {json.dumps(r['entities'])}; "
                    f"errors against gold {json.dumps(r['errors'])}" for n, r in evals.items() if r)
body = f"""## The closed network's own LLM as a teacher (`bench/local_llm.py`)

`{command()}` on {machine()}; {minutes:.0f} min for this call (answers already in the run folders' caches are read,
not asked again: each sentence's time is its own request's latency, recorded when it was asked). Each model served by
llama-cpp-python 0.3.36 on 127.0.0.1 with `--n_threads {a.threads} --n_threads_batch {a.threads}`, one request in flight,
temperature 0, at most {BASE['max_tokens']} answer tokens (Gemma 128). Models, assembled from their PyPI parts and checked (GGUF
magic, architecture, name, size, sha256):

{files}

Prompt forms, chosen per Qwen model by label F1 on {a.select} dev sentences (the last {a.select} of a seeded sample of {POOL};
zero-shot and few-shot without JSON mode, few-shot+schema with the answer's JSON schema enforced by the server's
grammar: `--json-schema json_object`; few-shot: 5 gold demonstrations from train). Gemma-270M keeps the form measured
for it before (5-shot, stop sequences `<end_of_turn>`, `<start_of_turn>`, `Sentence:`, newline; no JSON mode).

{sweep_tables.to_markdown(sel_table) if len(sel_table) else '(no selection run)'}

Measured on the first N dev sentences of the same sample (disjoint from the choosing ones), the chosen form:

{sweep_tables.to_markdown(ev_table) if len(ev_table) else '(no measured run)'}

"Answers that parse": answers that gave JSON with an entity list (status ok), of all sentences. Label F1 is
entity-level against the CoNLL-2003 gold tags (the recorded gpt-3.5 labels score 0.554 on their 5,873 train
sentences, not these). Details:

{details}

{a.note}
"""
print(body)
if not a.no_write and a.phase == "all": write_section("local-llm", body)
