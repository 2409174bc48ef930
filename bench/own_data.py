"""Own data and entity types on real data: `people-companies`, CoNLL-2003's PER and ORG renamed and loaded from
text+spans, taught by the recorded gpt-3.5 labels mapped the same way (gold and power_decay, 3 seeds, through the
sweep); `ontonotes-bbc`, OntoNotes types on BBC News taught by spaCy, scored as agreement with the teacher (no gold).
Everything is written under runs/own-data/ (never committed: it holds CoNLL and BBC text). Resumable.

    python bench/own_data.py --case people-companies [--seeds 0 1 2]
    python bench/own_data.py --case ontonotes-bbc
"""
import argparse
import json
import random
import shutil
import time

from _common import ROOT, annotate_once, cli, command, machine, run_study, write_section
from ner_distill import data, formats, runs as runfolders, study, sweep_tables
from ner_distill.annotate.teachers import load_spacy, spacy_docs, spacy_tags

OUT = ROOT / "runs" / "own-data"
RENAME = {"PER": "PERSON", "ORG": "COMPANY"}


def mapped(tags):
    return ["O" if t == "O" or t[2:] not in RENAME else t[:2] + RENAME[t[2:]] for t in tags]


def people_companies(seeds):
    d = OUT / "people-companies"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "bench" / "schemas" / "people-companies.yaml", d / "schema.yaml")
    for split in ("train", "dev", "test"):          # the user's gold, as text with character spans
        formats.write_spans([s.with_tags(mapped(s.tags)) for s in data.conll2003(split)], d / f"{split}.jsonl")
    formats.write_spans([s.with_tags(mapped(s.tags)) for s in data.recorded_llm_labels()], d / "gpt35-teacher.jsonl")
    (d / "dataset.yaml").write_text("name: pc\nschema: schema.yaml\ntrain: train.jsonl\ndev: dev.jsonl\ntest: test.jsonl\n")
    ann = annotate_once(d / "ann-gpt35", "--dataset", d / "dataset.yaml", "--source", "train", "--teacher", "recorded",
                        "--labels", d / "gpt35-teacher.jsonl")
    q = study.read_quality(ann)
    n_ok = json.loads((ann / "parse_report.json").read_text())["status"].get("ok", 0)
    r = data.data_stats(d / "dataset.yaml")["pc-train"]["report"]
    run_study("own-data-people-companies", ["--profile", "study", "--dataset", d / "dataset.yaml", "--strategies", "gold", "power_decay",
                                            "--seeds", *seeds, "--param", f"distilled={ann}", "--quiet"],
              r={k: r.get(k, 0) for k in ("spans", "spans_widened")}, lost=r.get("spans_lost_collision", 0) + r.get("spans_lost_no_word", 0),
              q=q, n_ok=n_ok)


def ontonotes_bbc(n_train=4000, n_dev=1000, n_test=1000):
    d = OUT / "ontonotes-bbc"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "bench" / "schemas" / "ontonotes-six.yaml", d / "schema.yaml")
    schema = formats.load_schema(d / "schema.yaml")
    t0 = time.time()
    if not (d / "test.conll").exists():
        sents = data.bbc_sentences(n_train + n_dev + n_test, seed=0)
        labelled = formats.Corpus([s.with_tags(spacy_tags(doc, schema)) for s, doc in zip(sents, spacy_docs(load_spacy(), sents.tokens))], sents.name)
        order = list(labelled)
        random.Random(0).shuffle(order)
        parts = {"train": order[:n_train], "dev": order[n_train:n_train + n_dev], "test": order[n_train + n_dev:]}
        for k, v in parts.items(): formats.write_conll(v, d / f"{k}.conll")
    (d / "dataset.yaml").write_text("name: bbc6\nschema: schema.yaml\ntrain: train.conll\ndev: dev.conll\ntest: test.conll\n")
    run = d / "runs" / "gold-s0"
    cli("train", "--dataset", d / "dataset.yaml", "--strategy", "gold", "--distilled", "none", "--gold-size", "all", "--out", run)
    m = runfolders.RunFolder(run).metrics().to_dict()
    st = data.data_stats(d / "dataset.yaml")
    table = study.per_type_table(m["test"], {f"{k} entities": st[f"bbc6-{k}"]["entities"] for k in ("train", "test")},
                                 ("precision vs teacher", "recall vs teacher", "agreement F1"))
    write_section("own-data-ontonotes-bbc", head=f"`{command()}` on {machine()}", minutes=(time.time() - t0) / 60, m=m,
                  n=n_train + n_dev + n_test, sizes=f"{n_train:,} / {n_dev:,} / {n_test:,}", table=sweep_tables.to_markdown(table),
                  test=100 * m["test"]["f1"], dev=100 * m["dev"]["f1"])


p = argparse.ArgumentParser()
p.add_argument("--case", choices=["people-companies", "ontonotes-bbc"], required=True)
p.add_argument("--seeds", nargs="+", default=["0", "1", "2"])
a = p.parse_args()
people_companies(a.seeds) if a.case == "people-companies" else ontonotes_bbc()
