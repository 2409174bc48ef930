"""The closed network's own LLM as a teacher that trains students: a local instruct model (served by llama-cpp-python on
127.0.0.1, see bench/local_llm.py) labels N of the 5,873 CoNLL-2003 train sentences that have recorded gpt-3.5 labels,
and students learn from its labels, from gpt-3.5's on the same N and from combined teachers, against gold only (the
design: bench/sections/local-teacher.md). The BENCHMARKS.md section "local-teacher". Two steps, each resumable; run
them ALONE:

    flock /tmp/ner-heavy.lock python bench/local_teacher.py label --model qwen2.5-coder-0.5b --minutes 40
    flock /tmp/ner-heavy.lock python bench/local_teacher.py train      # annotations, 27 runs, then the section

`label` asks for the first 250, 500, ... sentences of a seeded order of the 5,873 until `--n` or `--minutes` is reached
(answers are kept in the run folder's request cache, so a later call goes on where this one stopped); `train` freezes
what was labelled (the sentences whose answer parsed) as the study's N.
"""
import argparse
import json
import time

from _common import ROOT, head, machine, plot, run_steps, write_section
from ner_distill.annotate.local_llm import ANNOTATE_BASE, MODELS, PROMPT_FORMS, exit_on_sigterm, fetch, served
from ner_distill import data, formats, runs as runfolders, study, sweep_tables
from ner_distill.studies import label_in_chunks

OUT = ROOT / "runs" / "local-llm"
STUDY = ROOT / "runs" / "studies" / "local-teacher"
SEEDS, STEPS, CHUNK = ("0", "1", "2"), 247, 250
VOICES = {"combined-gpt35": "{gpt35}", "combined-local": "{local}", "combined-both": "{gpt35},{local}"}   # the LLMs among the voices
NAMES = {"gold": "gold only", "gpt35": "gpt-3.5", "local": "local LLM",
         "combined-gpt35": "combined: gpt-3.5 + spaCy + gazetteer + student",
         "combined-local": "combined: local LLM + spaCy + gazetteer + student",
         "combined-both": "combined: gpt-3.5 + local LLM + spaCy + gazetteer + student"}
PY = ("--engine", "python")
STEPS_RUN = [   # {pool}, {gpt35}, {local}: the frozen files; the combined teachers per seed, threshold 0 (every word's posterior kept)
    ("sweep", "gold", "--strategies", "gold", "--param", "distilled={gpt35}", *PY),
    *[("sweep", k, "--strategies", "power_decay", "--trust", "none", "relabel", "--param", f"distilled={{{k}}}", *PY) for k in ("gpt35", "local")],
    ("annotate", "teachers/spacy", "--source", "{pool}", "--teacher", "spacy"),
    *[("annotate", f"teachers/s{{seed}}/{k}", "--source", "{pool}", "--teacher", "combine", "--threshold", "0", "--seed", "{seed}",
       "--sources", f"{voices},{STUDY / 'teachers' / 'spacy'},gazetteer,run:{{gold_run}}") for k, voices in VOICES.items()],
    *[("sweep", k, "--strategies", "power_decay", "--param", f"distilled={STUDY / 'teachers' / 's{seed}' / k}", *PY) for k in VOICES]]


def chosen_form(model: str) -> str:
    "The prompt form bench/local_llm.py chose for `model` on its choosing dev sentences (the file it writes)."
    f = OUT / model / "chosen.json"
    if not f.exists(): raise SystemExit(f"no prompt form chosen for {model} yet: run bench/local_llm.py --models {model} first")
    return json.loads(f.read_text())["form"]


def label(a) -> None:
    from ner_distill.annotate.run import annotate
    exit_on_sigterm()
    train = data.conll2003("train")
    form, t0, info = a.form or chosen_form(a.model), time.time(), fetch(a.model)
    settings = dict(out=str(OUT / a.model / f"{form}-train"), model=a.model, **ANNOTATE_BASE | PROMPT_FORMS[form])
    with open(OUT / f"{a.model}-server.log", "a") as log, served(MODELS[a.model], info["file"], a.port, a.threads, log=log) as url:
        n = label_in_chunks(lambda f: annotate(f, "openai", base_url=url, **settings), train, min(a.n, len(study.recorded_order(train))),
                            STUDY / "label", CHUNK, a.minutes, t0)
    (STUDY / "label" / "labelled.json").write_text(json.dumps(dict(model=a.model, form=form, n=n, info={k: str(v) for k, v in info.items()},
                                                                   machine=machine(), threads=a.threads)))


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


def train(a) -> None:
    t0, files = time.time(), freeze()
    run_steps(STUDY, STEPS_RUN, SEEDS, [f"steps={STEPS}", "dev_size=1000", "gold_run={gold_run}"], **files)
    report(files, time.time() - t0)


def report(files, secs) -> None:
    fr, ok = runfolders.read_json(STUDY, "frozen"), study.named_runs({STUDY / k: v for k, v in NAMES.items()})
    quality = study.label_quality({"gpt-3.5 (recorded)": files["gpt35"], "local LLM": files["local"], "spaCy": STUDY / "teachers" / "spacy",
                                   **{NAMES[k]: [STUDY / "teachers" / f"s{s}" / k for s in SEEDS] for k in VOICES}},
                                  types=("PER", "LOC", "ORG", "MISC"))
    pairs = [("local LLM @ power_decay", "gpt-3.5 @ power_decay"), ("local LLM @ power_decay + relabel", "gpt-3.5 @ power_decay + relabel"),
             (f"{NAMES['combined-local']} @ power_decay", f"{NAMES['combined-gpt35']} @ power_decay"),
             (f"{NAMES['combined-both']} @ power_decay", f"{NAMES['combined-gpt35']} @ power_decay")]
    print(write_section("local-teacher", head=head(ok, secs),
                        model=fr["model"], form=fr["form"], labelled=fr["labelled"], n=fr["parsed"], sha=fr["info"].get("sha256", "?"),
                        quality=sweep_tables.to_markdown(quality), tables=sweep_tables.tables_markdown(ok, "gold only"),
                        figure=f"![local-teacher]({plot(ok, 'local-teacher')})", steps=STEPS,
                        heads=sweep_tables.to_markdown(study.pair_comparisons(ok, pairs), "(not run)"),
                        labelling=study.labelling_cost(formats.read_jsonl(files["local"], types=None))))


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
