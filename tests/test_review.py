"""Review, both ways: a teacher's labels written as pre-annotations for Label Studio, Prodigy and doccano, edited as a
reviewer would in each tool's export shape, and read back through `tool_files.read_export` by the label sources
`reviewed:` and `reviewed-gold:`. The sentences are made up here; they stand for an annotation run's labels of a
user's own text. `review.tool_export` stands for each tool's export of the edited records (Label Studio's JSON export
with the prediction turned into `annotations[].result`, Prodigy's db-out, doccano's JSONL export)."""
import json

import numpy as np
import pytest

from ner_distill import cli, data, formats, trust
from ner_distill.annotate import review
from ner_distill.annotate.sources import IDENTITY, parse_source
from ner_distill.tool_files import read_export
from ner_distill.train import TrainConfig, build_pools, run_plan

TEXTS = [  # (words, the teacher's tags)
    ("Peter Blackburn of the European Commission met officials in Brussels .".split(),
     ["O", "B-PER", "O", "O", "O", "B-ORG", "O", "B-MISC", "O", "B-LOC", "O"]),
    ("Time Warner said AOL will move to New York next year .".split(),
     ["B-ORG", "I-ORG", "O", "O", "O", "O", "O", "B-LOC", "O", "O", "O", "O"]),
    ("Shares of Nasdaq/Amex listed firms rose in Frankfurt .".split(),       # the runtime splits Nasdaq/Amex at the slash
     ["O", "O", "B-ORG", "O", "O", "O", "O", "B-LOC", "O"]),
    ("Germany beat England 2-1 at Wembley on Sunday .".split(),
     ["B-LOC", "O", "B-LOC", "O", "O", "B-LOC", "O", "O", "O"]),
    ("Reuters reported that Clinton spoke in Washington .".split(),
     ["B-ORG", "O", "O", "B-PER", "O", "O", "B-LOC", "O"]),
]


def char(words, i, j=None, a=0, b=None):
    "Character offsets in the words joined by spaces: from word i (+a characters) to the end of word j (or b characters into it)."
    starts = np.cumsum([0] + [len(w) + 1 for w in words])
    j = i if j is None else j
    return int(starts[i] + a), int(starts[j] + (len(words[j]) if b is None else b))


def edits():
    """What the reviewer does, per sentence (by position in the files): None accepts the teacher's spans, "reject"
    skips the sentence, a list is the reviewer's final spans. Returns them with the tags expected back."""
    w0, w1 = TEXTS[0][0], TEXTS[1][0]
    s0 = [(*char(w0, 0, 1), "PER"),          # moved: "Blackburn" -> "Peter Blackburn"
          (*char(w0, 4, 5), "ORG"),          # moved: "Commission" -> "European Commission"
          (*char(w0, 9), "LOC")]             # deleted: "officials" MISC
    s1 = [(*char(w1, 0, 1), "ORG"),
          (*char(w1, 3), "ORG"),             # added: "AOL"
          (*char(w1, 7, 8, b=2), "LOC")]     # an edge inside a word: "New Yo" comes back widened to "New York"
    expect = {0: ["B-PER", "I-PER", "O", "O", "B-ORG", "I-ORG", "O", "O", "O", "B-LOC", "O"],
              1: ["B-ORG", "I-ORG", "O", "B-ORG", "O", "O", "O", "B-LOC", "I-LOC", "O", "O", "O"],
              2: TEXTS[2][1], 3: TEXTS[3][1], 4: TEXTS[4][1]}
    return {0: s0, 1: s1, 2: None, 3: "reject"}, expect


@pytest.fixture
def labels(tmp_path):
    "An annotation run's labels file: five sentences of source my-notes, doc 7, ids 10-14."
    pool = formats.Corpus([formats.Sentence(w, t, 7, 10 + i, "my-notes", {"teacher": "made-up"}) for i, (w, t) in enumerate(TEXTS)], "my-notes")
    return formats.write_jsonl(pool, tmp_path / "labels.jsonl"), pool


