"""What the benchmark scripts share: this repository's BENCHMARKS.md, its section templates (bench/sections/) and
figures (bench/results/) as a `ner_distill.studies.Bench`, and the package's run-or-skip steps and machine line."""
from pathlib import Path

import matplotlib

from ner_distill.speed import machine  # noqa: F401  (every section names the machine it ran on)
from ner_distill.studies import Bench, annotate_once, cli, gold_run, run_steps, sweep_into, train_once  # noqa: F401

matplotlib.use("Agg")                   # figures go to files

ROOT = Path(__file__).resolve().parents[1]
BENCH = Bench(ROOT)
command, head, plot, render, run_study, write_section = BENCH.command, BENCH.head, BENCH.plot, BENCH.render, BENCH.run_study, BENCH.write_section
