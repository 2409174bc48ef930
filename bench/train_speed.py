"""Training speed: a strategy run against a plain reference loop on the same sentences, before and after length
bucketing, with its profile, and the options users expect (frozen embeddings, batch 64, fewer layers), each with
speed and dev F1. Run it alone on an idle machine.

    python bench/train_speed.py [--skip-options] [--fresh]
"""
import argparse
import time
from pathlib import Path

from _common import ROOT, command, machine, write_section
from ner_distill import study, sweep_tables
from ner_distill.speed import reference_loop
from ner_distill.train import TrainConfig, build_pools, train

p = argparse.ArgumentParser()
p.add_argument("--skip-options", action="store_true")
p.add_argument("--out", default=str(ROOT / "runs" / "train-speed"))
p.add_argument("--fresh", action="store_true", help="delete earlier runs first (a timing needs runs of this code)")
a = p.parse_args()
OUT = Path(a.out)
if a.fresh:
    import shutil
    shutil.rmtree(OUT, ignore_errors=True)


def run(name, **kw) -> float:
    "A power_decay run of the strategy study's setting into OUT/NAME (`kw` over the defaults); its whole wall time."
    t0 = time.perf_counter()
    m = train(TrainConfig(strategy="power_decay", gold_size=1000, distilled="recorded", test=False, out=str(OUT / name), **kw), progress=False)
    print(name, m["timing"]["train_sentences_per_s"], m["dev"]["f1"], flush=True)
    return time.perf_counter() - t0


import torch  # noqa: E402
threads = torch.get_num_threads()
D, O = build_pools(TrainConfig(gold_size=1000, distilled="recorded"))
pool = list(D) + list(O)
S = 247
ref_sps, ref_wall = reference_loop([s.tokens for s in pool], [s.tags for s in pool], S)
configs = {"before: random batches as micro-batches of 16, all weights trained": dict(bucket_steps=1, micro_batch_size=16, freeze_embeddings=False),
           "now, the defaults: bucketed over 16 steps, one pass per batch, word embeddings frozen": dict()}
if not a.skip_options:
    configs.update({"the defaults, word embeddings trained": dict(freeze_embeddings=False), "the defaults, bucketed over 8 steps": dict(bucket_steps=8),
                    "the defaults, batch 64 at lr 8e-4 (half the steps)": dict(batch_size=64, lr=8e-4),
                    "the defaults, 4 of 6 layers": dict(layers=4), "the defaults, 3 of 6 layers": dict(layers=3)})
walls = {label: run(f"run{i}", **kw) for i, (label, kw) in enumerate(configs.items())}
table = study.timing_table({label: OUT / f"run{i}" for i, label in enumerate(configs)}, ref_sps).assign(**{"whole run": [f"{w / 60:.1f} min" for w in walls.values()]})
write_section("train-speed", head=f"`{command()}` on {machine()}", threads=threads, S=S, ref_sps=ref_sps, ref_wall=ref_wall,
              table=sweep_tables.to_markdown(table))