def written_and_exported(tool, labels, tmp_path, budget=5):
    "Review files for `tool` (`budget` sentences in a random order), edited, and the tool's export in corrected/."
    out = tmp_path / f"review-{tool}"
    review.write_review(str(labels), out, budget, "random", tools=[tool], seed=3)
    written = review.read_records(tool, out / review.FILES[tool])
    order = [x["sent_id"] - 10 for x in json.loads((out / "review.json").read_text())["sentences"]]
    made, expect = edits()
    corrections = [made.get(i) for i in order]
    review.write_records(tool, review.tool_export(tool, written, corrections), out / "corrected" / review.FILES[tool])
    return out, order, corrections, expect


@pytest.mark.parametrize("tool", review.TOOLS)
def test_a_review_comes_back_with_every_edit_and_nothing_else(tool, labels, tmp_path):
    path, pool = labels
    out, order, corrections, expect = written_and_exported(tool, path, tmp_path)
    # what the tool exported, read by the export reader: identities kept, the reviewer's offsets exact
    got = read_export(out / "corrected" / review.FILES[tool], formats.CONLL2003)
    rejected = sum(c == "reject" for c in corrections)
    assert len(got) == len(order) - rejected
    skipped = {k: v for k, v in got.report.items() if k.startswith("skipped")}
    assert skipped == ({} if tool == "doccano" else {f"skipped_{'cancelled' if tool == 'labelstudio' else 'rejected'}": rejected})
    for s in got:
        ident = s.meta[IDENTITY]
        assert ident["source"] == "my-notes" and ident["doc_id"] == 7
        i = ident["sent_id"] - 10
        words, _ = TEXTS[i]
        assert s.meta["text"] == " ".join(words)
        c = corrections[order.index(i)]
        want = review.spans_of(pool[i]) if c is None else c
        back = [(s.meta["offsets"][a][0], s.meta["offsets"][b][1], ty) for ty, a, b in s.entities()]
        widened = [(*char(words, 7, 8), "LOC")] if i == 1 else []
        assert back == sorted([sp for sp in want if sp not in [(*char(words, 7, 8, b=2), "LOC")]] + widened), (tool, i)
    assert got.report.get("spans_widened", 0) == 1          # "New Yo" -> "New York", counted
    # the reviewed pool: every edit present, the rest as the teacher said, ids and size kept
    rev = parse_source(f"reviewed:{out}").pool()
    assert len(rev) == len(pool) and [(s.source, s.doc_id, s.sent_id) for s in rev] == [(s.source, s.doc_id, s.sent_id) for s in pool]
    reviewed = {i for i, c in zip(order, corrections) if c != "reject"}
    for i, s in enumerate(rev):
        assert s.tokens == pool[i].tokens
        assert s.tags == (expect[i] if i in reviewed else pool[i].tags), (tool, i)
        assert bool(s.meta.get("reviewed")) == (i in reviewed)
        if i in reviewed: assert s.meta["teacher_tags"] == pool[i].tags and s.meta["review_file"] == review.FILES[tool]
    assert rev.report["sentences"] == len(reviewed) and rev.report["changed"] == 2
    assert rev.report["spans_widened"] == 1 and rev.report.get("widened_to_words", 0) == 0


def test_the_runtimes_finer_words_come_back_on_the_sentences_own(labels, tmp_path):
    "Nasdaq/Amex is one word of the sentence and three of the runtime: an accepted span on it comes back on the one."
    path, pool = labels
    out = tmp_path / "r"
    review.write_review(str(path), out, 5, "random", tools=["doccano"])
    written = review.read_records("doccano", out / "doccano.jsonl")
    review.write_records("doccano", review.tool_export("doccano", written, [None] * 5), out / "corrected" / "doccano.jsonl")
    got = read_export(out / "corrected" / "doccano.jsonl", formats.CONLL2003)
    assert "Nasdaq" in next(s for s in got if s.meta[IDENTITY]["sent_id"] == 12).tokens
    rev = parse_source(f"reviewed:{out}:{path}").pool()
    assert rev.tags == pool.tags and rev.report["changed"] == 0 and all(s.meta["reviewed"] for s in rev)


