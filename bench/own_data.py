"""Own data and entity types on real data, two cases:

1. `--case people-companies`: a schema that renames and narrows CoNLL-2003's types (PERSON and COMPANY only,
   the other types O), built from the CoNLL-2003 files a user would hold and loaded from a text+spans form
   (Prodigy-style JSONL, converted with the runtime's word splitter). The teacher is the recorded gpt-3.5
   labels, mapped to the schema the same way and replayed with `annotate --teacher recorded --labels`.
   `gold` and `power_decay` (the best blend of the strategy study), 3 seeds, equal steps, through the sweep.
2. `--case ontonotes-bbc`: a schema with OntoNotes types CoNLL lacks (PERSON, ORG, GPE, DATE, MONEY, PERCENT) on
   BBC News sentences taught by spaCy en_core_web_sm. There is no gold: train, dev and test are disjoint sets of
   teacher-labelled sentences, so the score is agreement with the teacher on held-out sentences, not accuracy.

Everything is written under runs/own-data/ (never committed: it holds CoNLL and BBC text). Resumable.

    python bench/own_data.py --case people-companies [--seeds 0 1 2]
    python bench/own_data.py --case ontonotes-bbc
"""
import argparse
import json
import subprocess
import sys
import time

from _common import ROOT, command, machine, run_study, write_section
from ner_distill import data
from ner_distill.annotate.teachers import load_spacy, spacy_docs, spacy_tags

OUT = ROOT / "runs" / "own-data"
RENAME = {"PER": "PERSON", "ORG": "COMPANY"}


def mapped(tags):
    return ["O" if t == "O" or t[2:] not in RENAME else t[:2] + RENAME[t[2:]] for t in tags]


def people_companies(seeds):
    d = OUT / "people-companies"
    d.mkdir(parents=True, exist_ok=True)
    (d / "schema.yaml").write_text("name: people-companies\ntypes:\n"
                                   "  - {name: PERSON, description: 'names of people, real or fictional, including first or last names alone.', synonyms: [PER]}\n"
                                   "  - {name: COMPANY, description: 'names of companies, institutions, government bodies, parties, teams and clubs.', synonyms: [ORG]}\n")
    for split in ("train", "dev", "test"):          # the user's gold, as text with character spans
        data.write_spans([s.with_tags(mapped(s.tags)) for s in data.conll2003(split)], d / f"{split}.jsonl")
    data.write_spans([s.with_tags(mapped(s.tags)) for s in data.recorded_llm_labels()], d / "gpt35-teacher.jsonl")
    (d / "dataset.yaml").write_text("name: pc\nschema: schema.yaml\ntrain: train.jsonl\ndev: dev.jsonl\ntest: test.jsonl\n")
    ann = d / "ann-gpt35"
    if not (ann / "labels.jsonl").exists():
        subprocess.run([sys.executable, "-m", "ner_distill.cli", "annotate", "--dataset", str(d / "dataset.yaml"), "--source", "train",
                        "--teacher", "recorded", "--labels", str(d / "gpt35-teacher.jsonl"), "--quiet", "--out", str(ann)], check=True)
    q = json.loads((ann / "quality.json").read_text())
    n_ok = json.loads((ann / "parse_report.json").read_text())["status"].get("ok", 0)
    st = data.data_stats(d / "dataset.yaml")
    run_study("own-data-people-companies",
              ["--profile", "study", "--dataset", str(d / "dataset.yaml"), "--strategies", "gold", "power_decay",
               "--seeds", *seeds, "--param", f"distilled={ann}", "--quiet"],
              "Own schema from CoNLL-2003 files: PERSON and COMPANY from text+spans (`bench/own_data.py --case people-companies`)",
              "Schema `people-companies`: CoNLL-2003's PER and ORG renamed PERSON and COMPANY, LOC and MISC not annotated. All three splits "
              "loaded from Prodigy-style text+spans JSONL written from the CoNLL files, converted to words by the runtime's splitter "
              f"(train: {st['pc-train']['report'].get('spans', 0):,} spans, {st['pc-train']['report'].get('spans_widened', 0):,} widened to word edges, "
              f"{st['pc-train']['report'].get('spans_lost_collision', 0) + st['pc-train']['report'].get('spans_lost_no_word', 0):,} lost). "
              f"Teacher: the recorded gpt-3.5 labels of 5,873 train sentences mapped the same way (F1 against the user's gold "
              f"{q['f1']:.3f}; PERSON {q['per_type']['PERSON']['f1']:.3f}, COMPANY {q['per_type']['COMPANY']['f1']:.3f}), replayed by text: "
              f"they label {n_ok:,} train sentences, the 5,873 and the repeats of their texts elsewhere in train (the recorded "
              "teacher matches a labels file to sentences by their words). Gold pool 1,000 sentences disjoint from all of them; "
              "`power_decay` is the best blend of the strategy study; equal steps for both methods.")


