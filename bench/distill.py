"""Distillation from a bigger model: a teacher five times the student's size (all-mpnet-base-v2, 109M parameters,
uncased, with word shape) trained on 1,000 gold sentences, and the student (all-MiniLM-L6-v2, with word shape) trained
on the same gold plus the teacher's targets over the 13,041 other CoNLL-2003 train sentences, against the student on
the gold alone. Students train to their dev plateau (patience: 3 evaluations of 50 steps without a better dev F1, at
least 300 steps, the learning rate decaying over two step budgets, 942 steps) or for a fixed number of steps keeping
their best evaluation on dev; the teacher trains 500 steps with 10 evaluations and keeps its best on dev.

Run it ALONE:

    python bench/distill.py run --seeds 0 [--recipes gold soft-T2 ...]   # resumable: finished runs are skipped
    python bench/distill.py report                                      # the "distill" section of BENCHMARKS.md
"""
import argparse
import time

from _common import ROOT, cli, command, machine, write_section
from ner_distill import runs as runfolders, study, sweep_tables

OUT = ROOT / "runs" / "distill"
COMMON = ["--gold-size", 1000, "--distilled", "none", "--select-dev-size", 1000]
PLATEAU = ["--patience", 3, "--eval-every", 50, "--min-steps", 300]
RECIPES = {   # name: train flags after COMMON and the seed; {teacher} is the seed's teacher run
    "teacher": ["--model", "mpnet", "--strategy", "gold", "--lr", 1e-4, "--steps", 500, "--evals", 10],
    "gold": ["--strategy", "gold", *PLATEAU],
    "soft-T2": ["--teacher", "{teacher}", "--temperature", 2, *PLATEAU],
    "soft-T2-cap4": ["--teacher", "{teacher}", "--temperature", 2, "--steps", 1884, *PLATEAU],   # the schedule over 4 budgets
    "soft-T2-equal": ["--teacher", "{teacher}", "--temperature", 2, "--evals", 10],   # the equal-step budget, 471 steps
    "soft-T2-long": ["--teacher", "{teacher}", "--temperature", 2, "--steps", 942, "--evals", 19],
    "soft-T1": ["--teacher", "{teacher}", "--temperature", 1, *PLATEAU],
    "gold-long": ["--strategy", "gold", "--steps", 942, "--evals", 19],     # gold only at the taught student's steps
    "concat-T2-long": ["--teacher", "{teacher}", "--temperature", 2, "--strategy", "concat", "--steps", 942, "--evals", 19],
    "hard-long": ["--teacher", "{teacher}", "--teacher-targets", "hard", "--steps", 942, "--evals", 19],
    "hard": ["--teacher", "{teacher}", "--teacher-targets", "hard", *PLATEAU],
    "soft-T2+llm": ["--teacher", "{teacher}", "--temperature", 2, "--distilled", "recorded", "--llm-share", 0.5,
                    "--no-gold-disjoint", *PLATEAU],
}
LABELS = {"teacher": "teacher: mpnet, gold only", "gold": "student, gold only (the baseline)",
          "soft-T2": "student + teacher's soft targets, T = 2", "soft-T2-cap4": "the same, its learning rate decaying over 1,884 steps (4 budgets)", "soft-T2-equal": "the same at the equal-step budget (471 steps)",
          "gold-long": "student, gold only, 942 steps, best of 19 evaluations", "hard-long": "student + teacher's tags (hard), 942 steps",
          "concat-T2-long": "soft targets, T = 2, 942 steps, concat (the teacher's share constant, 87 %) for power_decay",
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


def report():
    df = study.recipe_runs(OUT, RECIPES)
    if df.empty: raise SystemExit("no finished runs under runs/distill: run `python bench/distill.py run` first")
    table, per_type = study.recipe_table(df, RECIPES, LABELS), ""
    if best := study.recipe_per_type(df, RECIPES):
        name, seed, pt = best
        per_type = f"\n\nPer type, test, seed {seed} ({name}, the best recipe on dev, against gold only):\n\n{sweep_tables.to_markdown(pt)}"
    words = df.teacher_words_s.dropna()
    body = (f"## Distillation from a bigger model\n\n`{command()}` on {machine()}.\n\n{__doc__.split(chr(10) + chr(10))[0]}\n\n"
            f"{sweep_tables.to_markdown(table)}{per_type}\n\n"
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