def test_predictions_of_an_export_read_as_the_teachers_labels(labels, tmp_path):
    path, pool = labels
    review.write_review(str(path), tmp_path / "r", 5, "random", tools=["labelstudio"])
    pred = parse_source(f"predictions:{tmp_path / 'r' / 'labelstudio.json'}").pool()
    by = {s.meta[IDENTITY]["sent_id"]: s for s in pred}
    for s in pool:   # not a split of the dataset: the reader's words; the same entities by character offsets
        assert review.spans_of(by[s.sent_id]) == review.spans_of(s)


def test_identity_is_required_once(labels, tmp_path):
    path, pool = labels
    out, *_ = written_and_exported("doccano", path, tmp_path)
    rec = review.read_records("doccano", out / "corrected" / "doccano.jsonl")
    review.write_records("doccano", rec[:1], out / "corrected" / "more.jsonl")        # the same sentence in a second file
    with pytest.raises(ValueError, match=r"more.jsonl: annotated record 1 \(id \d+\) reviews my-notes#\d+ again \(also in doccano.jsonl\)"):
        parse_source(f"reviewed:{out}").pool()
    (out / "corrected" / "more.jsonl").unlink()
    path_name = str(path)
    stranger = dict(rec[0], **{IDENTITY: {"source": "my-notes", "doc_id": 7, "sent_id": 99}})
    review.write_records("doccano", [stranger], out / "corrected" / "other.jsonl")
    with pytest.raises(ValueError, match=f"other.jsonl: annotated record 1 .* is not a sentence of {path_name}"):
        parse_source(f"reviewed:{out}").pool()
    anonymous = {k: v for k, v in rec[0].items() if k != IDENTITY}                     # no identity: found by its text
    review.write_records("doccano", [anonymous], out / "corrected" / "other.jsonl")
    review.write_records("doccano", rec[1:], out / "corrected" / "doccano.jsonl")
    assert parse_source(f"reviewed:{out}").pool().report["sentences"] == len(rec)


def test_trust_methods_leave_reviewed_sentences_alone():
    "relabel on a made-up student that is sure every word is O: the reviewed sentence keeps the person's tags."
    s = formats.Sentence(["Peter", "Blackburn", "spoke"], ["B-PER", "I-PER", "O"])
    pool = formats.Corpus([s, s.with_tags(s.tags, reviewed=True)])
    labels = formats.CONLL2003.labels
    P = np.zeros((3, len(labels))); P[:, 0] = 1.0
    ctx = trust.TrustContext(student_probs=[P, P], labels=labels, confidence=0.9)
    tags, w = trust.apply_trust(pool, "relabel+check", ctx)
    assert tags == [["O", "O", "O"], ["B-PER", "I-PER", "O"]]
    assert w[0].tolist() == [1, 1, 1] and w[1].tolist() == [1, 1, 1] and ctx.counts["reviewed_sentences"] == 1


