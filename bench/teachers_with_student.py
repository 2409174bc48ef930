"""Distillation beyond self-training: the gold-only student as one voice of a combined teacher.

The earlier teachers study (bench/teachers_study.py) found that most of what LLM labels bought came from self-training
(the gold-only student relabelling the distilled sentences). This study asks whether the LLM's labels add anything
once the student is part of the teacher: for each seed, the 247-step gold-only student labels the 5,873 recorded
CoNLL-2003 train sentences, and `annotate --teacher combine` aggregates it (by its probabilities) with gpt-3.5, spaCy
and a gazetteer of the seed's own gold pool (by their confusions on 200 calibration sentences).

Teachers of the same 5,873 sentences, each trained into a student with Simple Mix and power_decay at equal steps:
  recorded  gpt-3.5 alone                                  oracle    their gold tags (the ceiling)
  self      the gold-only student alone (self-training)    combined  gpt-3.5 + spaCy + gazetteer + the student
  nollm     spaCy + gazetteer + the student (what the LLM adds to `combined`)
at two budgets (247 steps, the study's setting, and 494), against gold-only at the same steps, by the paired bootstrap
over test sentences pooled over seeds.

    python bench/teachers_with_student.py run [--seeds 0 1 2] [--budgets 247 494] [--jobs 1] [--engine papermill]
    python bench/teachers_with_student.py report      # BENCHMARKS.md sections from the finished runs

Both are resumable (finished runs and annotation runs are kept). `run --engine python --jobs 8` suits a GPU machine
without Jupyter; `--spacy RUN` reuses a spaCy annotation run of the recorded sentences (spaCy need not be installed).
Run it alone on an idle machine.
"""
import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "runs" / "studies" / "teachers-with-student"
TEACHERS = ("recorded", "oracle", "self", "combined", "nollm")
STRATEGIES = ("distilled_then_gold", "power_decay")
env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
POOL = {"pool": "recorded"}
EXTRA = {}   # run parameters that override the study's (--param KEY=VALUE: a smoke test of the mechanics)


def cli(*args, log=None):
    cmd = [sys.executable, "-m", "ner_distill.cli", *map(str, args)]
    r = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT if log else None)
    if r.returncode: raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}")


def gold_run(seed: int) -> Path:
    "The 247-step gold-only student of `seed`: the `self` teacher and the student voice of `combined` and `nollm`."
    return STUDY / "steps247" / "runs" / f"gold-distilledrecorded-g1000-s{seed}"


def teacher_dir(seed: int, name: str) -> Path:
    return STUDY / "teachers" / f"s{seed}" / name


def pool_source(seed: int, pool: str) -> str:
    """The sentences the teachers label: `recorded` (the 5,873 with gpt-3.5 labels) or, for `train-rest`, a file of
    every CoNLL-2003 train sentence outside the seed's gold pool (gpt-3.5 votes on the 5,873 it labelled)."""
    if pool == "recorded": return "recorded"
    from ner_distill import data
    path = STUDY / "teachers" / f"s{seed}" / "pool.jsonl"
    if not path.exists():
        train = data.conll2003("train")
        rec = {s.sent_id for s in data.recorded_llm_labels()}
        gold = {s.sent_id for s in data.gold_pool(train, 1000, seed, exclude=rec)}   # the runs' own gold pool
        path.parent.mkdir(parents=True, exist_ok=True)
        data.write_jsonl(data.Corpus([s for s in train if s.sent_id not in gold], "conll2003-train"), path)
    return str(path)


def annotate_seed(seed: int, spacy: Path, teachers, pool: str) -> None:
    "The per-seed teachers: self (the student alone), combined and nollm."
    student = f"student:{gold_run(seed)}"
    jobs = {"self": ["--teacher", "student", "--student", gold_run(seed)],
            "combined": ["--teacher", "combine", "--threshold", "0", "--sources", f"recorded,{spacy},gazetteer,{student}"],
            "nollm": ["--teacher", "combine", "--threshold", "0", "--sources", f"{spacy},gazetteer,{student}"]}
    for name, args in jobs.items():
        out = teacher_dir(seed, name)
        if name not in teachers or (out / "labels.jsonl").exists(): continue
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out.parent / f"{name}.log", "w") as log:
            cli("annotate", "--source", pool_source(seed, pool), "--seed", seed, "--quiet", "--out", out, *args, log=log)


