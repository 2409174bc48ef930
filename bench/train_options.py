"""Training options measured on dev over three seeds before one becomes a default: each option as a sweep
axis of `power_decay` runs in the strategy study's setting (`ner-distill sweep --profile study`), dev F1
only (test is not looked at when choosing), sentences/s beside it.

    python bench/train_options.py [--grid freeze_embeddings=false,true] [--seeds 0 1 2]
"""
import argparse

from _common import run_study

p = argparse.ArgumentParser()
p.add_argument("--grid", default="freeze_embeddings=false,true")
p.add_argument("--seeds", nargs="+", default=["0", "1", "2"])
a = p.parse_args()
key = a.grid.split("=")[0]
run_study(f"option-{key}", ["--profile", "study", "--strategies", "power_decay", "--seeds", *a.seeds, "--grid", a.grid,
                            "--param", "test=false", "--quiet", "--no-report"],
          f"Training option `{key}`, chosen on dev (`bench/train_options.py --grid {a.grid}`)",
          "`power_decay`, 1,000 gold + 5,873 gpt-3.5-labelled sentences, 247 steps, three seeds; dev F1 on the whole CoNLL-2003 "
          "dev set (the checkpoint chosen on its first 1,000 sentences); test F1 not computed: this is a choice.")
