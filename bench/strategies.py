"""The sweep studies, each run through `ner-distill sweep --profile study` into runs/studies/NAME and written to its
BENCHMARKS.md section with the sweep's tables (each method against `gold` by the paired bootstrap over test sentences
pooled over seeds). Resumable: rerun one after an interruption.

    python bench/strategies.py [strategies] [--seeds 0 1 2] [--strategies ...]   # every mixing strategy at equal steps
    python bench/strategies.py trust [--strategies distilled_then_gold] [--trust none relabel mask ...]
    python bench/strategies.py budget --budgets 500 1000 2000       # N LLM-labelled sentences, random or uncertain
    python bench/strategies.py tune [--lrs 1e-4 2e-4 4e-4 8e-4]     # gold's learning rate, chosen on dev
    python bench/strategies.py option --grid freeze_embeddings=false,true   # a training option, chosen on dev

Every study takes `--seeds` and `--param KEY=VALUE ...` (more TrainConfig fields).
"""
import argparse

from _common import ROOT, run_study
from ner_distill import mixing, study

p = argparse.ArgumentParser()
p.add_argument("study", nargs="?", default="strategies", choices=("strategies", "trust", "budget", "tune", "option"))
p.add_argument("--seeds", nargs="+", default=None, help="default: 0 1 2 (tune: 0)")
p.add_argument("--strategies", nargs="+", default=None, help="default: every strategy (trust: distilled_then_gold)")
p.add_argument("--trust", nargs="+", default=["none", "drop", "mask", "weight", "check", "relabel"])
p.add_argument("--budgets", nargs="+", default=["500", "1000", "2000"])
p.add_argument("--lrs", nargs="+", default=["1e-4", "2e-4", "4e-4", "8e-4"])
p.add_argument("--grid", default="freeze_embeddings=false,true", help="option: a training option and its values, KEY=V1,V2")
p.add_argument("--param", nargs="*", default=[], help="extra TrainConfig fields, KEY=VALUE")
a = p.parse_args()
seeds = ["--seeds", *(a.seeds or (["0"] if a.study == "tune" else ["0", "1", "2"]))]
base, dev_only = ["--profile", "study", *seeds, "--quiet"], ["--param", "test=false", *a.param, "--no-report"]
if a.study == "strategies":
    run_study("strategies", [*base, "--strategies", *(a.strategies or mixing.STRATEGIES), *(["--param", *a.param] if a.param else [])])
elif a.study == "trust":      # check, relabel and soft read the gold run of their seed in this very sweep ({sweep}: its folder)
    gold = study.run_dir("{sweep}", ["strategy", "trust", "seed"], strategy="gold", gold_size=1000, seed="{seed}")
    run_study("trust", [*base, "--strategies", "gold", *(a.strategies or ["distilled_then_gold"]), "--trust", *a.trust,
                        "--param", f"gold_run={gold}", *a.param])
elif a.study == "budget":     # the gold runs of the trust study choose the uncertain sentences
    gold = study.run_dir(ROOT / "runs" / "studies" / "trust", strategy="gold", seed="{seed}")
    run_study("budget", [*base, "--strategies", "distilled_then_gold", "--budgets", *a.budgets, "--selections", "random",
                         "uncertainty", "--param", f"gold_run={gold}", *a.param])
elif a.study == "tune":
    run_study("tune", [*base, "--strategies", "gold", "--grid", "lr=" + ",".join(a.lrs), *dev_only, "--param", "dev_size=all"])
else:
    key = a.grid.split("=")[0]
    run_study(f"option-{key}", [*base, "--strategies", "power_decay", "--grid", a.grid, *dev_only], template="study-option",
              key=key, grid=a.grid)