def ontonotes_bbc(n_train=4000, n_dev=1000, n_test=1000):
    d = OUT / "ontonotes-bbc"
    d.mkdir(parents=True, exist_ok=True)
    (d / "schema.yaml").write_text("name: ontonotes-six\ntypes:\n"
                                   "  - {name: PERSON, description: people}\n  - {name: ORG, description: organisations}\n"
                                   "  - {name: GPE, description: 'countries, cities, states'}\n  - {name: DATE, description: 'dates and periods'}\n"
                                   "  - {name: MONEY, description: 'monetary values'}\n  - {name: PERCENT, description: percentages}\n")
    schema = data.load_schema(d / "schema.yaml")
    t0 = time.time()
    if not (d / "test.conll").exists():
        sents = data.bbc_sentences(n_train + n_dev + n_test, seed=0)
        labelled = data.Corpus([s.with_tags(spacy_tags(doc, schema)) for s, doc in zip(sents, spacy_docs(load_spacy(), sents.tokens))], sents.name)
        order = list(labelled)
        import random
        random.Random(0).shuffle(order)
        parts = {"train": order[:n_train], "dev": order[n_train:n_train + n_dev], "test": order[n_train + n_dev:]}
        for k, v in parts.items(): data.write_conll(v, d / f"{k}.conll")
    (d / "dataset.yaml").write_text("name: bbc6\nschema: schema.yaml\ntrain: train.conll\ndev: dev.conll\ntest: test.conll\n")
    run = d / "runs" / "gold-s0"
    subprocess.run([sys.executable, "-m", "ner_distill.cli", "train", "--dataset", str(d / "dataset.yaml"), "--strategy", "gold",
                    "--distilled", "none", "--gold-size", "all", "--out", str(run)], check=True)
    m = json.loads((run / "metrics.json").read_text())
    st = data.data_stats(d / "dataset.yaml")
    types = schema.names
    rows = "\n".join(f"| {t} | {st['bbc6-train']['entities'].get(t, 0):,} | {st['bbc6-test']['entities'].get(t, 0):,} | "
                     f"{100 * m['test']['per_type'].get(t, {}).get('precision', 0):.1f} | {100 * m['test']['per_type'].get(t, {}).get('recall', 0):.1f} | "
                     f"**{100 * m['test']['per_type'].get(t, {}).get('f1', 0):.1f}** |" for t in types)
    write_section("own-data-ontonotes-bbc", f"""## OntoNotes types on BBC News, taught by spaCy: agreement, not accuracy (`bench/own_data.py --case ontonotes-bbc`)

`{command()}` on {machine()}; {(time.time() - t0) / 60:.0f} min.

Schema `ontonotes-six` (PERSON, ORG, GPE, DATE, MONEY, PERCENT: DATE, MONEY and PERCENT are not CoNLL types). {n_train + n_dev + n_test:,}
BBC News sentences (seeded sample) labelled by spaCy en_core_web_sm, its OntoNotes labels kept where the schema has them, then
split at random into disjoint train / dev / test of {n_train:,} / {n_dev:,} / {n_test:,}. There is **no gold** here: the
student (MiniLM-L6, `gold` strategy on the teacher-labelled train, {m['steps']} steps, one seed) is scored against the teacher's
labels of held-out sentences, so the figures say how well it **agrees with spaCy**, not how accurate either is.

| type | train entities | test entities | precision vs teacher | recall vs teacher | agreement F1 |
|---|---|---|---|---|---|
{rows}

Overall agreement F1 on the held-out test sentences: **{100 * m['test']['f1']:.1f}** (dev {100 * m['dev']['f1']:.1f}).
""")


p = argparse.ArgumentParser()
p.add_argument("--case", choices=["people-companies", "ontonotes-bbc"], required=True)
p.add_argument("--seeds", nargs="+", default=["0", "1", "2"])
a = p.parse_args()
people_companies(a.seeds) if a.case == "people-companies" else ontonotes_bbc()
