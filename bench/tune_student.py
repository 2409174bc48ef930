"""Choose the student's learning rate on the dev set for the `gold` baseline, at the step budget
the strategy comparison uses (bench/strategies.py). Test F1 is not looked at here.

    python bench/tune_student.py [--lrs 1e-4 2e-4 4e-4] [--out runs/tune]
"""
import argparse
import json
import time
from pathlib import Path

from _common import command, machine, write_section
from ner_distill.train import TrainConfig, train

p = argparse.ArgumentParser()
p.add_argument("--lrs", type=float, nargs="+", default=[1e-4, 2e-4, 4e-4])
p.add_argument("--gold-size", type=int, default=1000)
p.add_argument("--epochs-distilled", type=float, default=1.0)
p.add_argument("--epochs-gold", type=float, default=2.0)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--out", default="runs/tune")
a = p.parse_args()

rows, t0 = [], time.time()
for lr in a.lrs:
    # The step budget is that of the comparison: |D| e_D + |O| e_O sentences, D = the 5,873 recorded labels.
    cfg = TrainConfig(strategy="gold", gold_size=a.gold_size, distilled="recorded", epochs_distilled=a.epochs_distilled,
                      epochs_gold=a.epochs_gold, lr=lr, seed=a.seed, test=False, evals=2,
                      out=str(Path(a.out) / f"gold-lr{lr:g}-s{a.seed}"))
    m = train(cfg)
    rows.append((lr, m["steps"], m["best_step"], m["dev"]["f1"], m["dev"]["per_type"], m["timing"]["train_sentences_per_s"]))
    print(json.dumps(rows[-1][:4]), flush=True)
best = max(rows, key=lambda r: r[3])
table = "\n".join(f"| {lr:g} | {steps} | {bs} | {100 * f1:.1f} | " + " / ".join(f"{100 * pt[t]['f1']:.1f}" for t in ("PER", "ORG", "LOC", "MISC"))
                  + f" | {sps:.1f} |" for lr, steps, bs, f1, pt, sps in rows)
write_section("tune", f"""## Tuning the student (dev set only)

`{command()}` on {machine()}; wall time {(time.time() - t0) / 60:.1f} min.

Strategy `gold`, {a.gold_size} gold sentences (disjoint from the 5,873 LLM-labelled ones), step budget
of the comparison (e_D = {a.epochs_distilled:g}, e_O = {a.epochs_gold:g}, batch 32), warm-up 10 %, linear decay,
seed {a.seed}; the checkpoint is chosen on the first 1,000 dev sentences and scored on the whole dev set.

| lr | steps | best step | dev F1 | dev F1 PER / ORG / LOC / MISC | train sentences/s |
|---|---|---|---|---|---|
{table}

Chosen: lr = {best[0]:g} (best dev F1, {100 * best[3]:.1f}); it is the default of `TrainConfig` and is held fixed
across strategies.""")
print(f"{best[0]:g}")
