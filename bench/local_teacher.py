"""The closed network's own LLM as a teacher that trains students: a local instruct model (served by llama-cpp-python on
127.0.0.1, see bench/local_llm.py) labels N of the 5,873 CoNLL-2003 train sentences that have recorded gpt-3.5 labels,
and students are trained at 247 steps, 3 seeds, 1,000 gold sentences, on those N sentences with

- the local model's labels, and gpt-3.5's labels on the same N: `power_decay` and `power_decay + relabel`;
- the combined teacher (spaCy, the gazetteer of the seed's gold pool, the seed's gold-only student) with gpt-3.5, with
  the local model in place of gpt-3.5, and with both: `power_decay`;
- gold only.

Every run draws the same gold pool for a seed (the gold draw avoids the same N sentences), so the paired bootstrap
compares like with like. The BENCHMARKS.md section "local-teacher". Two steps, each resumable; run them ALONE:

    flock /tmp/ner-heavy.lock python bench/local_teacher.py label --model qwen2.5-coder-0.5b --minutes 40
    flock /tmp/ner-heavy.lock python bench/local_teacher.py train      # annotations, 27 runs, then the section

`label` asks for the first 250, 500, ... sentences of a seeded order of the 5,873 until `--n` or `--minutes` is reached
(answers are kept in the run folder's request cache, so a later call goes on where this one stopped); `train` freezes
what was labelled (the sentences whose answer parsed) as the study's N.
"""
import argparse
import json
import time

from _common import ROOT, cli, command, gold_run, machine, plot, render, sweep_into, write_section
from ner_distill.annotate.local_llm import ANNOTATE_BASE, MODELS, PROMPT_FORMS, exit_on_sigterm, fetch, served
from ner_distill import data, formats, metrics, runs as runfolders, study, sweep_tables

OUT = ROOT / "runs" / "local-llm"
STUDY = ROOT / "runs" / "studies" / "local-teacher"
SEEDS, STEPS, CHUNK = ("0", "1", "2"), 247, 250
VOICES = {"combined-gpt35": "{gpt35}", "combined-local": "{local}", "combined-both": "{gpt35},{local}"}


def chosen_form(model: str) -> str:
    "The prompt form bench/local_llm.py chose for `model` on its choosing dev sentences (the file it writes)."
    f = OUT / model / "chosen.json"
    if not f.exists(): raise SystemExit(f"no prompt form chosen for {model} yet: run bench/local_llm.py --models {model} first")
    return json.loads(f.read_text())["form"]


def label(a) -> None:
    exit_on_sigterm()
    train = data.conll2003("train")
    form, order, t0 = a.form or chosen_form(a.model), study.recorded_order(train), time.time()
    out = OUT / a.model / f"{form}-train"
    info = fetch(a.model)
    with open(OUT / f"{a.model}-server.log", "a") as log, served(MODELS[a.model], info["file"], a.port, a.threads, log=log) as url:
        for n in range(CHUNK, min(a.n, len(order)) + CHUNK, CHUNK):
            n = min(n, a.n, len(order))
            src = STUDY / "label" / f"train-{n}.jsonl"
            src.parent.mkdir(parents=True, exist_ok=True)
            ids = {s.sent_id for s in order[:n]}
            formats.write_jsonl(formats.Corpus([s for s in train if s.sent_id in ids], "conll2003-train"), src)
            r = annotate_run(src, out, url, a.model, form)
            print(json.dumps(dict(n=n, minutes=round((time.time() - t0) / 60, 1), f1=r["quality"]["f1"], status=r["parse"]["status"],
                                  cached=r["parse"]["requests_cached"])), flush=True)
            if time.time() - t0 > 60 * a.minutes: break
    (STUDY / "label" / "labelled.json").write_text(json.dumps(dict(model=a.model, form=form, n=n, info={k: str(v) for k, v in info.items()},
                                                                   machine=machine(), threads=a.threads)))


def annotate_run(src, out, url, model, form):
    from ner_distill.annotate.run import annotate
    return annotate(str(src), "openai", out=str(out), base_url=url, model=model, **ANNOTATE_BASE | PROMPT_FORMS[form])


def freeze() -> dict:
    "The study's files, once: the local labels that parsed, gpt-3.5's on the same sentences, and those sentences with gold tags."
    done = json.loads((STUDY / "label" / "labelled.json").read_text())
    files = {k: STUDY / f"{k}.jsonl" for k in ("pool", "local", "gpt35")}
    frozen = runfolders.read_json(STUDY, "frozen")
    if frozen and frozen["n"] != done["n"]:
        raise SystemExit(f"{STUDY} holds runs on the first {frozen['n']} sentences; "
                         f"{done['n']} are labelled now: move all but its label/ folder aside to train on them")
    if not all(f.exists() for f in files.values()):
        runfolders.write_json(STUDY, "frozen", dict(done, **study.parsed_pool(OUT / done["model"] / f"{done['form']}-train" / "labels.jsonl", files)))
    return {k: str(v) for k, v in files.items()}


