"""Choose the student's learning rate on the dev set for the `gold` baseline, at the step budget the
strategy comparison uses, as a sweep with `lr` as its axis (`ner-distill sweep --grid lr=...`). Test F1
is not computed here: the choice is made on dev.

    python bench/tune_student.py [--lrs 1e-4 2e-4 4e-4 8e-4] [--seed 0]
"""
import argparse

from _common import run_study

p = argparse.ArgumentParser()
p.add_argument("--lrs", nargs="+", default=["1e-4", "2e-4", "4e-4", "8e-4"])
p.add_argument("--seed", default="0")
a = p.parse_args()
run_study("tune", ["--profile", "study", "--strategies", "gold", "--seeds", a.seed, "--grid", "lr=" + ",".join(a.lrs),
                   "--param", "test=false", "dev_size=all", "--quiet", "--no-report"],
          "Tuning the student's learning rate on dev, through the sweep (`bench/tune_student.py`)",
          "Strategy `gold`, 1,000 gold sentences, the comparison's step budget (e_D = 1, e_O = 2, batch 32), warm-up 10 %, "
          "linear decay; the checkpoint is chosen on the first 1,000 dev sentences and scored on the whole dev set. "
          "The learning rate with the best dev F1 becomes `TrainConfig`'s default.")
