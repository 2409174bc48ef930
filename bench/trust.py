"""Make noisy LLM labels pay: trust methods at equal optimizer steps over three seeds, through
`ner-distill sweep --profile study`. The student-based methods (`student`, `relabel`) read the `gold`
run of the same seed of this very sweep (`trust_student={sweep}/runs/gold-g1000-s{seed}`), so the gold
runs go first. `--budgets` runs the budget curve instead: N LLM-labelled sentences chosen at random or
by the gold student's uncertainty (same N, same steps). Resumable.

    python bench/trust.py [--strategies distilled_then_gold power_decay] [--trust none relabel mask ...] [--seeds 0 1 2]
    python bench/trust.py --budgets 500 1000 2000
"""
import argparse

from _common import ROOT, run_study

p = argparse.ArgumentParser()
p.add_argument("--strategies", nargs="+", default=["distilled_then_gold"])
p.add_argument("--trust", nargs="+", default=["none", "drop", "mask", "weight", "student", "relabel"])
p.add_argument("--seeds", nargs="+", default=["0", "1", "2"])
p.add_argument("--budgets", nargs="*", default=None, help="run the budget curve with these N instead of the methods")
p.add_argument("--param", nargs="*", default=[], help="extra TrainConfig fields, KEY=VALUE")
a = p.parse_args()
gold_run = "{sweep}/runs/gold-g1000-s{seed}"
if a.budgets:
    gold_run = str(ROOT / "runs" / "studies" / "trust" / "runs" / "gold-g1000-s{seed}")   # the methods study's gold runs
    run_study("budget", ["--profile", "study", "--strategies", "distilled_then_gold", "--budgets", *a.budgets,
                         "--selections", "random", "uncertainty", "--seeds", *a.seeds, "--quiet",
                         "--param", f"trust_student={gold_run}", *a.param],
              "LLM budget: uncertainty against random selection, through the sweep (`bench/trust.py --budgets`)",
              "N LLM-labelled sentences per run, chosen at random or where the gold-trained student (the `gold` run of "
              "the same seed of the trust study) is least sure; S = ceil((N + 2,000) / 32) steps for every run of one N.")
else:
    run_study("trust", ["--profile", "study", "--strategies", "gold", *a.strategies, "--trust", *a.trust,
                        "--seeds", *a.seeds, "--quiet", "--param", f"trust_student={gold_run}", *a.param],
              "Trust methods, through the sweep (`bench/trust.py`)",
              "Each trust method of `ner_distill.trust` on the distilled tokens, with the study's strategies, at the step "
              "budget of `gold`; calibration sentences move from the distilled to the gold pool, which gives up as many.")