def study_grid(seeds, teachers, strategies=STRATEGIES) -> list[dict]:
    "Gold-only, then each strategy with each teacher (per-seed teachers by {seed})."
    grid = [dict(strategy=["gold"], distilled=["recorded"], seed=list(seeds))]
    if teachers:
        specs = [t if t in ("recorded", "oracle") else str(STUDY / "teachers" / "s{seed}" / t) for t in teachers]
        if POOL["pool"] != "recorded" and {"recorded", "oracle"} & set(teachers):
            raise SystemExit("teachers recorded and oracle name the 5,873 recorded sentences: not with --pool train-rest")
        grid.append(dict(strategy=list(strategies), distilled=specs, seed=list(seeds)))
    return grid


def study_params(budget: int) -> dict:
    return {"dev_size": 1000, **({} if budget == 247 else {"steps": budget}), **EXTRA}


def sweep(budget: int, seeds, teachers, jobs: int, engine: str, strategies=STRATEGIES) -> None:
    "One sweep folder per budget."
    from ner_distill import sweep as sw
    idx = sw.sweep(STUDY / f"steps{budget}", study_grid(seeds, teachers, strategies), study_params(budget), "study", jobs,
                   progress=False, engine=engine)
    bad = idx[idx.status == "failed"]
    if len(bad): print(f"{len(bad)} failed runs at {budget} steps:", *bad.run, bad.error.iloc[0], sep="\n", file=sys.stderr)


def run(a) -> None:
    STUDY.mkdir(parents=True, exist_ok=True)
    spacy = Path(a.spacy) if a.spacy else STUDY / "spacy"
    if not a.spacy and not (spacy / "labels.jsonl").exists():
        cli("annotate", "--source", "recorded" if a.pool == "recorded" else "train", "--teacher", "spacy", "--quiet", "--out", spacy)
    sweep(247, a.seeds, (), a.jobs, a.engine)   # the gold-only students first: they teach
    with ThreadPoolExecutor(max(1, min(a.jobs, len(a.seeds)))) as ex:
        list(ex.map(lambda s: annotate_seed(s, spacy, a.teachers, a.pool), a.seeds))
    for b in a.budgets:
        sweep(b, a.seeds, a.teachers, a.jobs, a.engine, a.strategies)


