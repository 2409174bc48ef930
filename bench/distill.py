"""Distillation from a bigger model: an mpnet teacher trained on 1,000 gold sentences teaches the MiniLM student over
the other CoNLL-2003 train sentences, against the student on the gold alone (the recipes below; the design and the
findings are in bench/sections/distill.md, the section's template). Run it ALONE:

    python bench/distill.py run --seeds 0 [--recipes gold soft-T2 ...]   # resumable: finished runs are skipped
    python bench/distill.py export --seeds 0 1 2                        # each seed's taught student as a bundle
    python bench/distill.py speed                                       # its words/s beside today's demo bundle
    python bench/distill.py report                                      # the "distill" section of BENCHMARKS.md
"""
import argparse
import json
import os
import time

import pandas as pd

from _common import ROOT, cli, command, machine, train_once, write_section
from ner_distill import data, infer, study, sweep_tables

OUT = ROOT / "runs" / "distill"
COMMON = ["--distilled", "none", "--select-dev-size", 1000]
PLATEAU = ["--patience", 3, "--eval-every", 50, "--min-steps", 300]
RECIPES = {   # name: train flags after COMMON and the seed; {teacher} is the seed's teacher run; the table's order
    "teacher": ["--model", "mpnet", "--strategy", "gold", "--lr", 1e-4, "--steps", 500, "--evals", 10],
    "gold": ["--strategy", "gold", *PLATEAU],
    "gold-long": ["--strategy", "gold", "--steps", 942, "--evals", 19],     # gold only at the taught student's steps
    "gold-1413": ["--strategy", "gold", "--steps", 1413, "--evals", 28],
    "soft-T2-equal": ["--teacher", "{teacher}", "--temperature", 2, "--evals", 10],   # the equal-step budget, 471 steps
    "soft-T2-cap4": ["--teacher", "{teacher}", "--temperature", 2, "--steps", 1884, *PLATEAU],   # the schedule over 4 budgets
    "soft-T2-long": ["--teacher", "{teacher}", "--temperature", 2, "--steps", 942, "--evals", 19],
    "hard-long": ["--teacher", "{teacher}", "--teacher-targets", "hard", "--steps", 942, "--evals", 19],
    "concat-T2-long": ["--teacher", "{teacher}", "--temperature", 2, "--strategy", "concat", "--steps", 942, "--evals", 19],
    "concat-T2-1413": ["--teacher", "{teacher}", "--temperature", 2, "--strategy", "concat", "--steps", 1413, "--evals", 28],
    "concat-T2-bbc": ["--teacher", "{teacher}", "--temperature", 2, "--strategy", "concat", "--steps", 942, "--evals", 19,
                      "--teacher-text", "train+unlabelled"],
    "concat-T1-long": ["--teacher", "{teacher}", "--temperature", 1, "--strategy", "concat", "--steps", 942, "--evals", 19],
    "concat-T2+llm": ["--teacher", "{teacher}", "--temperature", 2, "--strategy", "concat", "--steps", 942, "--evals", 19,
                      "--distilled", "recorded", "--llm-share", 0.5, "--no-gold-disjoint"],
    "soft-T2": ["--teacher", "{teacher}", "--temperature", 2, *PLATEAU],
    "soft-T1": ["--teacher", "{teacher}", "--temperature", 1, *PLATEAU],
    "hard": ["--teacher", "{teacher}", "--teacher-targets", "hard", *PLATEAU],
    "soft-T2+llm": ["--teacher", "{teacher}", "--temperature", 2, "--distilled", "recorded", "--llm-share", 0.5,
                    "--no-gold-disjoint", *PLATEAU],
}
LABELS = {"teacher": "teacher: mpnet, gold only, 500 steps", "gold": "student, gold only, patience (cap 600 steps)",
          "gold-long": "student, gold only, 942 steps (the baseline)",
          "gold-1413": "student, gold only, 1,413 steps",
          "soft-T2-equal": "taught: power_decay, soft T = 2, 471 steps (the equal-step budget)",
          "soft-T2-cap4": "taught: power_decay, soft T = 2, patience, learning rate over 1,884 steps",
          "soft-T2-long": "taught: power_decay, soft T = 2, 942 steps", "hard-long": "taught: power_decay, the teacher's tags (hard), 942 steps",
          "concat-T2-long": "taught: concat (the teacher's share constant, 87 %), soft T = 2, 942 steps",
          "concat-T2-1413": "taught: concat, soft T = 2, 1,413 steps", "concat-T1-long": "taught: concat, soft T = 1, 942 steps",
          "concat-T2-bbc": "taught: concat, soft T = 2, the teacher's targets over the other train sentences and 43,878 BBC sentences, 942 steps",
          "concat-T2+llm": "taught: concat, soft T = 2 blended with gpt-3.5's tags where it labelled (share 0.5), 942 steps",
          "soft-T2": "taught: power_decay, soft T = 2, patience", "soft-T1": "taught: power_decay, soft T = 1, patience",
          "hard": "taught: power_decay, hard, patience", "soft-T2+llm": "taught: soft T = 2 blended with gpt-3.5's tags (share 0.5), patience"}
