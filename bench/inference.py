"""Inference: students of 6, 4 and 3 layers, exported to ONNX fp32 and int8, against spaCy, every system measured in
one run on CoNLL-2003 test (words/s, raw text, batch-1 latency), the int8 candidates, and a plot of F1 against speed.
Run it alone on an idle machine.

    python bench/inference.py [--runs RUN6 RUN4 RUN3] [--latency-sentences 300]   # default: bench/train_speed.py's runs
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from _common import ROOT, command, machine, write_section
from ner_distill import data, speed, sweep_tables

p = argparse.ArgumentParser()
p.add_argument("--runs", nargs="+", default=[str(ROOT / "runs" / "demo" / "sweep" / "runs" / "gold-g1000-s0")] +   # the demo's bundle
               [str(ROOT / "runs" / "student-extra" / f"gold-{k}layers-on") for k in (4, 3)])            # 4 and 3 layers, word shape on
p.add_argument("--batch-size", type=int, default=32)
p.add_argument("--latency-sentences", type=int, default=300)
a = p.parse_args()
t_start, load_before = time.time(), os.getloadavg()
test, work = data.conll2003("test"), Path(tempfile.mkdtemp())
ceiling = speed.matmul_ceiling(1024)       # GFLOP/s of one large fp32 and int8 matrix multiply on these cores
spacy, points, spacy_wps = speed.spacy_row(test, a.batch_size, a.latency_sentences)
candidates = speed.int8_candidates(a.runs[0], work, test, a.batch_size)     # on the first (6-layer) student
rows = [spacy]
for i, run in enumerate(a.runs):
    found, found_points = speed.model_rows(run, work, test, a.batch_size, a.latency_sentences, ceiling, eager=i == 0)
    rows.extend(found)
    points.update(found_points)
    print(run, "done", flush=True)

speed.plot_speed(points, "spaCy", "words/s (CoNLL-2003 test, pre-tokenised, batch 32)").savefig(ROOT / "bench" / "results" / "inference.png", dpi=120)
print(write_section("inference", head=f"`{command()}` on {machine()}", minutes=(time.time() - t_start) / 60, a=a,
                    load=f"Load average before the run: {load_before[0]:.2f}; nothing else heavy ran beside it.",
                    n_words=test.n_tokens, runs=", ".join(f"`{Path(r).name}`" for r in a.runs),
                    spacy_batch=spacy_wps[a.batch_size], spacy_256=spacy_wps[256], latency=a.latency_sentences,
                    ceiling=f"{ceiling['fp32']:,.0f} GFLOP/s fp32, {ceiling['int8']:,.0f} GFLOP/s int8",
                    table=sweep_tables.to_markdown(speed.inference_table(rows)), candidates=sweep_tables.to_markdown(pd.DataFrame(candidates))))
