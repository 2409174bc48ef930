"""Inference: students of 6, 4 and 3 layers, exported to ONNX fp32 and int8, against spaCy, every system measured in
one run on CoNLL-2003 test (words/s, raw text, batch-1 latency), the int8 candidates, and a plot of F1 against speed.
Run it alone on an idle machine.

    python bench/inference.py [--runs RUN6 RUN4 RUN3] [--latency-sentences 300]   # default: bench/train_speed.py's runs
"""
import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from _common import ROOT, command, machine, write_section
from ner_distill import data, infer, runs as runfolders, speed, sweep_tables
from ner_distill.annotate.teachers import load_spacy, spacy_docs, spacy_tags
from ner_distill.onnx_variants import QUANTISATIONS, to_onnx
from ner_distill.export import export_bundle, measure
from ner_distill.metrics import scores
from ner_distill.student import Student

p = argparse.ArgumentParser()
p.add_argument("--runs", nargs="+", default=[str(ROOT / "runs" / "demo" / "sweep" / "runs" / "gold-g1000-s0")] +   # the demo's bundle
               [str(ROOT / "runs" / "student-extra" / f"gold-{k}layers-on") for k in (4, 3)])            # 4 and 3 layers, word shape on
p.add_argument("--batch-size", type=int, default=32)
p.add_argument("--latency-sentences", type=int, default=300)
a = p.parse_args()
t_start, load_before = time.time(), os.getloadavg()
test = data.conll2003("test")
sents, n_words, lat_sents = test.tokens, test.n_tokens, test.tokens[: a.latency_sentences]
texts = [" ".join(s) for s in sents]


def best(fn, items) -> float:
    "Words/s of fn over all items: the best of 3 passes after a warm-up (the pass least disturbed by other work)."
    return max(speed.throughput({"": fn}, items, n_words)[""])


row = speed.system_row
ceiling = speed.matmul_ceiling(1024)       # GFLOP/s of one large fp32 and int8 matrix multiply on these cores
nlp = load_spacy()
spacy_f1 = scores(test.tags, [spacy_tags(d) for d in spacy_docs(nlp, sents, 256)])["f1"]
spacy_wps = {b: best(lambda x, b=b: list(spacy_docs(nlp, x, b)), sents) for b in (a.batch_size, 256)}
rows = [row("spaCy en_core_web_sm (tok2vec + ner)", spacy_f1, None, max(spacy_wps.values()),
            best(lambda x: list(nlp.pipe(x, batch_size=256)), texts), speed.latency(lambda x: list(spacy_docs(nlp, x, 1)), lat_sents))]
points, candidates, work = {"spaCy": (rows[0]["words/s"], spacy_f1)}, [], Path(tempfile.mkdtemp())
for i, run in enumerate(map(Path, a.runs)):
    name = f"{json.loads((run / 'config.json').read_text()).get('layers') or 6}-layer"
    b = export_bundle(run, work, name, wheelhouse=False, pack=False)
    man, labels = json.loads((b / "manifest.json").read_text()), json.loads((b / "labels.json").read_text())["labels"]
    if i == 0:   # the eager student, and the int8 candidates, on the first (6-layer) student
        stu = Student(run)
        rows.append(row(f"{name} PyTorch eager (fp32)", man["metrics"]["torch"]["test"]["f1"], man["metrics"]["torch"]["dev"]["f1"],
                        best(lambda x: stu.predict(x, batch_size=a.batch_size), sents), None,
                        speed.latency(lambda x: stu.predict(x, batch_size=1), lat_sents)))
        files = to_onnx(run / "model", work / "candidates", quantisations=tuple(QUANTISATIONS), recipes=(recipes := {}))
        m = measure(run / "model", files, labels)
        for v, f in files.items():
            tg, r = infer.Tagger(f, run / "model" / "tokenizer.json", labels), recipes.get(v, {})
            candidates.append({"variant": v, **{k: r.get(k, "-") for k in ("scales", "graph", "weights")},
                               "dev F1": f"{100 * m[v]['dev']['f1']:.2f}", "test F1": f"{100 * m[v]['test']['f1']:.2f}",
                               "words/s": f"{best(lambda x: tg.tag(x, a.batch_size), sents):,.0f}"})
    mcfg = runfolders.RunFolder(run).model_config()
    for v in man["variants"]:
        bd = infer.Bundle(b, v)
        wps = best(lambda x: bd.tagger.tag(x, a.batch_size), sents)
        rows.append(row(f"{name} ONNX {v}{' (default)' if man['default_variant'] == v else ''}", man["variants"][v]["test_f1"],
                        man["variants"][v]["dev_f1"], wps, best(lambda x: bd.predict_texts(x, a.batch_size), texts),
                        speed.latency(lambda x: bd.tagger.tag(x, 1), lat_sents),
                        speed.limit_columns(wps, bd.tagger, sents, mcfg, "fp32" if v == "fp32" else "int8", ceiling)))
        points[f"{name} {v}"] = (rows[-1]["words/s"], man["variants"][v]["test_f1"])
    print(name, "done", flush=True)

speed.plot_speed(points, "spaCy", "words/s (CoNLL-2003 test, pre-tokenised, batch 32)").savefig(ROOT / "bench" / "results" / "inference.png", dpi=120)
table = pd.DataFrame(rows).fillna("-")
table.insert(4, "vs spaCy", [f"**{w / rows[0]['words/s']:.2f}x**" for w in table["words/s"]])
table["words/s"] = table["words/s"].map("{:,.0f}".format)
print(write_section("inference", head=f"`{command()}` on {machine()}", load=f"Load average before the run: {load_before[0]:.2f}; nothing else heavy ran beside it.", minutes=(time.time() - t_start) / 60, a=a, n_words=n_words,
                    runs=", ".join(f"`{Path(r).name}`" for r in a.runs), spacy_batch=spacy_wps[a.batch_size], spacy_256=spacy_wps[256],
                    latency=len(lat_sents), ceiling=f"{ceiling['fp32']:,.0f} GFLOP/s fp32, {ceiling['int8']:,.0f} GFLOP/s int8", table=sweep_tables.to_markdown(table), candidates=sweep_tables.to_markdown(pd.DataFrame(candidates))))