BASELINE = "gold-long"


def seed_dir(seed, gold_size=1000):
    "runs/distill/sSEED at 1,000 gold sentences, runs/distill/gN/sSEED at another size (the curve)."
    return OUT / f"s{seed}" if gold_size == 1000 else OUT / f"g{gold_size}" / f"s{seed}"


def run(seeds, recipes, gold_size=1000):
    for s in seeds:
        d = seed_dir(s, gold_size)
        for name in ["teacher", *[r for r in recipes if r != "teacher"]]:
            flags = [str(f).format(teacher=d / "teacher") for f in RECIPES[name]]
            t0 = time.time()
            if train_once(d / name, *COMMON, "--gold-size", gold_size, "--seed", s, *flags):
                print(f"s{s} {name}: {(time.time() - t0) / 60:.1f} min", flush=True)


SHIPPED = "concat-T2-long"                      # the recipe the bundle ships (the best on dev)
TODAY = ROOT / "export" / "demo"                # the bundle the student's words/s is read against


def export(seeds):
    "`ner-distill export` of each seed's SHIPPED run and its baseline, into sSEED/bundle (skipped when its manifest exists)."
    for s in seeds:
        out = OUT / f"s{s}" / "bundle"
        for name in (SHIPPED, BASELINE):
            if (out / name / "manifest.json").exists(): continue
            with open(OUT / f"s{s}" / f"export-{name}.log", "w") as log:
                cli("export", "--run", OUT / f"s{s}" / name, "--out", out, "--name", name, "--no-wheelhouse", log=log)


def shipped_rows():
    "Per exported recipe and seed: the variant this CPU loads and its test F1 as `ner-distill export` reported it, fp32's beside it."
    rows = []
    for name in (SHIPPED, BASELINE):
        for m in sorted(OUT.glob(f"s*/bundle/{name}/manifest.json")):
            man = json.loads(m.read_text()); v, _ = infer.bundle_variant(man, None)
            rows.append(dict(recipe=LABELS[name], seed=int(m.parts[-4][1:]), variant=v,
                             test=100 * man["variants"][v]["test_f1"], fp32=100 * man["variants"]["fp32"]["test_f1"]))
    df = pd.DataFrame(rows)
    if df.empty: return df
    means = df.groupby("recipe", sort=False)[["test", "fp32"]].mean().reset_index().assign(seed="mean", variant="")
    return pd.concat([df, means], ignore_index=True)


