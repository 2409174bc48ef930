"""Teachers made from teachers: the combined teacher's aggregation (a hand-made example), abstention as a loss mask,
simulated teachers of known quality, and `annotate --teacher combine` as an ordinary annotation run. The real parts are
the recorded gpt-3.5 labels of CoNLL-2003 train, their gold tags, and the student's real tokenizer."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from ner_distill.annotate import combine, sources, teachers
from ner_distill.annotate.run import annotate, load_source
from ner_distill import data, formats, metrics, train
from ner_distill.student import LABEL2ID, encode, resolve_model, token_loss


def test_aggregation_equals_the_votes_computed_by_hand():
    # three sources over O, PER, LOC; confusions P(says column | gold row) given, not estimated
    labels = ["O", "PER", "LOC"]
    good = np.array([[.9, .05, .05], [.05, .9, .05], [.05, .05, .9]])         # right 90 % on every label
    misses_loc = np.array([[.9, .05, .05], [.05, .9, .05], [.5, .05, .45]])   # says O for half the LOC
    coin = np.full((3, 3), 1 / 3)
    prior = np.array([.8, .1, .1])
    votes = [["B-LOC", "O", "B-PER", "I-PER"], ["O", "O", "B-PER", "I-PER"], ["B-PER", "B-LOC", "O", "O"]]
    tags, conf, abstain = combine.aggregate(votes, [good, misses_loc, coin], prior, labels, threshold=0.6)
    # by hand, token 0: O .8*.05*.9 = .036   PER .1*.05*.05 = .00025   LOC .1*.9*.5 = .045  (the coin cancels)
    assert tags[0] == "B-LOC" and conf[0] == pytest.approx(.045 / (.036 + .00025 + .045), abs=1e-4)
    # token 1: both informative sources say O: O .8*.9*.9 = .648, PER .1*.05*.05, LOC .1*.05*.5 = .0025
    assert tags[1] == "O" and conf[1] == pytest.approx(.648 / (.648 + .00025 + .0025), abs=1e-4)
    # tokens 2-3: PER .1*.9*.9 = .081 vs O .8*.05*.05 = .002: one PER entity, B then I
    assert tags[2:] == ["B-PER", "I-PER"]
    assert abstain == [0]                                         # .55 < 0.6: the LOC is not sure enough
    # a source with no labels for the sentence does not vote
    t2, c2, _ = combine.aggregate([votes[0], None, votes[2]], [good, misses_loc, coin], prior, labels)
    assert t2[0] == "B-LOC" and c2[0] == pytest.approx(.1 * .9 / (.8 * .05 + .1 * .05 + .1 * .9), abs=1e-4)


def test_abstained_tokens_add_nothing_to_the_loss(tmp_path):
    rec = data.recorded_llm_labels()[:40]
    sents = [s.with_tags(s.tags, status="ok", abstain=[0, 2] if len(s) > 3 else []) for s in rec]
    formats.write_jsonl(formats.Corpus(sents, "combined"), tmp_path / "labels.jsonl")
    plan = train.run_plan(train.TrainConfig(distilled=str(tmp_path), gold_size=10))
    for s, w in zip(plan.distilled, plan.weights):
        assert list(np.flatnonzero(np.asarray(w) == 0)) == s.meta["abstain"] if s.meta["abstain"] else w is None
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(resolve_model("minilm"))
    s, w = next((s, w) for s, w in zip(plan.distilled, plan.weights) if s.meta["abstain"])
    other = list(s.tags); other[0] = "B-MISC" if other[0] != "B-MISC" else "B-PER"; other[2] = "I-ORG"   # different tags where it abstained
    (a,), _ = encode(tok, [s.tokens], [s.tags], weights=[w], label2id=LABEL2ID)
    (b,), _ = encode(tok, [s.tokens], [other], weights=[w], label2id=LABEL2ID)
    assert a.labels == b.labels                                    # abstained words carry no label at all
    logits = torch.randn(1, len(a.labels), len(LABEL2ID))
    la = token_loss(logits, torch.tensor([a.labels]), torch.tensor([a.weights], dtype=torch.float))
    lb = token_loss(logits, torch.tensor([b.labels]), torch.tensor([b.weights], dtype=torch.float))
    assert torch.equal(la, lb)


@pytest.mark.parametrize("target", [0.65, 0.75, 0.85, 0.95])
def test_a_simulated_teachers_f1_is_its_target(target):
    sim = sources.simulate(data.recorded_llm_labels(), target)
    f1 = metrics.scores([s.meta["gold_tags"] for s in sim], sim.tags)["f1"]
    assert abs(f1 - target) <= 0.01, (f1, sim.report)
    assert {s.meta["simulated_p"] for s in sim} == {sim.report["p"]}
    with pytest.raises(ValueError, match="reaches"):
        sources.simulate(data.recorded_llm_labels(), 0.3)                # below the real teacher: impossible


def test_combine_writes_an_ordinary_annotation_run(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = tmp_path / "combined"
    r = subprocess.run([sys.executable, "-m", "ner_distill.cli", "annotate", "--source", "recorded", "--limit", "400", "--teacher",
                        "combine", "--sources", "recorded,gazetteer", "--calibration-size", "100", "--quiet", "--out", str(out)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads((out / "combine.json").read_text())
    assert set(rep["quality"]) == {"recorded", "gazetteer"} and len(rep["calibration_ids"]) == 100
    q = json.loads((out / "quality.json").read_text())
    assert set(q["per_type"]) == {"PER", "LOC", "ORG", "MISC"}
    D = train.load_distilled(str(out))                               # downstream, unchanged
    assert len(D) == 400 and all("token_confidence" in s.meta for s in D)
    assert sum(len(s.meta["abstain"]) for s in D) == rep["abstained_tokens"]
    bad = subprocess.run([sys.executable, "-m", "ner_distill.cli", "annotate", "--source", "recorded", "--limit", "50", "--teacher",
                          "combine", "--sources", "recorded", "--quiet", "--out", str(tmp_path / "bad")], capture_output=True, text=True, env=env)
    assert bad.returncode != 0 and "two sources" in bad.stderr


def test_k_samples_of_an_llm_are_a_source_of_the_combination(tmp_path, monkeypatch):
    """An LLM asked k=3 times per sentence (the tests' fake OpenAI-compatible server, real openai client) is one
    source of the combination: its annotation run folder, whose tags are the majority of the samples."""
    from ner_distill.annotate.fake_llm import FakeLLM
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeLLM() as srv:
        annotate("train", "openai", out=str(tmp_path / "llm"), limit=60, base_url=srv.base_url, model="fake", prompt="zero-shot",
                   samples=3, temperature=0.7, progress=False)
        assert sum(srv.requests.values()) == 180
    llm = formats.read_jsonl(tmp_path / "llm" / "labels.jsonl", types=None)
    assert all(s.meta["samples"] == 3 for s in llm)
    r = annotate("train", "combine", out=str(tmp_path / "comb"), limit=60, sources=[str(tmp_path / "llm"), "gazetteer"],
                   calibration_size=30, progress=False)
    rep = json.loads((tmp_path / "comb" / "combine.json").read_text())
    assert set(rep["quality"]) == {str(tmp_path / "llm"), "gazetteer"}
    assert r["parse"]["status"] == {"ok": 60}


def test_a_students_distribution_enters_the_vote_as_its_likelihood_ratio():
    # the hand-made example above, with the coin replaced by a student's distribution over O, PER, LOC
    labels = ["O", "PER", "LOC"]
    good = np.array([[.9, .05, .05], [.05, .9, .05], [.05, .05, .9]])
    misses_loc = np.array([[.9, .05, .05], [.05, .9, .05], [.5, .05, .45]])
    prior = np.array([.8, .1, .1])
    student = np.array([[.2, .1, .7], [.6, .3, .1]])
    tags, conf, _ = combine.aggregate([["B-LOC", "O"], ["O", "O"], ["B-LOC", "B-PER"]], [good, misses_loc, None], prior, labels,
                                probs=[None, None, student])
    # token 0 by hand: O .8*.05*.9*(.2/.8) = .009   PER .1*.05*.05*(.1/.1) = .00025   LOC .1*.9*.5*(.7/.1) = .315
    assert tags[0] == "B-LOC" and conf[0] == pytest.approx(.315 / (.009 + .00025 + .315), abs=1e-4)
    # token 1: O .8*.9*.9*(.6/.8) = .486   PER .1*.05*.05*(.3/.1) = .00075   LOC .1*.05*.5*(.1/.1) = .0025
    assert tags[1] == "O" and conf[1] == pytest.approx(.486 / (.486 + .00075 + .0025), abs=1e-4)
    # a flat student (its distribution equal to the prior) says nothing: the two confusions alone decide
    t2, c2, _ = combine.aggregate([["B-LOC", "O"], ["O", "O"], ["B-LOC", "O"]], [good, misses_loc, None], prior, labels,
                            probs=[None, None, np.tile(prior, (2, 1))])
    t3, c3, _ = combine.aggregate([["B-LOC", "O"], ["O", "O"]], [good, misses_loc], prior, labels)
    assert t2 == t3 and c2 == pytest.approx(c3)


@pytest.mark.slow
def test_the_gold_student_teaches_alone_and_as_a_voice_of_the_combination(tmp_path):
    """A real student (MiniLM, 16 steps on 200 gold CoNLL-2003 sentences) labels the recorded sentences alone
    (`--teacher run`: self-training's teacher) and joins gpt-3.5 and a gazetteer in `combine` by its probabilities:
    every combined token's type is the argmax of prior x the two confusions x the student's likelihood ratio."""
    from ner_distill.student import Student
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    run = tmp_path / "gold"
    train.train(train.TrainConfig(strategy="gold", gold_size=200, distilled="recorded", steps=16, batch_size=16, evals=1,
                                  select_dev_size=50, dev_size=50, test=False, out=str(run)), progress=False)
    cli = [sys.executable, "-m", "ner_distill.cli", "annotate", "--source", "recorded", "--limit", "150", "--quiet"]
    r = subprocess.run(cli + ["--teacher", "run", "--run", str(run), "--out", str(tmp_path / "self")],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    self_ = formats.read_jsonl(tmp_path / "self" / "labels.jsonl", types=None)
    st = Student(run)
    probs = st.predict_probs(self_.tokens)
    assert self_.tags == [formats.to_iob2([st.labels[j] for j in p.argmax(-1)]) for p in probs]
    for s in self_:
        assert np.allclose(np.sum(s.meta["type_probs"], 1), 1, atol=1e-3) and s.meta["gold_tags"] is not None
    assert (tmp_path / "self" / "quality.json").exists()

    r = subprocess.run(cli + ["--teacher", "combine", "--sources", f"recorded,gazetteer,run:{run}", "--threshold", "0",
                              "--calibration-size", "50", "--out", str(tmp_path / "comb")], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads((tmp_path / "comb" / "combine.json").read_text())
    assert rep["by_probability"] == [f"run:{run}"] and len(rep["quality"]) == 3
    comb = formats.read_jsonl(tmp_path / "comb" / "labels.jsonl", types=None)
    labels = rep["labels"]
    gold = {s.sent_id: s.meta["gold_tags"] for s in comb}
    counts = np.ones(len(labels))
    for i in rep["calibration_ids"]:
        for t in gold[i]: counts[labels.index(teachers.type_of(t))] += 1
    prior = counts / counts.sum()
    rec = {s.sent_id: s.tags for s in data.recorded_llm_labels()}
    gaz = teachers.GazetteerTeacher().label(load_source("recorded", 150)).tags
    C = {k: np.array(v) for k, v in rep["confusions"].items()}
    for n, s in enumerate(comb):
        logp = np.log(prior) + np.log(np.clip(self_[n].meta["type_probs"], 1e-6, 1)) - np.log(prior)
        for name, tags in (("recorded", rec[s.sent_id]), ("gazetteer", gaz[n])):
            logp = logp + np.log(C[name][:, [labels.index(teachers.type_of(t)) for t in tags]]).T
        assert [teachers.type_of(t) for t in s.tags] == [labels[k] for k in logp.argmax(1)], s.sent_id


def test_a_file_of_corpus_sentences_keeps_their_identity(tmp_path):
    """Sentences this project wrote to a file (a selection, a pool of unlabelled train text) keep their source and
    ids when annotated: the recorded gpt-3.5 labels find them, and a run's gold pool stays disjoint from them."""
    rec = data.recorded_llm_labels()
    train = data.conll2003("train").by_id()
    picked = [train[s.sent_id] for s in rec[:5]] + [s for s in data.conll2003("train")[:3] if s.sent_id not in {r.sent_id for r in rec}]
    formats.write_jsonl(formats.Corpus(picked, "conll2003-train"), tmp_path / "pool.jsonl")
    src = load_source(str(tmp_path / "pool.jsonl"))
    assert [(s.source, s.sent_id) for s in src] == [(s.source, s.sent_id) for s in picked] and src[0].source == "conll2003-train"
    lab = teachers.TEACHERS["recorded"]().label(src)
    assert [s.meta["status"] for s in lab] == ["ok"] * 5 + ["missing"] * (len(picked) - 5)
    assert lab[0].tags == rec[0].tags and lab[0].meta["gold_tags"] == train[rec[0].sent_id].tags
    # a file of another origin is still named by its stem
    (tmp_path / "mine.jsonl").write_text('{"tokens": ["Alice", "sings"], "tags": ["B-PER", "O"]}\n')
    assert load_source(str(tmp_path / "mine.jsonl"))[0].source == "mine"
