"""Trust in the teacher (ner_distill.trust): per-type trust against seqeval on the real gpt-3.5 labels,
masked tokens leaving the real model's loss, equal steps and equal gold with and without trust,
student-uncertainty selection that never exceeds its budget, and LLM self-consistency confidence
from k sampled answers of an OpenAI-compatible server on 127.0.0.1 (ner_distill.annotate.fake_llm)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ner_distill.annotate import openai_teacher
from ner_distill.annotate.run import annotate
from ner_distill import data, formats, metrics, trust
from ner_distill.student import LABELS, collate, encode, resolve_model, token_loss
from ner_distill.train import TrainConfig, run_plan, train

from ner_distill.annotate.fake_llm import FakeLLM

TINY = dict(batch_size=8, steps=4, evals=1, select_dev_size=30, dev_size=30, test=False)


@pytest.fixture
def gold_student(gold_run):
    "The session's gold-trained MiniLM run (tests/conftest.py): stands for the `gold` run of a study."
    return gold_run


def test_type_trust_agrees_with_seqeval_on_real_labels():
    from seqeval.metrics import classification_report
    D = data.recorded_llm_labels()[:1000]
    gold = [s.meta["gold_tags"] for s in D]
    tt = metrics.type_trust(D.tags, gold)
    rep = classification_report(gold, D.tags, output_dict=True, zero_division=0)
    for t in formats.ENTITY_TYPES:
        assert tt[t]["precision"] == pytest.approx(rep[t]["precision"])
        assert tt[t]["recall"] == pytest.approx(rep[t]["recall"])
        lo, hi = tt[t]["precision_ci"]
        assert lo <= tt[t]["precision"] <= hi and hi - lo < 0.2
    assert tt["PER"]["precision"] > 0.7 > tt["MISC"]["precision"]   # the gap the trust methods exploit
    with pytest.raises(ValueError, match="teacher tags"):
        metrics.type_trust([["O", "O"]], [["O"]])


def test_masked_words_contribute_nothing_to_the_real_models_loss():
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer
    path = resolve_model("minilm")
    tok = AutoTokenizer.from_pretrained(path)
    torch.manual_seed(0)
    model = AutoModelForTokenClassification.from_pretrained(path, num_labels=len(LABELS))
    s = data.conll2003("train")[3]
    w = [1.0] * len(s); w[1] = 0.0                       # the second word is masked
    tags_a = list(s.tags); tags_b = list(s.tags); tags_b[1] = "B-MISC" if tags_a[1] != "B-MISC" else "B-PER"

    def loss_and_grad(tags, weights):
        model.zero_grad()
        enc, _ = encode(tok, [s.tokens], [tags], 128, [weights])
        t = collate(enc)
        loss = token_loss(model(input_ids=t["input_ids"], attention_mask=t["attention_mask"]).logits, t["labels"], t["weights"])
        loss.backward()
        return loss.item(), model.classifier.weight.grad.clone()

    la, ga = loss_and_grad(tags_a, w)
    lb, gb = loss_and_grad(tags_b, w)
    assert la == pytest.approx(lb, abs=1e-6) and torch.allclose(ga, gb, atol=1e-7)   # the masked word's tag is invisible
    lc, _ = loss_and_grad(tags_b, [1.0] * len(s))
    assert abs(lc - la) > 1e-3                                                        # unmasked, it counts
    enc, _ = encode(tok, [s.tokens], [tags_a], 128, [w])
    assert enc[0].labels[enc[0].first[1]] == -100


def test_trust_keeps_steps_and_gold_equal(tmp_path):
    base = dict(strategy="distilled_then_gold", gold_size=100, calibration_size=50, batch_size=32, out=str(tmp_path))
    plans = {m: run_plan(TrainConfig(trust=m, **base)) for m in ("none", "drop", "mask", "weight")}
    n_all = len(data.recorded_llm_labels())
    for m, p in plans.items():
        assert p.steps == plans["none"].steps and p.tau == pytest.approx(plans["none"].tau), m
        assert len(p.gold) == 100, m
        assert len(p.distilled) == (n_all if m == "none" else n_all - 50), m
    p = plans["mask"]
    cal = set(p.trust["calibration_ids"])
    gold_by_id = data.conll2003("train").by_id()
    cal_in_O = [s for s in p.gold if s.sent_id in cal]
    assert len(cal_in_O) == 50 and all(s.tags == gold_by_id[s.sent_id].tags for s in cal_in_O)
    assert cal.isdisjoint(s.sent_id for s in p.distilled)
    bad = set(p.trust["distrusted"])
    assert "MISC" in bad and "PER" not in bad
    nD = len(p.distilled)
    for tags, w, s in zip(p.tags[:nD], p.weights[:nD], p.distilled):
        assert tags == s.tags                                              # mask keeps the teacher's tags...
        for j, t in enumerate(tags):
            assert (w[j] == 0) == (t != "O" and t[2:] in bad)              # ...and takes exactly those tokens out
    assert all(w is None for w in p.weights[nD:])                       # gold is never weighted
    # with a distilled subset, a trust run starts from the very sentences a plain run takes
    sub = {m: run_plan(TrainConfig(trust=m, distilled_size=500, **base)) for m in ("none", "mask")}
    assert {s.sent_id for s in sub["none"].distilled} == {s.sent_id for s in sub["mask"].distilled} | set(sub["mask"].trust["calibration_ids"])
    drop_tags = plans["drop"].tags[:len(plans["drop"].distilled)]
    assert not any(t != "O" and t[2:] in bad for tags in drop_tags for t in tags)
    ww = plans["weight"]
    pr = {t: v["precision"] for t, v in ww.trust["type_trust"].items()}
    for tags, w in zip(ww.tags[:len(ww.distilled)], ww.weights):
        assert all(w[j] == pytest.approx(pr["O" if t == "O" else t[2:]]) for j, t in enumerate(tags))


@pytest.mark.slow
def test_uncertainty_selection_picks_the_most_uncertain(gold_student, small_pool, tmp_path):
    cfg = dict(strategy="distilled_then_gold", gold_size=48, distilled=str(small_pool), distilled_size=40,
               gold_run=str(gold_student), out=str(tmp_path))
    p_unc = run_plan(TrainConfig(selection="uncertainty", **cfg))
    p_rnd = run_plan(TrainConfig(selection="random", trust="none", **{**cfg, "gold_run": None}))
    assert len(p_unc.distilled) == len(p_rnd.distilled) == 40 and p_unc.steps == p_rnd.steps
    pool = formats.read_jsonl(small_pool)
    probs, labels = trust.student_probs(gold_student, pool.tokens)
    tte = trust.sentence_scores(probs, labels)["uncertainty"]
    top = {pool[i].sent_id for i in np.argsort(-tte, kind="stable")[:40]}
    assert {s.sent_id for s in p_unc.distilled} == top
    assert {s.sent_id for s in p_unc.distilled} != {s.sent_id for s in p_rnd.distilled}
    with pytest.raises(ValueError, match="gold_run"):
        run_plan(TrainConfig(selection="uncertainty", **{**cfg, "gold_run": None}))


@pytest.mark.slow
def test_joined_sources_with_repeated_ids_keep_student_scores_aligned(gold_student, small_pool, tmp_path):
    "Sentence ids repeat across joined sources (CoNLL and BBC both count from 0): probabilities go by position."
    copy = formats.Corpus([s.with_tags(s.tags) for s in formats.read_jsonl(small_pool)[:120]])
    for s in copy: s.source = "another-corpus"                 # same ids, another source, no CoNLL exclusion
    other = formats.write_jsonl(copy, tmp_path / "other.jsonl")
    p = run_plan(TrainConfig(strategy="distilled_then_gold", gold_size=48, distilled=f"{small_pool}+{other}",
                             trust="mask+check", calibration_size=40, gold_run=str(gold_student), out=str(tmp_path)))
    assert len(p.distilled) == 420 - 40 and len(p.gold) == 48
    assert all(len(w) == len(s) for w, s in zip(p.weights, p.distilled))


def test_dev_and_test_sentences_never_enter_training(tmp_path):
    dev = formats.write_jsonl(data.conll2003("dev")[:20], tmp_path / "dev.jsonl")
    with pytest.raises(ValueError, match="conll2003-dev"):
        run_plan(TrainConfig(distilled=str(dev), gold_size=10, out=str(tmp_path)))


@pytest.mark.slow
def test_relabel_takes_the_students_confident_labels(gold_student, small_pool, tmp_path):
    p = run_plan(TrainConfig(strategy="distilled", gold_size=48, distilled=str(small_pool), distilled_size=50, trust="relabel",
                             gold_run=str(gold_student), check_confidence=0.0, out=str(tmp_path)))
    probs, labels = trust.student_probs(gold_student, p.distilled.tokens)
    # at confidence 0 every disagreement is relabelled: the tags are the student's own (IOB2-repaired)
    for tags, P in zip(p.tags, probs):
        assert tags == formats.to_iob2([labels[k] for k in P.argmax(-1)])
    assert p.trust["counts"]["student_relabelled_tokens"] > 0
    assert sum(t != s.tags for t, s in zip(p.tags, p.distilled)) > 0


@pytest.mark.slow
def test_soft_targets_blend_the_teachers_label_with_the_students_distribution(gold_student, small_pool, tmp_path):
    base = dict(strategy="distilled", gold_size=48, distilled=str(small_pool), distilled_size=50, trust="soft",
                gold_run=str(gold_student), out=str(tmp_path / "r"), **TINY)
    p = run_plan(TrainConfig(soft_weight=0.7, **base))
    probs, labels = trust.student_probs(gold_student, p.distilled.tokens)
    schema = data.load_dataset("conll2003").schema.labels
    for s, q, P in zip(p.distilled, p.soft, probs):
        onehot = np.eye(len(schema))[[schema.index(t) for t in s.tags]]
        expect = 0.7 * onehot + 0.3 * P[:, [labels.index(l) for l in schema]]
        np.testing.assert_allclose(q, expect, atol=1e-6)
    assert p.tags[:50] == [s.tags for s in p.distilled] and all(q is None for q in p.soft[50:])   # gold keeps its labels
    # soft_weight 1 is the teacher's labels: the trained weights equal those of a run that loads the same student and
    # changes nothing (relabel above probability 1); soft_weight 0.5 moves them
    import torch
    from safetensors.torch import load_file
    runs = {}
    for name, extra in {"same": dict(trust="relabel", check_confidence=1.01), "w1": dict(soft_weight=1.0),
                        "w05": dict(soft_weight=0.5)}.items():
        train(TrainConfig(**{**base, **extra, "out": str(tmp_path / name)}), progress=False)
        runs[name] = load_file(str(tmp_path / name / "model" / "model.safetensors"))
    k = next(n for n in runs["same"] if "classifier.weight" in n)
    torch.testing.assert_close(runs["w1"][k], runs["same"][k], atol=1e-5, rtol=1e-4)
    assert not torch.allclose(runs["w05"][k], runs["same"][k], atol=1e-5)


def test_selection_never_exceeds_its_budget(small_pool):
    pool = formats.read_jsonl(small_pool)
    rng = np.random.default_rng(0)
    probs = [rng.dirichlet(np.ones(len(LABELS)), size=len(s)) for s in pool]
    for unit in ("sentences", "words", "usd"):
        costs = trust.sentence_costs(pool, unit, model="gpt-4o")
        assert (costs > 0).all()
        for budget in [0, costs.min() / 2, costs.sum() * 0.1, costs.sum() * 0.5, costs.sum() * 2]:
            for by in trust.SELECTIONS:
                idx = trust.select(pool, budget, by, unit, probs, LABELS, costs, seed=1)
                assert costs[idx].sum() <= budget + 1e-9, (unit, by, budget)
                assert len(set(idx)) == len(idx)
                if budget >= costs.sum(): assert len(idx) == len(pool)
    with pytest.raises(ValueError, match="budget"):
        trust.select(pool, -1, "random")


@pytest.mark.slow
def test_select_command_writes_a_pool_for_annotate(gold_student, small_pool, tmp_path):
    out = tmp_path / "sel.jsonl"
    r = subprocess.run([sys.executable, "-m", "ner_distill.cli", "select", "--source", str(small_pool), "--budget", "500",
                        "--unit", "words", "--gold-run", str(gold_student), "--quiet", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    chosen = formats.read_jsonl(out)
    assert summary["selected"] == len(chosen) > 0 and summary["words"] == chosen.n_tokens <= 500
    assert summary["est_cost_usd"] > 0
    r = subprocess.run([sys.executable, "-m", "ner_distill.cli", "select", "--source", str(small_pool), "--budget", "5",
                        "--by", "uncertainty", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--gold-run" in r.stderr


@pytest.mark.slow
def test_trust_run_trains_and_records_what_it_did(gold_student, small_pool, tmp_path):
    out = tmp_path / "run"
    m = train(TrainConfig(strategy="distilled_then_gold", gold_size=48, distilled=str(small_pool), distilled_size=64,
                          trust="mask+check", calibration_size=32, gold_run=str(gold_student),
                          check_confidence=0.0, out=str(out), **TINY), progress=False)
    rep = json.loads((out / "trust.json").read_text())
    assert rep["trust"] == "mask+check" and len(rep["calibration_ids"]) == 32 and rep["type_trust"]["PER"]["predicted"] > 0
    # at confidence 0 every distilled word where the student's argmax differs from the teacher is masked
    assert rep["counts"]["student_masked_tokens"] > 0 and rep["counts"]["tokens_weight0"] >= rep["counts"]["student_masked_tokens"]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["n_gold"] == 48 and cfg["n_distilled"] == 32 and m["steps"] == 4


def test_llm_samples_give_token_confidence(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    sents = ["UNSURE trip to Bonn and Paris .", "Anna flew to Rome .", "FLAKY line to Oslo ."]
    src = formats.write_jsonl(formats.Corpus([formats.Sentence(s.split(), ["O"] * len(s.split()), 0, i, "fixture")
                                        for i, s in enumerate(sents)]), tmp_path / "in.jsonl")
    out = tmp_path / "ann"
    kw = dict(out=str(out), model="fake", prompt="zero-shot", samples=3, temperature=0.7, max_retries=0, progress=False)
    with FakeLLM() as srv:
        annotate(str(src), "openai", base_url=srv.base_url, **kw)
        assert dict(srv.requests) == {s: 3 for s in sents}             # k answers per sentence (no retries here)
    recs = {" ".join(s.tokens): s for s in formats.read_jsonl(out / "labels.jsonl")}
    unsure = recs[sents[0]]
    # "Paris" is in 1 of 3 answers (seed 0 only): voted out, and 2 of 3 answers agree with O
    assert unsure.tags == ["O", "O", "O", "B-LOC", "O", "O", "O"]
    assert unsure.meta["token_confidence"] == [1.0, 1.0, 1.0, 1.0, 1.0, pytest.approx(2 / 3, abs=1e-3), 1.0]
    assert recs[sents[1]].meta["token_confidence"] == [1.0] * 5 and recs[sents[1]].meta["samples_ok"] == 3
    flaky = recs[sents[2]]                                             # 2 of 3 answers came: confidence out of 3
    assert flaky.meta["samples_ok"] == 2 and flaky.tags[3] == "B-LOC"
    assert flaky.meta["token_confidence"] == [pytest.approx(2 / 3, abs=1e-3)] * 5
    with FakeLLM() as srv:                                              # every answered sample is cached
        annotate(str(src), "openai", base_url=srv.base_url, **kw)
        assert dict(srv.requests) == {sents[2]: 1}                      # only the sample that never came back
    one = openai_teacher.OpenAITeacher(model="m", cache=tmp_path / "c.sqlite")       # one sample: the request (and cache key) of before
    assert "seed" not in one.request([{"role": "user", "content": "x"}])[1]
    with pytest.raises(ValueError, match="temperature"):
        annotate(str(src), "openai", base_url="http://127.0.0.1:9", **{**kw, "temperature": 0.0})
    # the `llm` trust method turns the confidence into loss weights
    p = run_plan(TrainConfig(strategy="distilled", gold_size=0, distilled=str(out), trust="llm", steps=2, out=str(tmp_path / "r")))
    by_tokens = {" ".join(s.tokens): w for s, w in zip(p.distilled, p.weights)}
    assert by_tokens[sents[0]].tolist() == pytest.approx(unsure.meta["token_confidence"])
    with pytest.raises(ValueError, match="token_confidence"):
        run_plan(TrainConfig(strategy="distilled", gold_size=0, distilled=str(small_pool_file(tmp_path)), trust="llm", out=str(tmp_path)))


def small_pool_file(tmp_path):
    return formats.write_jsonl(data.recorded_llm_labels()[:5], tmp_path / "five.jsonl")
