"""Word splitting: the runtime's port of spaCy's English tokenizer against spaCy's own on all BBC articles, hyphens
split and kept whole: agreement, disagreements, offsets, speed, CoNLL-2003's convention and (with a bundle) the shipped
student's preference. Only counts and short word examples are written.

    python bench/word_split.py [--bundle export/serve-bench]
"""
import argparse
import json
import time
from pathlib import Path

import spacy

from _common import ROOT, command, machine, render, write_section
from ner_distill import data, infer, speed, sweep_tables, word_agreement
from ner_distill.word_agreement import pct, regex_split, spacy_split

p = argparse.ArgumentParser()
p.add_argument("--bundle", default=str(ROOT / "export" / "serve-bench"),
               help="a bundle to measure the student's hyphen preference with (skipped when absent)")
p.add_argument("--passes", type=int, default=3, help="timed passes per splitter (the first with cold caches)")
a = p.parse_args()
t_start = time.time()
def examples(counter, k, ours="runtime"): return sweep_tables.to_markdown(word_agreement.disagreements(counter, k, ("spaCy", ours)))


rules = json.loads(infer.word_rules_path().read_text(encoding="utf-8"))
splitters = {mode: infer.WordSplitter(rules, mode) for mode in infer.HYPHENS}
arts, conll = data.bbc(), [s for split in ("train", "dev", "test") for s in data.conll2003(split)]   # CoNLL: each token one whitespace chunk
c = word_agreement.agreement_counts(splitters, spacy_split(spacy.blank("en").tokenizer), arts, conll, {"old": regex_split}, progress=True)
paras, n_ref, res, (checked, bad_offsets, uncovered), conll_res, n_conll = (c[k] for k in ("paragraphs", "n_ref", "res", "offsets", "corpus", "n_corpus"))

systems = {"runtime (split)": infer.WordSplitter(rules, "split"), "runtime (keep)": infer.WordSplitter(rules, "keep"), "old regex": regex_split,
           "spaCy tokenizer, words with offsets": spacy_split(spacy.blank("en").tokenizer), "spaCy tokenizer, Doc only": spacy.blank("en").tokenizer}
wps = speed.throughput({k: (lambda qs, f=f: [f(q) for q in qs]) for k, f in systems.items()}, paras, n_ref, a.passes, warmup=0)

student, bundle = "", Path(a.bundle)
if (bundle / "manifest.json").exists():   # CoNLL-2003 test as raw text, entities as character spans against gold's
    brules = json.loads((bundle / infer.WORD_RULES).read_text(encoding="utf-8")) if (bundle / infer.WORD_RULES).exists() else rules
    table = word_agreement.hyphen_f1(infer.Bundle(bundle).tagger.tag, data.conll2003("test"), {m: infer.WordSplitter(brules, m) for m in infer.HYPHENS})
    student = render("word-split-student", bundle=bundle.relative_to(ROOT) if bundle.is_relative_to(ROOT) else bundle,
                     man=json.loads((bundle / "manifest.json").read_text()), table=sweep_tables.to_markdown(table))

sp_, kp, old = res["split"], res["keep"], res["old"]
other = {k: sum(r["other"].values()) for k, r in res.items()}
print(write_section(
    "word-split", head=f"`{command()}` on {machine()}", spacy=spacy.__version__, rules=infer.WORD_RULES, version=infer.splitter_version("split"),
    minutes=(time.time() - t_start) / 60, articles=len(arts), paragraphs=len(paras), n_ref=n_ref, other=other,
    pct={k: pct(r["matched"], n_ref) for k, r in res.items()}, keep_joins=pct(kp["matched"] + kp["hyphen"], n_ref), hyphen_pct=pct(kp["hyphen"], n_ref),
    checked=checked, bad_offsets=bad_offsets, uncovered=uncovered, split_other=examples(sp_["other"], 12),
    joined=sum(kp["joins"].values()), hyphen=kp["hyphen"], top_joins=", ".join(f"`{w}` ({n})" for w, n in kp["joins"].most_common(12)),
    kinds=sweep_tables.to_markdown(word_agreement.join_kinds(kp["joins"])),
    keep_other=examples(kp["other"], 6), old_other=examples(old["other"], 8, "old regex"), warm=a.passes - 1,
    speed=sweep_tables.to_markdown(speed.cold_warm_table(wps, "spaCy tokenizer, words with offsets")), n_conll=n_conll, conll_split=pct(conll_res["split"]["matched"], n_conll),
    conll_keep=pct(conll_res["keep"]["matched"], n_conll), student=student, default=infer.DEFAULT_HYPHENS))
