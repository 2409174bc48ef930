"""Inference speed and F1 of the exported student, all measured in one run on CoNLL-2003 test:
PyTorch eager (the student before export), ONNX fp32 and ONNX int8 through the bundle's runtime,
and spaCy en_core_web_sm's NER (tok2vec + ner) as the anchor users would otherwise pick; plus the
bundle's `serve` mode under a bounded load from a second process on loopback.

    python bench/inference.py [--run RUN_OR_SWEEP] [--latency-sentences 300] [--serve-requests 400]

Writes the "inference" section of BENCHMARKS.md with ratios to PyTorch eager.
"""
import argparse
import json
import os
import statistics as st
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import urllib.request

from _common import ROOT, command, machine, write_section
from ner_distill import data, infer
from ner_distill.export import best_run, export_bundle
from ner_distill.metrics import scores
from ner_distill.student import Student

p = argparse.ArgumentParser()
p.add_argument("--run", default=str(ROOT / "runs"), help="a training run, or a folder of runs (the best by dev F1)")
p.add_argument("--batch-size", type=int, default=32)
p.add_argument("--latency-sentences", type=int, default=300)
p.add_argument("--serve-requests", type=int, default=400)
p.add_argument("--serve-clients", type=int, default=4)
a = p.parse_args()

run = Path(a.run).resolve()
run = run if (run / "metrics.json").exists() else best_run(run)
print("student:", run)
t0 = time.time()
bundle = export_bundle(run, ROOT / "export", "bench-" + run.name, pack=False)
man = json.loads((bundle / "manifest.json").read_text())
export_s = time.time() - t0

test = data.conll2003("test")
sents, n_words = test.tokens, test.n_tokens
student = Student(run)
taggers = {v: infer.Bundle(bundle, v).tagger for v in ("fp32", "int8")}


from ner_distill.annotate import load_spacy, spacy_docs, spacy_tags

nlp = load_spacy()


def run_spacy(batch):
    return list(spacy_docs(nlp, batch, batch_size=min(256, max(1, len(batch)))))


systems = {
    "PyTorch eager (fp32)": lambda b: student.predict(b, batch_size=a.batch_size),
    "ONNX fp32": lambda b: [t for t, _ in taggers["fp32"].tag(b, a.batch_size)],
    "ONNX int8 (dynamic)": lambda b: [t for t, _ in taggers["int8"].tag(b, a.batch_size)],
    "spaCy en_core_web_sm (tok2vec+ner)": run_spacy,
}
f1 = {"PyTorch eager (fp32)": man["metrics"]["torch"]["test"]["f1"], "ONNX fp32": man["metrics"]["fp32"]["test"]["f1"],
      "ONNX int8 (dynamic)": man["metrics"]["int8"]["test"]["f1"]}
spacy_tags_all = [spacy_tags(d) for d in run_spacy(sents)]
f1["spaCy en_core_web_sm (tok2vec+ner)"] = scores(test.tags, spacy_tags_all)["f1"]

res = {}
lat_sents = sents[: a.latency_sentences]
for name, fn in systems.items():
    fn(sents[:64])                                    # warm-up
    t = time.perf_counter(); fn(sents); thr = n_words / (time.perf_counter() - t)
    lat = []
    for s in lat_sents:
        t = time.perf_counter(); fn([s]); lat.append(1000 * (time.perf_counter() - t))
    lat.sort()
    res[name] = dict(words_per_s=thr, p50=st.median(lat), p99=lat[int(0.99 * (len(lat) - 1))])
    print(name, res[name], f1[name])

# serve: the bundle's runtime in its own process, a bounded load from this one
port = 18000 + os.getpid() % 1000
srv = subprocess.Popen([sys.executable, str(bundle / "ner_distill_infer.py"), "--bundle", str(bundle), "--serve",
                        "--port", str(port), "--max-concurrency", "2"], stderr=subprocess.PIPE, text=True)
url = f"http://127.0.0.1:{port}"
for _ in range(120):
    try:
        urllib.request.urlopen(url + "/health", timeout=1); break
    except OSError:
        time.sleep(0.5)
texts = [" ".join(s) for s in sents[: a.serve_requests]]


def call(text):
    t = time.perf_counter()
    req = urllib.request.Request(url + "/predict", json.dumps({"texts": [text]}).encode(), {"Content-Type": "application/json"})
    json.loads(urllib.request.urlopen(req, timeout=60).read())
    return 1000 * (time.perf_counter() - t)


try:
    call("warm up")
    t = time.perf_counter()
    with ThreadPoolExecutor(a.serve_clients) as ex:
        lat = sorted(ex.map(call, texts))
    serve = dict(rps=len(texts) / (time.perf_counter() - t), p50=st.median(lat), p99=lat[int(0.99 * (len(lat) - 1))])
finally:
    srv.terminate(); srv.wait(10)
print("serve", serve)

base = res["PyTorch eager (fp32)"]
rows = "\n".join(f"| {n} | {100 * f1[n]:.1f} | {r['words_per_s']:,.0f} | **{r['words_per_s'] / base['words_per_s']:.2f}x** | "
                 f"{r['p50']:.1f} | {r['p99']:.1f} |" for n, r in res.items())
write_section("inference", f"""## Inference: PyTorch vs ONNX fp32 vs int8 vs spaCy (`bench/inference.py`)

`{command()}` on {machine()}; all rows measured in the same run, one after another.
Student: `{run.relative_to(ROOT) if run.is_relative_to(ROOT) else run}` (MiniLM-L6, dev F1 {100 * json.loads((run / 'metrics.json').read_text())['dev']['f1']:.1f}),
exported with optimum in {export_s:.0f} s (ONNX export, int8 quantisation and the F1 measurements).
Throughput: all 3,453 CoNLL-2003 test sentences ({n_words:,} words), batch {a.batch_size}, sorted by length.
Latency: batch 1 over the first {len(lat_sents)} test sentences.

| system | test F1 | words/s | vs PyTorch eager | p50 ms (batch 1) | p99 ms (batch 1) |
|---|---|---|---|---|---|
{rows}

Largest |logit| difference ONNX fp32 vs PyTorch on 64 dev sentences: {man['metrics']['max_abs_logit_diff_fp32_vs_torch']:.2e}.
Bundle default: **{man['default_variant']}** ({man['default_reason']}).

`serve` (the bundle runtime, `--max-concurrency 2`) under {a.serve_clients} concurrent clients in a second process on
127.0.0.1, {len(texts)} single-sentence requests: **{serve['rps']:.1f} requests/s**, p50 {serve['p50']:.1f} ms, p99 {serve['p99']:.1f} ms.""")