def report(a) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import numpy as np
    import pandas as pd
    sys.path.insert(0, str(ROOT / "bench"))
    from _common import command, machine, write_section
    from ner_distill import sweep as sw

    frames = []
    for d in sorted(STUDY.glob("steps*"), key=lambda p: int(p.name[5:])):
        ok, _ = sw.load_runs(d)
        ok["condition"] = f"{int(d.name[5:])} steps"
        frames.append(ok)
    ok = pd.concat(frames, ignore_index=True)
    # a condition keeps the seeds every one of its methods finished (a deadline may have stopped the rest)
    keep = []
    for cond, grp in ok.groupby("condition", sort=False):
        n = grp.method.nunique()
        full = [s for s, g in grp.groupby("seed") if g.method.nunique() == n]
        keep.append(grp[grp.seed.isin(full)])
    ok = pd.concat(keep, ignore_index=True)
    ok = ok[ok.groupby("condition").method.transform("nunique") > 1]   # a budget of gold-only runs alone (the teachers' students)
    seeds = sorted(ok.seed.unique())
    extra = []   # other study folders (--extra): budgets run apart, shown as they are
    for x in a.extra:
        for d in sorted(Path(x).glob("steps*"), key=lambda p: int(p.name[5:])):
            if d.name == "steps247": continue
            e, _ = sw.load_runs(d)
            e["condition"] = f"{int(d.name[5:])} steps"
            extra.append(e)
    extra = pd.concat(extra, ignore_index=True) if extra else None

    # the teachers' label F1 on the 5,873 sentences, per seed where the teacher depends on it
    rows = []
    from ner_distill import data
    from ner_distill import annotate
    rows.append(("gpt-3.5 (recorded)", [annotate.quality_report(data.recorded_llm_labels())]))
    spacy = Path(a.spacy) if a.spacy else STUDY / "spacy"
    if (spacy / "quality.json").exists(): rows.append(("spaCy", [json.loads((spacy / "quality.json").read_text())]))
    for name, label in (("self", "self: the gold-only student"), ("nollm", "nollm: spaCy + gazetteer + student"),
                        ("combined", "combined: gpt-3.5 + spaCy + gazetteer + student")):
        qs = [json.loads((teacher_dir(s, name) / "quality.json").read_text()) for s in seeds if (teacher_dir(s, name) / "quality.json").exists()]
        if qs: rows.append((label, qs))
    gaz = [json.loads((teacher_dir(s, "combined") / "combine.json").read_text())["quality"]["gazetteer"] for s in seeds
           if (teacher_dir(s, "combined") / "combine.json").exists()]
    if gaz: rows.insert(2, ("gazetteer (the seed's gold pool)", gaz))
    cell = lambda v: f"{np.mean(v):.3f}" + (f" ± {np.std(v, ddof=1):.3f}" if len(v) > 1 else "")
    qmd = ["| teacher | seeds | F1 | PER | LOC | ORG | MISC |", "|---|---:|---:|---:|---:|---:|---:|"]
    for label, qs in rows:
        qmd.append(f"| {label} | {len(qs)} | {cell([x['f1'] for x in qs])} | "
                   + " | ".join(cell([x['per_type'][t]['f1'] for x in qs]) for t in ("PER", "LOC", "ORG", "MISC")) + " |")

    res = sw.results_table(ok)
    vs_gold = sw.comparisons(ok)
    # beyond self-training: each teacher against the student alone, strategy by strategy
    beyond = []
    for strat in STRATEGIES:
        part = ok[(ok.strategy == strat) | (ok.strategy == "gold")].copy()
        c = sw.comparisons(part[part.method != "gold"], baseline=f"self: {strat}")
        beyond.append(c)
    beyond = pd.concat(beyond, ignore_index=True)
    llm = pd.concat([sw.comparisons(ok[ok.strategy == strat], baseline=f"nollm: {strat}") for strat in STRATEGIES], ignore_index=True)
    llm = llm[llm.method.str.startswith("combined")] if len(llm) else llm
    name = "teachers-with-student" if POOL["pool"] == "recorded" else "teachers-all-train"
    fig = sw.plot_results(ok, "test_f1")
    fig.savefig(ROOT / "bench" / "results" / f"{name}.png", dpi=110)
    share = []
    for cond, grp in ok.groupby("condition", sort=False):
        g = 100 * grp[grp.method == "gold"].test_f1.mean()
        for strat in STRATEGIES:
            o = 100 * grp[grp.method == f"oracle: {strat}"].test_f1.mean() - g
            for t in TEACHERS[2:] + ("recorded",):
                m = grp[grp.method == f"{t}: {strat}"].test_f1
                if len(m): share.append(dict(condition=cond, method=f"{t}: {strat}", seeds=len(m), vs_gold=round(100 * m.mean() - g, 2),
                                             oracle_gain=round(o, 2), share=f"{100 * (100 * m.mean() - g) / o:.0f} %"))
    share = pd.DataFrame(share)
    if POOL["pool"] != "recorded":
        args = " ".join(json.loads((STUDY / "args.json").read_text()))
        body = f"""## The teachers over all the unlabelled train text (`bench/teachers_with_student.py --pool train-rest`)

`python bench/teachers_with_student.py --study {os.path.relpath(STUDY, ROOT)} run {args}` on
{json.loads((STUDY / "machine.json").read_text())["machine"]} (F1 only: `make test-fast` shared the cores for 3 minutes of the
annotation step); tables by `{command()}`. {len(ok)} runs, seeds
{', '.join(map(str, seeds))}.

The study above distils only the 5,873 sentences gpt-3.5 labelled. A user labels all the text they have: here, per
seed, the distilled pool is every CoNLL-2003 train sentence outside the seed's gold pool (13,041: the 5,873 with
gpt-3.5 labels and 7,168 without). The seed's 247-step gold-only student labels them all (`self`), and `combined`
joins it, by its probabilities, with gpt-3.5 (on the sentences it labelled), spaCy and the seed's gazetteer, as above.
The equal-steps budget of this pool is S = ceil((13,041 + 2 x 1,000) / 32) = 471 steps, and gold-only gets the same 471
(it has flattened out by then: 78.3 at 494 steps on the GPU above, 78.7 at 988 in the earlier CPU study).

**The teachers' label F1** on the pool (mean ± std over seeds; gpt-3.5 on its 5,873 sentences, spaCy on all 14,041 train sentences):

{chr(10).join(qmd)}

**Students** (test F1, mean ± std over seeds):

{sw.to_markdown(res)}

**Against gold-only at the same steps** (paired bootstrap over test sentences pooled over seeds, per-seed differences):

{sw.to_markdown(vs_gold)}

**Beyond self-training**: the combined teacher against `self` (the gold-only student's own labels of the same pool),
same strategy and steps:

{sw.to_markdown(beyond)}

![students of the whole pool](bench/results/{name}.png)
"""
        write_section(name, body)
        print(body)
        return

    sps = ok.train_sentences_per_s
    where = json.loads((STUDY / "machine.json").read_text())["machine"] if (STUDY / "machine.json").exists() else machine()
    body = f"""## Distillation beyond self-training: the student as one voice of the teacher (`bench/teachers_with_student.py`)

`python bench/teachers_with_student.py run --seeds 0 1 2 --jobs 8 --engine python --spacy RUN` on {where}, then the
same with seeds 0-4 until the GPU lease's deadline (seeds 3 and 4 finished only their gold-only students, so the tables
use seeds {', '.join(map(str, seeds))}). The GPU machine had no network and no spaCy: the spaCy labels of the 5,873 sentences
(`RUN`) were made on the CPU machine, and the student's initial weights travelled as fp16 (rounded once, the same for
every run here), with transformers 4.57.6. Tables by `{command()}`. {len(ok)} runs; training {sps.median():.0f}
sentences/s median (8 runs at a time: a throughput of the study, not a speed figure).

Per seed, the 247-step gold-only student labels the 5,873 recorded CoNLL-2003 train sentences (`annotate --teacher
student`); `annotate --teacher combine --threshold 0` joins it, by its probabilities (the likelihood ratio
P(label | student) / prior), with gpt-3.5, spaCy and a gazetteer of the names in the seed's own gold pool, each by its
confusion matrix on 200 seeded calibration sentences. 1,000 gold sentences, lr 4e-4 (chosen on dev for gold),
Simple Mix (`distilled_then_gold`) and `power_decay`, at 247 steps (the study's setting) and 494; gold-only at the
same steps is the baseline.

**The teachers' label F1** on the 5,873 sentences (mean ± std over the seeds where the teacher depends on the seed):

{chr(10).join(qmd)}

**Students** (test F1, mean ± std over seeds):

{sw.to_markdown(res)}

**Against gold-only at the same steps** (paired bootstrap over test sentences pooled over seeds, per-seed differences):

{sw.to_markdown(vs_gold)}

**Beyond self-training**: each teacher against `self` (the gold-only student's own labels) with the same strategy and
steps, the same method:

{sw.to_markdown(beyond)}

**What the LLM adds**: the combination with gpt-3.5 against the same combination without it (`nollm`):

{sw.to_markdown(llm)}

**Share of the oracle's gain** over gold-only (the oracle: the same sentences' gold tags, same strategy and steps):

{sw.to_markdown(share)}

![students by teacher and budget](bench/results/teachers-with-student.png)
"""
    if extra is not None:
        body += f"""
**A third budget, stopped by the GPU lease** (`--study {os.path.relpath(a.extra[0], ROOT)} run --budgets 988 --teachers oracle
self combined nollm --strategies distilled_then_gold`): its gold-only students and teachers were trained again for the
same seeds (GPU training is not bit-reproducible, so they differ slightly from the ones above), and the lease ended
before the combined and nollm students finished. What finished, as it is:

{sw.to_markdown(sw.results_table(extra))}

{sw.to_markdown(sw.comparisons(extra))}
"""
    write_section("teachers-with-student", body)
    print(body)