def sweep_study(name, *args):
    sweep_into(STUDY / name, "--seeds", *SEEDS, *args, "--engine", "python",
               params=[f"steps={STEPS}", "dev_size=1000", f"trust_student={gold_run(STUDY, '{seed}')}"])


def teachers(files) -> None:
    "spaCy once, then per seed the combined teachers (threshold 0: every word's posterior kept) over the N sentences."
    spacy = STUDY / "teachers" / "spacy"
    if not (spacy / "labels.jsonl").exists(): cli("annotate", "--source", files["pool"], "--teacher", "spacy", "--quiet", "--out", spacy)
    for s in SEEDS:
        for name, voices in VOICES.items():
            out = STUDY / "teachers" / f"s{s}" / name
            if (out / "labels.jsonl").exists(): continue
            cli("annotate", "--source", files["pool"], "--teacher", "combine", "--threshold", "0", "--seed", s, "--quiet", "--out", out,
                "--sources", f"{voices.format(**files)},{spacy},gazetteer,student:{gold_run(STUDY, s)}")


NAMES = {"gold": "gold only", "gpt35": "gpt-3.5", "local": "local LLM", **{k: k.replace("-", ": ").replace("gpt35", "gpt-3.5 + spaCy + gazetteer + student")
                                                                          .replace(": local", ": local LLM + spaCy + gazetteer + student")
                                                                          .replace(": both", ": gpt-3.5 + local LLM + spaCy + gazetteer + student") for k in VOICES}}


def train(a) -> None:
    t0 = time.time()
    files = freeze()
    sweep_study("gold", "--strategies", "gold", "--param", f"distilled={files['gpt35']}")
    for k in ("gpt35", "local"):
        sweep_study(k, "--strategies", "power_decay", "--trust", "none", "relabel", "--param", f"distilled={files[k]}")
    teachers(files)
    for k in VOICES:
        sweep_study(k, "--strategies", "power_decay", "--param", f"distilled={STUDY / 'teachers' / 's{seed}' / k}")
    report(files, time.time() - t0)


def report(files, secs) -> None:
    fr = runfolders.read_json(STUDY, "frozen")
    ok = study.named_runs({STUDY / k: v for k, v in NAMES.items()})
    quality_of = lambda path: metrics.pool_quality(formats.read_jsonl(path, types=None))
    quality = study.label_quality({"gpt-3.5 (recorded)": quality_of(files["gpt35"]), "local LLM": quality_of(files["local"]),
                                   "spaCy": study.read_quality(STUDY / "teachers" / "spacy"),
                                   **{NAMES[k]: [study.read_quality(STUDY / "teachers" / f"s{s}" / k) for s in SEEDS] for k in VOICES}},
                                  types=("PER", "LOC", "ORG", "MISC"))
    pairs = [("local LLM @ power_decay", "gpt-3.5 @ power_decay"), ("local LLM @ power_decay + relabel", "gpt-3.5 @ power_decay + relabel"),
             (f"{NAMES['combined-local']} @ power_decay", f"{NAMES['combined-gpt35']} @ power_decay"),
             (f"{NAMES['combined-both']} @ power_decay", f"{NAMES['combined-gpt35']} @ power_decay")]
    heads = study.pair_comparisons(ok, pairs)
    body = render("local-teacher",
        head=f"`{command()}` on {machine()} ({len(ok)} finished runs, summed run wall time {ok.wall_s.sum() / 60:.0f} min; {secs / 60:.0f} min this call)",
        model=fr["model"], form=fr["form"], labelled=fr["labelled"], n=fr["parsed"], sha=json.loads((STUDY / "label" / "labelled.json").read_text())["info"].get("sha256", "?"),
        quality=sweep_tables.to_markdown(quality), tables=sweep_tables.tables_markdown(ok, "gold only"), figure=f"![local-teacher]({plot(ok, 'local-teacher')})",
        heads=sweep_tables.to_markdown(heads) if len(heads) else "(not run)", steps=STEPS,
        labelling=study.labelling_cost(formats.read_jsonl(files["local"], types=None)))
    write_section("local-teacher", body)
    print(body)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("label")
    lp.add_argument("--model", required=True, choices=[m for m in MODELS if m.startswith("qwen")])
    lp.add_argument("--form", default=None, choices=list(PROMPT_FORMS), help="default: the one bench/local_llm.py chose for the model")
    lp.add_argument("--n", type=int, default=5873)
    lp.add_argument("--minutes", type=float, default=40, help="stop asking after the chunk that passes this")
    lp.add_argument("--threads", type=int, default=2)
    lp.add_argument("--port", type=int, default=8767)
    sub.add_parser("train")
    sub.add_parser("report")
    a = p.parse_args()
    STUDY.mkdir(parents=True, exist_ok=True)
    if a.cmd == "label": label(a)
    elif a.cmd == "train": train(a)
    else: report(freeze(), 0)
