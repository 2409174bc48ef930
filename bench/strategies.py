"""The study's question on our data: the MiniLM student trained with each of the seven mixing
strategies at equal optimizer steps, three seeds each, through `ner-distill sweep --profile study`
(1,000 gold CoNLL-2003 sentences disjoint from the 5,873 gpt-3.5-labelled ones, lr chosen on dev for
`gold`, the whole dev and test sets). The section of BENCHMARKS.md comes from ner_distill.sweep's tables:
each strategy against `gold` by the paired bootstrap over test sentences pooled over seeds, with the
per-seed differences. Resumable: rerun it after an interruption.

    python bench/strategies.py [--seeds 0 1 2] [--strategies ...] [--param KEY=VALUE ...]
"""
import argparse

from _common import run_study
from ner_distill import mixing

p = argparse.ArgumentParser()
p.add_argument("--seeds", nargs="+", default=["0", "1", "2"])
p.add_argument("--strategies", nargs="+", default=list(mixing.STRATEGIES))
p.add_argument("--param", nargs="*", default=[], help="extra TrainConfig fields, KEY=VALUE")
a = p.parse_args()
run_study("strategies", ["--profile", "study", "--strategies", *a.strategies, "--seeds", *a.seeds, "--quiet",
                         *(["--param", *a.param] if a.param else [])],
          "Mixing strategies at equal compute, through the sweep (`bench/strategies.py`)",
          "MiniLM-L6 student; gold pool 1,000 CoNLL-2003 train sentences disjoint from the 5,873 gpt-3.5-labelled ones "
          "(the distilled pool); every strategy runs the same S = ceil((|D| e_D + |O| e_O) / 32) optimizer steps; "
          "the checkpoint is chosen on dev, test F1 is seqeval entity-level micro F1 on CoNLL-2003 test.")
