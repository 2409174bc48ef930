"""Distillation from a bigger model: a teacher five times the student's size (all-mpnet-base-v2, 109M parameters,
uncased, with word shape) trained on 1,000 gold sentences, and the student (all-MiniLM-L6-v2, with word shape) trained
on the same gold plus the teacher's targets over the 13,041 other CoNLL-2003 train sentences, against the student on
the gold alone. Students train to their dev plateau (patience: 3 evaluations of 50 steps without a better dev F1, at
least 300 steps); the teacher trains 500 steps with 10 evaluations and keeps its best on dev. Run it ALONE:

    python bench/distill.py run --seeds 0 [--recipes gold soft-T2 ...]   # resumable: finished runs are skipped
    python bench/distill.py report                                      # the "distill" section of BENCHMARKS.md
"""
import argparse
import time

import pandas as pd

from _common import ROOT, cli, command, machine, write_section
from ner_distill import metrics, runs as runfolders, study

OUT = ROOT / "runs" / "distill"
COMMON = ["--gold-size", 1000, "--distilled", "none", "--select-dev-size", 1000]
PLATEAU = ["--patience", 3, "--eval-every", 50, "--min-steps", 300]
RECIPES = {   # name: train flags after COMMON and the seed; {teacher} is the seed's teacher run
    "teacher": ["--model", "mpnet", "--strategy", "gold", "--lr", 1e-4, "--steps", 500, "--evals", 10],
    "gold": ["--strategy", "gold", *PLATEAU],
    "soft-T2": ["--teacher", "{teacher}", "--temperature", 2, *PLATEAU],
    "soft-T2-equal": ["--teacher", "{teacher}", "--temperature", 2, "--evals", 10],   # the equal-step budget, 471 steps
    "soft-T2-long": ["--teacher", "{teacher}", "--temperature", 2, "--steps", 942, "--evals", 19],
    "soft-T1": ["--teacher", "{teacher}", "--temperature", 1, *PLATEAU],
    "hard": ["--teacher", "{teacher}", "--teacher-targets", "hard", *PLATEAU],
    "soft-T2+llm": ["--teacher", "{teacher}", "--temperature", 2, "--distilled", "recorded", "--llm-share", 0.5,
                    "--no-gold-disjoint", *PLATEAU],
}
LABELS = {"teacher": "teacher: mpnet, gold only", "gold": "student, gold only (the baseline)",
          "soft-T2": "student + teacher's soft targets, T = 2", "soft-T2-equal": "the same at the equal-step budget (471 steps)",
          "soft-T2-long": "the same, 942 steps (twice the budget), best of 19 evaluations", "soft-T1": "student + teacher's soft targets, T = 1",
          "hard": "student + teacher's tags (hard)", "soft-T2+llm": "student + soft targets (T = 2) blended with gpt-3.5's tags (share 0.5)"}


def run(seeds, recipes):
    for s in seeds:
        for name in ["teacher", *[r for r in recipes if r != "teacher"]]:
            out = OUT / f"s{s}" / name
            if runfolders.RunFolder(out).status == "done": continue
            out.parent.mkdir(parents=True, exist_ok=True)
            flags = [str(f).format(teacher=OUT / f"s{s}" / "teacher") for f in RECIPES[name]]
            t0 = time.time()
            with open(out.parent / f"{name}.log", "w") as log:
                cli("train", *COMMON, "--seed", s, *flags, "--out", out, log=log)
            print(f"s{s} {name}: {(time.time() - t0) / 60:.1f} min", flush=True)


def rows():
    out = []
    for sd in sorted(OUT.glob("s*")):
        for name in RECIPES:
            r = runfolders.RunFolder(sd / name)
            if r.status != "done": continue
            m, teacher = r.metrics(), r.read("teacher") or {}
            out.append(dict(recipe=name, seed=int(sd.name[1:]), dev=100 * m.dev_f1, test=100 * m.test_f1, best_step=m.best_step,
                            steps_run=m.steps_run or m.steps, wall_min=m.timing.get("wall_s", 0) / 60,
                            teacher_words_s=(teacher.get("labelling") or teacher.get("pass_") or {}).get("words_per_s"), path=sd / name))
    return pd.DataFrame(out)


def report():
    df = rows()
    if df.empty: raise SystemExit("no finished runs under runs/distill: run `python bench/distill.py run` first")
    gold = {r.seed: metrics.run_counts(r.path) for r in df[df.recipe == "gold"].itertuples()}
    table = []
    for name in RECIPES:
        d = df[df.recipe == name]
        if d.empty: continue
        row = {"recipe": LABELS[name], "seeds": ", ".join(map(str, d.seed)),
               "dev F1": f"{d.dev.mean():.1f}" + (f" ± {d.dev.std():.1f}" if len(d) > 1 else ""),
               "test F1": f"**{d.test.mean():.1f}**" + (f" ± {d.test.std():.1f}" if len(d) > 1 else "")}
        if name != "gold" and gold:
            c = metrics.paired_comparison({r.seed: metrics.run_counts(r.path) for r in d.itertuples()}, gold)
            row["vs gold only (test, paired bootstrap)"] = f"{100 * c['diff']:+.1f} [{100 * c['ci95'][0]:+.1f}, {100 * c['ci95'][1]:+.1f}], p {c['p_value']:.3f}"
        row["best step / steps run"] = ", ".join(f"{b} / {s}" for b, s in zip(d.best_step, d.steps_run))
        row["wall (min)"] = ", ".join(f"{w:.0f}" for w in d.wall_min)
        table.append(row)
    best = max((n for n in RECIPES if n not in ("teacher", "gold") and (df.recipe == n).any()),
               key=lambda n: df[df.recipe == n].dev.mean(), default=None)
    per_type = ""
    if best and (df.recipe == "gold").any():
        s0 = lambda n: runfolders.RunFolder(df[df.recipe == n].path.iloc[0]).metrics().test
        pt = study.per_type_table(s0(best)).merge(study.per_type_table(s0("gold")), on="type", suffixes=(f" {best}", " gold only"))
        per_type = f"\n\nPer type, test, seed {df[df.recipe == best].seed.iloc[0]} ({best}, the best recipe on dev, against gold only):\n\n{pt.to_markdown(index=False)}"
    words = df.teacher_words_s.dropna()
    body = (f"## Distillation from a bigger model\n\n`{command()}` on {machine()}.\n\n{__doc__.split(chr(10) + chr(10))[0]}\n\n"
            f"{pd.DataFrame(table).to_markdown(index=False)}{per_type}\n\n"
            + (f"The teacher's pass over the 13,041 sentences: {words.iloc[0]:,.0f} words/s (PyTorch, this CPU, fp32).\n" if len(words) else ""))
    write_section("distill", body)
    print(body)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=("run", "report"))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--recipes", nargs="+", choices=[r for r in RECIPES if r != "teacher"], default=["soft-T2", "gold"])
    a = ap.parse_args()
    run(a.seeds, a.recipes) if a.action == "run" else report()