def pack(a) -> None:
    "Copy what the report needs (no weights, no labels) into a tarball; test predictions as tags only."
    import tarfile, io
    out = Path(a.out)
    with tarfile.open(out, "w:gz") as tar:
        def add_text(name, text):
            b = text.encode(); ti = tarfile.TarInfo(name); ti.size = len(b); tar.addfile(ti, io.BytesIO(b))
        add_text("root.txt", str(STUDY))
        for p in sorted(STUDY.rglob("*")):
            rel = p.relative_to(STUDY)
            if p.is_dir() or "model" in p.parts or "checkpoint" in p.parts or p.suffix == ".ipynb": continue
            if p.name in ("labels.jsonl", "labels.conll"): continue
            if p.name == "test_predictions.jsonl":
                add_text(str(rel.with_name("test_tags.json")), json.dumps([json.loads(l)["tags"] for l in p.read_text().splitlines() if l.strip()]))
                continue
            if p.stat().st_size > 2_000_000: continue
            tar.add(p, str(rel))
    print(out, out.stat().st_size)


def unpack(a) -> None:
    "Unpack a tarball from `pack`, rebuilding test predictions from the local CoNLL-2003 test set and local paths."
    import tarfile
    from ner_distill import data
    test = data.conll2003("test")
    with tarfile.open(a.tarball) as tar:
        root = tar.extractfile("root.txt").read().decode()
        for m in tar.getmembers():
            if m.name == "root.txt": continue
            dest = STUDY / m.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            raw = tar.extractfile(m).read()
            if dest.name == "test_tags.json":
                tags = json.loads(raw)
                if len(tags) != len(test): raise SystemExit(f"{m.name}: {len(tags)} sentences, the test set has {len(test)}")
                data.write_jsonl(data.Corpus([s.with_tags(t, gold_tags=s.tags) for s, t in zip(test, tags)], "test"),
                                 dest.with_name("test_predictions.jsonl"))
                continue
            if dest.suffix in (".csv", ".json", ".txt", ".log", ".in.json"):
                raw = raw.decode().replace(root, str(STUDY)).encode()
            dest.write_bytes(raw)
    reindex()