def test_reviewed_pools_keep_steps_and_gold_disjoint(tmp_path):
    "Real recorded gpt-3.5 sentences: reviewed in place the pool and the steps stay; reviewed-gold moves them, once."
    rec = data.recorded_llm_labels()[:60]
    base = formats.write_jsonl(rec, tmp_path / "labels.jsonl")
    out = tmp_path / "r"
    review.write_review(str(base), out, 12, "random", tools=["prodigy"])
    written = review.read_records("prodigy", out / "prodigy.jsonl")
    by = {s.sent_id: s for s in rec}
    gold = [review.spans_of(by[w["meta"][IDENTITY]["sent_id"]], by[w["meta"][IDENTITY]["sent_id"]].meta["gold_tags"]) for w in written]
    review.write_records("prodigy", review.tool_export("prodigy", written, gold), out / "corrected" / "prodigy.jsonl")
    ids = {w["meta"][IDENTITY]["sent_id"] for w in written}
    cfg = dict(gold_size=100, distilled_size=None, batch_size=32)
    plain = run_plan(TrainConfig(distilled=str(base), **cfg))
    inplace = run_plan(TrainConfig(distilled=f"reviewed:{out}", **cfg))
    assert (len(inplace.distilled), len(inplace.gold), inplace.steps) == (len(plain.distilled), len(plain.gold), plain.steps)
    assert [s.sent_id for s in inplace.gold] == [s.sent_id for s in plain.gold]          # the same gold draw
    for s in inplace.distilled:
        assert s.tags == (s.meta["gold_tags"] if s.sent_id in ids else by[s.sent_id].tags)
    D, O = build_pools(TrainConfig(distilled=f"reviewed-gold:{out}", **cfg))
    assert len(D) == 48 and len(O) == 112 and not {s.sent_id for s in D} & {s.sent_id for s in O}
    assert len({s.sent_id for s in O}) == len(O) and ids <= {s.sent_id for s in O}
    assert [s.sent_id for s in O][12:] == [s.sent_id for s in plain.gold]                 # the draw itself unchanged
    assert all(s.tags == s.meta["gold_tags"] for s in O[:12])


def test_review_command_writes_files_and_refuses_what_it_cannot_rank(labels, tmp_path, capsys):
    path, _ = labels
    assert cli.main(["review", "--labels", str(path), "--budget", "3", "--rank", "random", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["selected"] == 3 and r["pool"] == 5
    names = {p.name for p in (tmp_path / "r").iterdir()}
    assert {"labelstudio.json", "labelstudio.xml", "prodigy.jsonl", "doccano.jsonl", "review.json", "README.md", "corrected"} <= names
    readme = (tmp_path / "r" / "README.md").read_text()
    assert "prodigy ner.manual" in readme and f"reviewed:{tmp_path / 'r'}" in readme and "PER, ORG, LOC, MISC" in readme
    task = json.loads((tmp_path / "r" / "labelstudio.json").read_text())[0]
    assert task["predictions"][0]["result"] and set(task["data"][IDENTITY]) == {"source", "doc_id", "sent_id"}
    assert cli.main(["review", "--labels", str(path), "--budget", "3", "--out", str(tmp_path / "x")]) == 2     # disagreement needs a gold run
    assert cli.main(["review", "--labels", str(path), "--budget", "3", "--rank", "uncertainty", "--out", str(tmp_path / "x")]) == 2
    assert "--combined RUN" in capsys.readouterr().err


@pytest.mark.slow
def test_disagreement_ranks_by_the_students_expected_disagreements(gold_run, small_pool, tmp_path):
    out = tmp_path / "r"
    assert cli.main(["review", "--labels", str(small_pool), "--budget", "20", "--gold-run", str(gold_run), "--out", str(out), "--quiet"]) == 0
    chosen = json.loads((out / "review.json").read_text())["sentences"]
    scores = [c["score"] for c in chosen]
    pool = parse_source(str(small_pool)).pool()
    from ner_distill.student import Student
    st = Student(gold_run)
    agree = review.agreement(pool, st.predict_probs(pool.tokens), st.labels)
    expected = sorted(((len(a) - a.sum(), i) for i, a in enumerate(agree)), key=lambda x: (-x[0], x[1]))
    assert chosen[0]["sent_id"] == pool[expected[0][1]].sent_id
    assert len(chosen) == 20 and all(0 <= x <= 1 for x in scores)
    tasks = json.loads((out / "labelstudio.json").read_text())
    assert all("score" in t["predictions"][0] for t in tasks)
