"""Word splitting: the runtime's port of spaCy's English tokenizer (`ner_distill.infer.split_words`, rules
from `en_word_rules.json`) against spaCy 3.8's own (`spacy.blank("en").tokenizer`), on all 2,224 BBC
articles (title and paragraphs, as `ner_distill.data` reads them), with hyphens split (spaCy) and kept
whole (CoNLL-2003). In one run:

- agreement: the share of spaCy's non-space words that the runtime reproduces, the two word lists of each
  paragraph aligned by difflib.SequenceMatcher (autojunk=False); for `keep`, the words spaCy splits at a
  hyphen that `keep` joins are counted apart;
- the most common disagreements (the stretches of text the two cut differently, found by character offsets);
- offsets: `text[start:end] == word` for every word of every article, and the words cover every
  non-space character once;
- speed: words/s of the runtime, the old one-regex splitter and spaCy's tokenizer, side by side;
- which hyphen convention CoNLL-2003's tokens follow, and (with a bundle) which one the shipped student
  scores better with on CoNLL-2003 test as raw text.

    python bench/word_split.py [--bundle export/serve-bench]

Writes the "word-split" section of BENCHMARKS.md. The BBC and CoNLL text is read at run time; only
counts and short word examples are written.
"""
import argparse
import json
import re
import time
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path

import spacy

from _common import ROOT, command, machine, write_section
from ner_distill import data, infer

p = argparse.ArgumentParser()
p.add_argument("--bundle", default=str(ROOT / "export" / "serve-bench"),
               help="a bundle to measure the student's hyphen preference with (skipped when absent)")
p.add_argument("--passes", type=int, default=3, help="timed passes per splitter (the first with cold caches)")
a = p.parse_args()
t_start = time.time()

OLD_RE = re.compile(r"(?:[A-Za-z]\.){2,}|\w+(?:[-'’.&]\w+)*|[^\w\s]", re.UNICODE)   # the runtime's splitter before this one
def old_split(text): return [(m.group(), m.start(), m.end()) for m in OLD_RE.finditer(text)]

rules = json.loads(infer.word_rules_path().read_text(encoding="utf-8"))
arts = data.bbc()
paras = [q.strip() for art in arts for q in [art.title, *re.split(r"\n\s*\n", art.text)] if q.strip()]
nlp = spacy.blank("en")
ref = [[(t.text, t.idx, t.idx + len(t)) for t in d if not t.is_space] for d in nlp.tokenizer.pipe(paras)]
n_ref = sum(map(len, ref))
print(f"{len(arts)} articles, {len(paras):,} paragraphs, {n_ref:,} spaCy words")


def is_hyphen_join(sp, ours):
    "A `keep` word that spaCy writes as pieces around `-`: the same characters, ours with fewer words."
    return "".join(sp) == "".join(ours) and len(ours) < len(sp) and all("-" in w for w in ours if w not in sp)


def differences(sp, ours):
    "The regions of text the two splits cut differently: (spaCy's words there, ours), found by character offsets."
    S, O = {(a, b) for _, a, b in sp}, {(a, b) for _, a, b in ours}
    loose = sorted([(a, b, 0, w) for w, a, b in sp if (a, b) not in O] + [(a, b, 1, w) for w, a, b in ours if (a, b) not in S])
    regions = []
    for a, b, side, w in loose:
        if regions and a < regions[-1][1]: regions[-1][1] = max(regions[-1][1], b)
        else: regions.append([a, b, [], []])
        regions[-1][2 + side].append(w)
    return [(r[2], r[3]) for r in regions]