def reindex() -> None:
    "Rewrite each budget's index over the seeds that have runs (a run stopped by a deadline stays pending)."
    import re
    from ner_distill import data, sweep as sw
    for d in STUDY.glob("steps*"):
        conf = json.loads((d / "sweep.json").read_text())
        seeds = sorted({int(m.group(1)) for p in (d / "runs").iterdir() if (m := re.search(r"-s(\d+)$", p.name))})
        grid = study_grid(seeds, TEACHERS)
        conf.update(grid=grid, params={**conf["params"], **study_params(int(d.name[5:]))})
        data.write_json(d / "sweep.json", conf)
        sw.write_index(d, sw.expand(grid, conf["params"], d), grid)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    r.add_argument("--budgets", nargs="+", type=int, default=[247, 494])
    r.add_argument("--jobs", type=int, default=1)
    r.add_argument("--teachers", nargs="+", default=list(TEACHERS), choices=TEACHERS)
    r.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    r.add_argument("--engine", default="papermill")
    r.add_argument("--spacy", default=None, help="a spaCy annotation run (or labels file) of the recorded sentences")
    r.add_argument("--pool", choices=("recorded", "train-rest"), default="recorded",
                   help="what the teachers label: the 5,873 recorded sentences, or every train sentence outside the gold pool")
    r.add_argument("--param", nargs="*", default=[], metavar="KEY=VALUE", help="override a run parameter (smoke tests only)")
    rp = sub.add_parser("report")
    rp.add_argument("--spacy", default=None)
    rp.add_argument("--extra", nargs="*", default=[], help="study folders of further budgets, shown apart as they are")
    pk = sub.add_parser("pack"); pk.add_argument("--out", required=True)
    up = sub.add_parser("unpack"); up.add_argument("tarball")
    p.add_argument("--study", default=str(STUDY), help="the study's folder")
    a = p.parse_args()
    STUDY = Path(a.study).resolve()
    if getattr(a, "param", None):
        from ner_distill.train import TrainConfig
        EXTRA.update({k: TrainConfig.parse(k, v) for k, v in (kv.split("=", 1) for kv in a.param)})
    if getattr(a, "pool", None): POOL["pool"] = a.pool
    elif (STUDY / "args.json").exists() and "train-rest" in json.loads((STUDY / "args.json").read_text()): POOL["pool"] = "train-rest"
    if a.cmd == "run":
        STUDY.mkdir(parents=True, exist_ok=True)
        (STUDY / "args.json").write_text(json.dumps(sys.argv[sys.argv.index("run") + 1:]))
        sys.path.insert(0, str(ROOT / "bench"))
        from _common import machine
        (STUDY / "machine.json").write_text(json.dumps({"machine": machine()}))
    {"run": run, "report": report, "pack": pack, "unpack": unpack}[a.cmd](a)
