"""Inference: students of 6, 4 and 3 layers, each exported to ONNX fp32 and int8, against spaCy
en_core_web_sm, every system measured in one run, one after another, on the same CoNLL-2003 test
sentences (pre-tokenised words; raw text beside it); plus the int8 candidates on the 6-layer student,
batch-1 latency, a plot of test F1 against words/s, and the bundle's `serve` mode under a bounded load
from a second process on loopback. Run it alone on an idle machine.

    python bench/inference.py [--runs RUN6 RUN4 RUN3] [--latency-sentences 300]

`--runs` default: the 6-, 4- and 3-layer power_decay students of bench/train_speed.py. Writes the
"inference" section of BENCHMARKS.md and bench/results/inference.png.
"""
import argparse
import json
import os
import statistics as st
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import urllib.request

from _common import ROOT, command, machine, write_section
from ner_distill import data, infer
from ner_distill.annotate.teachers import load_spacy, spacy_docs, spacy_tags
from ner_distill.export import QUANTISATIONS, export_bundle, measure, to_onnx
from ner_distill.metrics import scores
from ner_distill.student import Student

p = argparse.ArgumentParser()
p.add_argument("--runs", nargs="+", default=[str(ROOT / "runs" / "train-speed" / r) for r in ("run1", "run5", "run6")])   # 6, 4, 3 layers
p.add_argument("--batch-size", type=int, default=32)
p.add_argument("--latency-sentences", type=int, default=300)
p.add_argument("--serve-requests", type=int, default=400)
p.add_argument("--serve-clients", type=int, default=4)
a = p.parse_args()
t_start = time.time()

test = data.conll2003("test")
sents, n_words = test.tokens, test.n_tokens
texts = [" ".join(s) for s in sents]
lat_sents = sents[: a.latency_sentences]


def timed(fn, items, n, repeats=3):
    "Words/s of fn over all items, after a warm-up: the best of `repeats` passes (the least disturbed by other work)."
    fn(items[:64])
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter(); fn(items); best = min(best, time.perf_counter() - t)
    return n / best


def latency(fn):
    lat = []
    for s in lat_sents:
        t = time.perf_counter(); fn([s]); lat.append(1000 * (time.perf_counter() - t))
    lat.sort()
    return st.median(lat), lat[int(0.99 * (len(lat) - 1))]


rows, points = [], []
nlp = load_spacy()
spacy_f1 = scores(test.tags, [spacy_tags(d) for d in spacy_docs(nlp, sents, 256)])["f1"]
spacy_wps = {b: timed(lambda x, b=b: list(spacy_docs(nlp, x, b)), sents, n_words) for b in (a.batch_size, 256)}
spacy_best = max(spacy_wps.values())
spacy_raw = timed(lambda x: list(nlp.pipe(x, batch_size=256)), texts, n_words)
sp50, sp99 = latency(lambda x: list(spacy_docs(nlp, x, 1)))
rows.append(("spaCy en_core_web_sm (tok2vec + ner)", "", spacy_f1, None, spacy_best, spacy_raw, sp50, sp99))
points.append(("spaCy", spacy_best, spacy_f1))

work = Path(tempfile.mkdtemp())
candidates = []
bundles = {}
for i, run in enumerate(map(Path, a.runs)):
    cfg = json.loads((run / "config.json").read_text())
    layers = cfg.get("layers") or 6
    name = f"{layers}-layer"
    b = export_bundle(run, work, name, wheelhouse=False, pack=False)
    man = json.loads((b / "manifest.json").read_text())
    bundles[name] = (b, man)
    if i == 0:   # the eager student, and the int8 candidates, on the first (6-layer) student
        stu = Student(run)
        eager = timed(lambda x: stu.predict(x, batch_size=a.batch_size), sents, n_words)
        e50, e99 = latency(lambda x: stu.predict(x, batch_size=1))
        rows.append((f"{name} PyTorch eager (fp32)", "", man["metrics"]["torch"]["test"]["f1"], man["metrics"]["torch"]["dev"]["f1"],
                     eager, None, e50, e99))
        files = to_onnx(run / "model", work / "candidates", quantisations=tuple(QUANTISATIONS))
        m = measure(run / "model", files, man["labels"] if "labels" in man else json.loads((b / "labels.json").read_text())["labels"])
        for v, f in files.items():
            tg = infer.Tagger(f, run / "model" / "tokenizer.json", json.loads((b / "labels.json").read_text())["labels"])
            candidates.append((v, m[v]["dev"]["f1"], m[v]["test"]["f1"], timed(lambda x: tg.tag(x, a.batch_size), sents, n_words)))
    for v in ("fp32", "int8"):
        bd = infer.Bundle(b, v)
        wps = timed(lambda x: bd.tagger.tag(x, a.batch_size), sents, n_words)
        raw = timed(lambda x: bd.predict_texts(x, a.batch_size), texts, n_words)
        l50, l99 = latency(lambda x: bd.tagger.tag(x, 1))
        default = " (default)" if man["default_variant"] == v else ""
        rows.append((f"{name} ONNX {v}{default}", v, man["variants"][v]["test_f1"], man["variants"][v]["dev_f1"], wps, raw, l50, l99))
        points.append((f"{name} {v}", wps, man["variants"][v]["test_f1"]))
    print(name, "done", flush=True)