def agreement(split_fn, refs=ref, texts=paras):
    """spaCy words matched by SequenceMatcher (word strings, per paragraph); spaCy words in hyphen joins and a
    Counter of the other disagreements (spaCy side, ours), both from the regions the two cut differently."""
    global joins
    matched, hyph, other, joins = 0, 0, Counter(), Counter()
    for sp, text in zip(refs, texts):
        ours = split_fn(text)
        if ours == sp: matched += len(sp); continue
        a, b = [w for w, _, _ in sp], [w for w, _, _ in ours]
        matched += sum(m.size for m in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
        for x, y in differences(sp, ours):
            if is_hyphen_join(x, y): hyph += len(x); joins.update(w for w in y if w not in x)
            else: other[(" ".join(x), " ".join(y))] += max(len(x), 1)
    return matched, hyph, other


res = {}
for mode in infer.HYPHENS:
    m, h, o = agreement(infer.WordSplitter(rules, mode))
    res[mode] = dict(matched=m, hyphen=h, other=o, joins=joins)
    print(f"{mode}: {100 * m / n_ref:.3f} % of spaCy's words reproduced; hyphen joins {h:,} words; other {sum(o.values()):,}")
m_old, h_old, o_old = agreement(old_split)
print(f"old regex: {100 * m_old / n_ref:.3f} %")

# offsets over whole articles (title, blank line, body: as the file has them)
bad_off = bad_cover = n_checked = 0
for mode in infer.HYPHENS:
    sp = infer.WordSplitter(rules, mode)
    for art in arts:
        text = f"{art.title}\n\n{art.text}"
        ws = sp(text)
        n_checked += len(ws)
        bad_off += sum(text[s:e] != w for w, s, e in ws)
        bad_cover += "".join(w for w, _, _ in ws) != re.sub(r"\s+", "", text) or any(e > s2 for (_, _, e), (_, s2, _) in zip(ws, ws[1:]))
print(f"offsets: {n_checked:,} words checked, {bad_off} wrong, {bad_cover} articles not covered exactly")


def timed(fn):
    "Seconds of each pass of fn over all paragraphs: the first pass cold, then warm."
    out = []
    for _ in range(a.passes):
        t = time.perf_counter()
        for q in paras: fn(q)
        out.append(time.perf_counter() - t)
    return out


speed = {}
new = infer.WordSplitter(rules, "split"); speed["runtime (split)"] = timed(new)
keep = infer.WordSplitter(rules, "keep"); speed["runtime (keep)"] = timed(keep)
speed["old regex"] = timed(old_split)
tok = spacy.blank("en").tokenizer
speed["spaCy tokenizer, words with offsets"] = timed(lambda q: [(t.text, t.idx, t.idx + len(t)) for t in tok(q) if not t.is_space])
tok = spacy.blank("en").tokenizer
speed["spaCy tokenizer, Doc only"] = timed(tok)
for k, v in speed.items(): print(f"{k}: cold {n_ref / v[0]:,.0f} words/s, warm {n_ref / min(v[1:] or v):,.0f} words/s")

# CoNLL-2003: which convention its tokens follow (each token is one whitespace chunk of the joined sentence)
conll = [s for split in ("train", "dev", "test") for s in data.conll2003(split)]
def with_offsets(tokens):
    out, pos = [], 0
    for w in tokens: out.append((w, pos, pos + len(w))); pos += len(w) + 1
    return out
c_refs, c_texts = [with_offsets(s.tokens) for s in conll], [" ".join(s.tokens) for s in conll]
n_conll = sum(map(len, c_refs))
conll_res = {}
for mode in infer.HYPHENS:
    m, h, o = agreement(infer.WordSplitter(rules, mode), c_refs, c_texts)
    conll_res[mode] = dict(matched=m, other=o)
    print(f"CoNLL-2003 tokens left whole, {mode}: {100 * m / n_conll:.2f} %; most common other differences (not written "
          f"to BENCHMARKS.md): {o.most_common(15)}")

# the shipped student's preference: CoNLL-2003 test as raw text (tokens joined by spaces), entities as
# character spans against gold's, words split each way
student = None
bundle = Path(a.bundle)
if (bundle / "manifest.json").exists():
    b = infer.Bundle(bundle)
    test = data.conll2003("test")
    texts = [" ".join(s.tokens) for s in test]
    gold = set()
    for i, s in enumerate(test):
        offs, pos = [], 0
        for w in s.tokens: offs.append((pos, pos + len(w))); pos += len(w) + 1
        gold |= {(i, offs[x][0], offs[y][1], t) for t, x, y in s.entities()}
    hy_sents = {i for i, s in enumerate(test) if any(re.search(r"\w-\w", w) for w in s.tokens)}
    student = {}
    for mode in infer.HYPHENS:
        sp = infer.WordSplitter(json.loads((bundle / infer.WORD_RULES).read_text(encoding="utf-8"))
                                if (bundle / infer.WORD_RULES).exists() else rules, mode)
        words = [sp(t) for t in texts]
        tags = b.tagger.tag([[w for w, _, _ in ws] for ws in words])
        pred = {(i, e["start"], e["end"], e["type"]) for i, (t, ws, (tg, pr)) in enumerate(zip(texts, words, tags))
                for e in infer.entities_for(t, ws, tg, pr)}
        def f1(g, pr):
            tp = len(g & pr); return 2 * tp / (len(g) + len(pr)) if g or pr else 1.0
        student[mode] = dict(f1=f1(gold, pred),
                             f1_hyph=f1({x for x in gold if x[0] in hy_sents}, {x for x in pred if x[0] in hy_sents}))
        print(f"student, CoNLL test raw text, {mode}: F1 {100 * student[mode]['f1']:.2f} "
              f"(the {len(hy_sents)} sentences with a hyphenated token: {100 * student[mode]['f1_hyph']:.2f})")
    student_src = json.loads((bundle / "manifest.json").read_text())
wall = time.time() - t_start


def pct(x, n): return f"{100 * x / n:.2f} %" if 100 * x / n < 99.9 or x == n else f"{100 * x / n:.3f} %"
def examples(counter, k=12):
    rows = []
    if not counter: return "| (none: every word agrees) | | |"
    for (s, o), n in counter.most_common(k):
        rows.append(f"| `{s or '(nothing)'}` | `{o or '(nothing)'}` | {n:,} |")
    return "\n".join(rows) or "| (none) | | |"


sp_, kp = res["split"], res["keep"]
def join_kind(w):
    parts = w.split("-")
    if all(x.isdigit() for x in parts): return "digits-digits (scores, ranges, dates)"
    if all(x.isalpha() for x in parts): return "letters-letters (compounds, double-barrelled names)"
    return "letters and digits"
kinds = Counter()
for w, n in kp["joins"].items(): kinds[join_kind(w)] += n
kinds_md = "\n".join(f"| {k} | {n:,} |" for k, n in kinds.most_common())
top_joins = ", ".join(f"`{w}` ({n})" for w, n in kp["joins"].most_common(12))
n_other = {k: sum(v["other"].values()) for k, v in res.items()}
ref_sp = speed["spaCy tokenizer, words with offsets"]
def warm(v): return min(v[1:] or v)
rows_speed = "\n".join(f"| {k} | {n_ref / v[0]:,.0f} | {n_ref / warm(v):,.0f} | {ref_sp[0] / v[0]:.2f}x | {warm(ref_sp) / warm(v):.2f}x |"
                       for k, v in speed.items())
student_md = ""
if student:
    student_md = f"""
The shipped student's preference (`{bundle.relative_to(ROOT) if bundle.is_relative_to(ROOT) else bundle}`, from
`{student_src['source_run']}`, {student_src['default_variant']}): all 3,453 CoNLL-2003 test sentences as raw text
(tokens joined by spaces), words split each way, entities as character spans scored against gold's (exact
start, end and type):

| hyphens | entity F1, all test sentences | F1 on the {len(hy_sents)} sentences with a hyphenated token |
|---|---|---|
| split | {100 * student['split']['f1']:.2f} | {100 * student['split']['f1_hyph']:.2f} |
| keep | {100 * student['keep']['f1']:.2f} | {100 * student['keep']['f1_hyph']:.2f} |

This student learned from CoNLL-2003 sentences only (gold and LLM-labelled), all written with hyphenated words whole.
"""

body = f"""## Word splitting: the runtime against spaCy's tokenizer (`bench/word_split.py`)

`{command()}` on {machine()}; spaCy {spacy.__version__}, rules table `{infer.WORD_RULES}`
(`{infer.splitter_version('split')}`); {wall / 60:.1f} min in all.
All {len(arts):,} BBC articles: {len(paras):,} paragraphs (titles included), **{n_ref:,} non-space words** by
`spacy.blank("en").tokenizer`. Agreement is the share of those words the splitter reproduces, each paragraph's
two word lists aligned with `difflib.SequenceMatcher(autojunk=False)`.

| splitter | spaCy's words reproduced | words in hyphen joins | other disagreements (spaCy words) |
|---|---|---|---|
| runtime, `hyphens="split"` | **{pct(sp_['matched'], n_ref)}** | - | {n_other['split']:,} |
| runtime, `hyphens="keep"` | {pct(kp['matched'], n_ref)}; with hyphen joins counted as agreeing {pct(kp['matched'] + kp['hyphen'], n_ref)} | {kp['hyphen']:,} ({pct(kp['hyphen'], n_ref)}) | {n_other['keep']:,} |
| old regex (before this splitter) | {pct(m_old, n_ref)} | - | {sum(o_old.values()):,} |

Offsets: {n_checked:,} words (every article whole, both conventions): **{bad_off} with `text[start:end] != word`**;
{bad_cover} articles whose words do not cover their non-space characters exactly once.

Disagreements with `split` (spaCy's words, the runtime's, spaCy words involved):

| spaCy | runtime | words |
|---|---|---|
{examples(sp_['other'])}

With `keep`, the hyphen joins ({sum(kp['joins'].values()):,} joined words holding {kp['hyphen']:,} of spaCy's words), by kind:

| joined word | joined words |
|---|---|
{kinds_md}

The most common: {top_joins}.

With `keep`, besides the hyphen joins:

| spaCy | runtime | words |
|---|---|---|
{examples(kp['other'], 6)}

The old regex's most common disagreements, for reference:

| spaCy | old regex | words |
|---|---|---|
{examples(o_old, 8)}

Speed over the same {len(paras):,} paragraphs, one after another in this run ({n_ref:,} words, spaCy's count,
for every row): the first pass with cold caches (the runtime caches each whitespace chunk's split, as spaCy does),
then the best of {a.passes - 1} warm passes (every chunk already cached: the runtime's cache holds up to 100,000
chunks, spaCy's 10,000). "Words with offsets" is what the runtime returns: `(text, start, end)` of each
non-space token.

| splitter | words/s, cold | words/s, warm | vs spaCy (words with offsets), cold | warm |
|---|---|---|---|---|
{rows_speed}

Which hyphen convention CoNLL-2003 writes: its {n_conll:,} tokens (train, dev and test), each sentence joined by
spaces and split again, are left whole {pct(conll_res['split']['matched'], n_conll)} of the time with `split`
and {pct(conll_res['keep']['matched'], n_conll)} with `keep`.
{student_md}
The runtime's default is `keep` (`infer.DEFAULT_HYPHENS` = `{infer.DEFAULT_HYPHENS}`): CoNLL-2003, the gold the student
learns from and is scored on, writes hyphenated words whole, and with `keep` the BBC and unlabelled text split
for training follows the same convention; `split` stays available (`split_words(text, hyphens="split")`) and is
spaCy's split exactly.
"""
write_section("word-split", body)
print(body)
