"""Distillation beyond self-training: the gold-only student as one voice of a combined teacher (`self` alone,
`combined` with gpt-3.5, spaCy and a gazetteer, `nollm` without gpt-3.5; `recorded` and `oracle` beside them), each
training students with Simple Mix and power_decay at several budgets (one sweep folder each, STUDY/stepsN).

    python bench/teachers_with_student.py run [--seeds 0 1 2] [--budgets 247 494] [--jobs 1] [--engine papermill]
    python bench/teachers_with_student.py report      # BENCHMARKS.md sections from the finished runs

Resumable. `run --engine python --jobs 8` suits a GPU machine without Jupyter; a study folder copied from the machine
that ran it reports anywhere (models may stay behind). Run it alone on an idle machine.
"""
import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import ROOT, annotate_once, command, machine, plot, write_section
from ner_distill.annotate.sources import known_form
from ner_distill import runs as runfolders, study, sweep, sweep_tables

STUDY = ROOT / "runs" / "studies" / "teachers-with-student"
TEACHERS = ("recorded", "oracle", "self", "combined", "nollm")
STRATEGIES = ("distilled_then_gold", "power_decay")
LABELS = {"self": "self: the gold-only student", "nollm": "nollm: spaCy + gazetteer + student",
          "combined": "combined: gpt-3.5 + spaCy + gazetteer + student"}


def gold_run(seed: int) -> Path:
    "The 247-step gold-only student of `seed`: the `self` teacher and the student voice of `combined` and `nollm`."
    return study.run_dir(STUDY / "steps247", strategy="gold", distilled="recorded", seed=seed)


def teacher_dir(seed: int, name: str) -> Path:
    return STUDY / "teachers" / f"s{seed}" / name


def pool_source(seed: int, pool: str) -> str:
    """The sentences the teachers label: `recorded` (the 5,873 with gpt-3.5 labels) or, for `train-rest`, a file of
    every CoNLL-2003 train sentence outside the seed's gold pool (gpt-3.5 votes on the 5,873 it labelled)."""
    return "recorded" if pool == "recorded" else study.outside_gold(teacher_dir(seed, "pool.jsonl"), seed)


def annotate_seed(seed: int, spacy: Path, teachers, pool: str) -> None:
    "The per-seed teachers: self (the student alone), combined and nollm."
    student = f"run:{gold_run(seed)}"
    jobs = {"self": ["--teacher", "run", "--run", gold_run(seed)],
            "combined": ["--teacher", "combine", "--threshold", "0", "--sources", f"recorded,{spacy},gazetteer,{student}"],
            "nollm": ["--teacher", "combine", "--threshold", "0", "--sources", f"{spacy},gazetteer,{student}"]}
    for name, args in jobs.items():
        if name in teachers: annotate_once(teacher_dir(seed, name), "--source", pool_source(seed, pool), "--seed", seed, *args)


def run_budget(a, budget: int, teachers) -> None:
    "One sweep folder per budget: gold-only, then each strategy with each teacher (per-seed teachers by {seed})."
    grid = [dict(strategy=["gold"], distilled=["recorded"], seed=list(a.seeds))]
    if teachers:
        if a.pool != "recorded" and any(map(known_form, teachers)):
            raise SystemExit("teachers recorded and oracle name the 5,873 recorded sentences: not with --pool train-rest")
        specs = [t if known_form(t) else str(STUDY / "teachers" / "s{seed}" / t) for t in teachers]   # a label source, or per seed
        grid.append(dict(strategy=list(a.strategies), distilled=specs, seed=list(a.seeds)))
    params = {"dev_size": 1000, **({} if budget == 247 else {"steps": budget}), **a.extra}
    idx = sweep.sweep(STUDY / f"steps{budget}", grid, params, "study", a.jobs, progress=False, engine=a.engine)
    bad = idx[idx.status == "failed"]
    if len(bad): print(f"{len(bad)} failed runs at {budget} steps:", *bad.run, bad.error.iloc[0], sep="\n", file=sys.stderr)