def speed():
    "Words/s of seed 0's bundle and today's demo bundle, each at the variant this CPU loads, alternating passes in one process."
    sents = data.conll2003("test").tokens
    new, old = infer.Bundle(OUT / "s0" / "bundle" / SHIPPED), infer.Bundle(TODAY)
    r = infer.words_per_second({"taught": new.tagger, "today": old.tagger}, sents, rounds=5)
    r.update(variants={"taught": new.variant, "today": old.variant}, command=command(), machine=machine(), load_before=os.getloadavg())
    (OUT / "speed.json").write_text(json.dumps(r, indent=1)); print(r)


CURVE = ("teacher", BASELINE, SHIPPED)       # the recipes run at each gold size of the curve


def curve():
    "The teacher, gold only and the shipped recipe at each gold size that ran (200, 500 under gN/, 1,000 the main table)."
    parts = []
    for size, root in sorted([(int(p.name[1:]), p) for p in OUT.glob("g*") if p.is_dir()] + [(1000, OUT)]):
        runs = study.recipe_runs(root, CURVE)
        if runs.empty: continue
        t = study.recipe_table(runs, CURVE, LABELS, BASELINE, "gold only, 942 steps")
        parts.append(t.drop(columns=[c for c in t.columns if c.startswith(("best step", "wall"))]).assign(**{"gold sentences": f"{size:,}"}))
    if not parts: return ""
    t = pd.concat(parts, ignore_index=True)
    return sweep_tables.to_markdown(t[["gold sentences", *[c for c in t.columns if c != "gold sentences"]]].fillna(""))


def report():
    df = study.recipe_runs(OUT, RECIPES)
    if df.empty: raise SystemExit("no finished runs under runs/distill: run `python bench/distill.py run` first")
    per_type, words = "", df.teacher_words_s.dropna()
    if best := study.recipe_per_type(df, RECIPES, BASELINE, skip=("teacher", "gold"), versus="gold only"):
        name, seed, pt = best
        per_type = f"\n\nPer type, test, seed {seed} ({LABELS[name]}, the best on dev, against gold only at 942 steps):\n\n{sweep_tables.to_markdown(pt)}"
    teacher_pass = (f"The teacher's pass over the 13,041 sentences: {words.iloc[0]:,.0f} words/s (PyTorch, this CPU, fp32; taken while "
                    "light editing work shared the cores: not a speed figure)." if len(words) else "")
    shipped = shipped_rows()
    bundles = sweep_tables.to_markdown(shipped.round(1)) if len(shipped) else "(no bundles: run `python bench/distill.py export`)"
    sp = json.loads((OUT / "speed.json").read_text()) if (OUT / "speed.json").exists() else None
    speed_line = (f"Words/s of the taught student's bundle ({sp['variants']['taught']}) against the bundle before distillation "
                  f"({sp['variants']['today']}), best of {sp['rounds']} alternating passes over the {sp['sentences']:,} test sentences in one "
                  f"process (`python bench/distill.py speed`, {sp['cpu']}, class {sp['cpu_class']}): "
                  f"{sp['words_per_s']['taught']:,.0f} against {sp['words_per_s']['today']:,.0f} "
                  f"({sp['words_per_s']['taught'] / sp['words_per_s']['today']:.2f}x; 1-minute load average {sp['load_before'][0]:.1f} as it started, "
                  "the tail of earlier work; nothing else ran beside it)." if sp else "")
    print(write_section("distill", head=f"`{command()}` on {machine()}", per_type=per_type, teacher_pass=teacher_pass, curve=curve(),
                        bundles=bundles, speed=speed_line,
                        table=sweep_tables.to_markdown(study.recipe_table(df, RECIPES, LABELS, BASELINE, "gold only, 942 steps"))))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=("run", "export", "speed", "report"))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--gold-size", type=int, default=1000, help="gold sentences (the curve: 200, 500; 1,000 is the main table)")
    ap.add_argument("--recipes", nargs="+", choices=[r for r in RECIPES if r != "teacher"], default=["soft-T2", "gold"])
    a = ap.parse_args()
    dict(run=lambda: run(a.seeds, a.recipes, a.gold_size), export=lambda: export(a.seeds), speed=speed, report=report)[a.action]()