# serve: the first (6-layer) bundle, default variant, in its own process, a bounded load from this one
sb, sman = bundles[list(bundles)[0]]
port = 18000 + os.getpid() % 1000
srv = subprocess.Popen([sys.executable, str(sb / "ner_distill_infer.py"), "--bundle", str(sb), "--serve",
                        "--port", str(port), "--max-concurrency", "2"], stderr=subprocess.PIPE, text=True)
url = f"http://127.0.0.1:{port}"
for _ in range(120):
    try:
        urllib.request.urlopen(url + "/health", timeout=1); break
    except OSError:
        time.sleep(0.5)


def call(text):
    t = time.perf_counter()
    req = urllib.request.Request(url + "/predict", json.dumps({"texts": [text]}).encode(), {"Content-Type": "application/json"})
    json.loads(urllib.request.urlopen(req, timeout=60).read())
    return 1000 * (time.perf_counter() - t)


try:
    call("warm up")
    t = time.perf_counter()
    with ThreadPoolExecutor(a.serve_clients) as ex:
        lat = sorted(ex.map(call, texts[: a.serve_requests]))
    serve = dict(rps=a.serve_requests / (time.perf_counter() - t), p50=st.median(lat), p99=lat[int(0.99 * (len(lat) - 1))])
finally:
    srv.terminate(); srv.wait(10)

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for label, wps, f1 in points:
    ax.scatter(wps, 100 * f1, s=30, color="C3" if label == "spaCy" else ("C0" if "fp32" in label else "C1"))
    ax.annotate(label, (wps, 100 * f1), fontsize=7, xytext=(4, 3), textcoords="offset points")
ax.axvline(1.2 * spacy_best, color="grey", ls=":", lw=1, label="1.2x spaCy's words/s")
ax.axhline(100 * spacy_f1 + 15, color="grey", ls="--", lw=1, label="spaCy's F1 + 15")
ax.set(xlabel="words/s (CoNLL-2003 test, pre-tokenised, batch 32)", ylabel="test F1", title="F1 against speed, one run")
ax.legend(fontsize=7, loc="lower right"); plt.tight_layout()
fig.savefig(ROOT / "bench" / "results" / "inference.png", dpi=120)

fmt = lambda x, f: "-" if x is None else f.format(x)
table = "\n".join(f"| {n} | {fmt(t and 100 * t, '{:.1f}')} | {fmt(d and 100 * d, '{:.1f}')} | {w:,.0f} | **{w / spacy_best:.2f}x** | "
                  f"{fmt(r, '{:,.0f}')} | {l50:.1f} | {l99:.1f} |" for n, _, t, d, w, r, l50, l99 in rows)
cand = "\n".join(f"| {v} | {'fused' if QUANTISATIONS.get(v, (False,))[0] else '-'} | {'per channel' if QUANTISATIONS.get(v, (0, False))[1] else ('per tensor' if v != 'fp32' else '-')} | "
                 f"{100 * d:.2f} | {100 * t:.2f} | {w:,.0f} |" for v, d, t, w in candidates)
write_section("inference", f"""## Inference: students of 6, 4 and 3 layers, fp32 and int8, against spaCy (`bench/inference.py`)

`{command()}` on {machine()}; every row measured in the same run, one after another, {(time.time() - t_start) / 60:.0f} min in all.
Students: `power_decay` runs of `bench/train_speed.py` (1,000 gold + 5,873 gpt-3.5-labelled CoNLL-2003 sentences, 247 steps),
{', '.join(f'`{Path(r).name}`' for r in a.runs)}; each exported with `ner-distill export` (int8: dynamic, per-channel
weights; the default variant chosen on dev). Throughput: all 3,453 CoNLL-2003 test sentences ({n_words:,} words) as pre-tokenised
words, batch {a.batch_size}; raw text: the same sentences as text through the bundle's word splitter (spaCy: its tokenizer).
spaCy's words/s is the faster of batch {a.batch_size} ({spacy_wps[a.batch_size]:,.0f}) and batch 256 ({spacy_wps[256]:,.0f}). Words/s: the best of 3 passes over all sentences. Latency: batch 1 over the first {len(lat_sents)} test sentences.

| system | test F1 | dev F1 | words/s | vs spaCy | raw-text words/s | p50 ms (batch 1) | p99 ms (batch 1) |
|---|---|---|---|---|---|---|---|
{table}

![test F1 against words/s](bench/results/inference.png)

int8 candidates on the 6-layer student (same run; the bundle ships `int8`):

| variant | graph | weights | dev F1 | test F1 | words/s |
|---|---|---|---|---|---|
{cand}

`serve` (the {list(bundles)[0]} bundle's runtime, default variant, `--max-concurrency 2`) under {a.serve_clients} concurrent clients in a second process on
127.0.0.1, {a.serve_requests} single-sentence requests: **{serve['rps']:.1f} requests/s**, p50 {serve['p50']:.1f} ms, p99 {serve['p99']:.1f} ms.
""")
print(json.dumps([r[:1] + tuple(x if not isinstance(x, float) else round(x, 4) for x in r[1:]) for r in rows], indent=1))