def run(a) -> None:
    runfolders.write_json(STUDY, "args", sys.argv[sys.argv.index("run") + 1:])
    (STUDY / "machine.json").write_text(json.dumps({"machine": machine()}))
    spacy = Path(a.spacy) if a.spacy else STUDY / "spacy"
    if not a.spacy: annotate_once(spacy, "--source", "recorded" if a.pool == "recorded" else "train", "--teacher", "spacy")
    run_budget(a, 247, ())   # the gold-only students first: they teach
    with ThreadPoolExecutor(max(1, min(a.jobs, len(a.seeds)))) as ex:
        list(ex.map(lambda s: annotate_seed(s, spacy, a.teachers, a.pool), a.seeds))
    for b in a.budgets: run_budget(a, b, a.teachers)


def report(a) -> None:
    loaded = study.load_sweeps(study.budget_sweeps(STUDY))
    ok = study.complete_seeds(loaded, min_methods=2)   # seeds every method finished; not the teachers' students alone
    seeds, short = sorted(ok.seed.unique()), study.left_out(loaded, ok)
    quality = study.label_quality({
        "gpt-3.5 (recorded)": "recorded",
        "spaCy": a.spacy or STUDY / "spacy",
        "gazetteer (the seed's gold pool)": [study.read_quality(teacher_dir(s, "combined"), "gazetteer") for s in seeds],
        **{label: [teacher_dir(s, t) for s in seeds] for t, label in LABELS.items()}},
        types=("PER", "LOC", "ORG", "MISC"))
    name = "teachers-all-train" if a.pool == "train-rest" else "teachers-with-student"
    extra = []
    for x in a.extra_studies:   # further budgets run apart (another lease): shown as they are
        runs = study.load_sweeps(study.budget_sweeps(x, skip=("steps247",)))
        extra += ["", f"**Budgets run apart** (`--study {os.path.relpath(x, ROOT)}`): their gold-only students and teachers "
                      "trained again for the same seeds; what finished, as it is:", "", sweep_tables.tables_markdown(runs)]
    md = sweep_tables.to_markdown
    print(write_section(
        name, study=os.path.relpath(STUDY, ROOT), command=command(), runs=len(ok), seeds=", ".join(map(str, seeds)),
        where=json.loads((STUDY / "machine.json").read_text())["machine"] if (STUDY / "machine.json").exists() else machine(),
        ran=" ".join(runfolders.read_json(STUDY, "args", ["..."])),
        short=f" (left out, some of their runs unfinished: {short})" if short else "", budgets=", ".join(ok.condition.unique()),
        quality=md(quality), results=md(sweep_tables.results_table(ok)), vs_gold=md(sweep_tables.comparisons(ok)),
        beyond=md(study.teacher_comparisons(ok, "self")), llm=md(study.teacher_comparisons(ok, "nollm", teachers=["combined"])),
        share=md(study.oracle_share(ok), "(no oracle runs)"), figure=plot(ok, name), extra="\n".join(extra)))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--study", default=str(STUDY), help="the study's folder")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    r.add_argument("--budgets", nargs="+", type=int, default=[247, 494])
    r.add_argument("--jobs", type=int, default=1)
    r.add_argument("--teachers", nargs="+", default=list(TEACHERS), choices=TEACHERS)
    r.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    r.add_argument("--engine", default="papermill")
    r.add_argument("--param", nargs="*", default=[], metavar="KEY=VALUE", help="override a run parameter (smoke tests only)")
    rp = sub.add_parser("report")
    rp.add_argument("--extra", dest="extra_studies", nargs="*", default=[], help="study folders of further budgets, shown apart")
    for q in (r, rp):
        q.add_argument("--spacy", default=None, help="a spaCy annotation run (or labels file) of the recorded sentences")
        q.add_argument("--pool", choices=("recorded", "train-rest"), default=None,
                       help="what the teachers label: the 5,873 recorded sentences, or every train sentence outside the gold pool")
    a = p.parse_args()
    STUDY = Path(a.study).resolve()
    STUDY.mkdir(parents=True, exist_ok=True)
    args = runfolders.read_json(STUDY, "args", [])
    a.pool = a.pool or ("train-rest" if "train-rest" in args else "recorded")   # report: as the study was run
    if a.cmd == "run":
        from ner_distill.train import TrainConfig
        a.extra = {k: TrainConfig.parse(k, v) for k, v in (kv.split("=", 1) for kv in a.param)}
        run(a)
    else: report(a)
