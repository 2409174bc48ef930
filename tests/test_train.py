"""Student training on real CoNLL-2003 sentences and the real MiniLM weights, kept to a few steps:
a complete run folder that reloads and predicts, resume after an interruption, long sentences
split into windows, and the same code under torchrun with 2 CPU processes (gloo)."""
import csv
import json
import os
import subprocess
import sys

import pytest

from ner_distill import data, formats
from ner_distill.student import LABELS, Student, encode, resolve_model
from ner_distill.train import TrainConfig, train

TINY = dict(gold_size=48, distilled_size=48, batch_size=8, steps=6, evals=2, dev_size=40, test=False)


@pytest.mark.slow
def test_run_folder_is_complete_and_reloads(tmp_path):
    out = tmp_path / "run"
    m = train(TrainConfig(strategy="concat", out=str(out), **TINY), progress=False)
    for f in ("config.json", "metrics.json", "curve.csv", "versions.json", "model/model.safetensors",
              "model/tokenizer.json", "model/config.json"):
        assert (out / f).exists(), f
    assert not (out / "checkpoint").exists()
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["steps"] == 6 and cfg["n_gold"] == 48 and cfg["n_distilled"] == 48
    assert set(cfg["gold_ids"]).isdisjoint({s.sent_id for s in data.recorded_llm_labels()})
    rows = list(csv.DictReader(open(out / "curve.csv")))
    assert [int(r["step"]) for r in rows] == list(range(1, 7))
    assert sum(1 for r in rows if r["dev_f1"]) == 2
    assert 0 <= m["dev"]["f1"] <= 1 and set(m["dev"]["per_type"]) <= set(formats.ENTITY_TYPES)
    assert json.loads((out / "model" / "config.json").read_text())["id2label"]["0"] == "O"
    # reloads and predicts one valid tag per word
    st = Student(out)
    pred = st.predict([["Peter", "Blackburn", "visited", "Bonn", "."], ["EU"]])
    assert [len(p) for p in pred] == [5, 1] and all(t in LABELS for p in pred for t in p)
    # a finished run is not trained again
    assert train(TrainConfig(strategy="concat", out=str(out), **TINY), progress=False) == m


@pytest.mark.slow
def test_interrupted_run_resumes_from_checkpoint(tmp_path):
    out = tmp_path / "run"
    cfg = TrainConfig(strategy="sigmoid", out=str(out), save_every=3, **TINY)

    def crash(step):
        if step == 4: raise KeyboardInterrupt("simulated kill at step 4")
    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress=False, on_step=crash)
    assert (out / "checkpoint" / "complete").exists() and not (out / "metrics.json").exists()
    m = train(cfg, progress=False)
    assert m["resumed_from"] == 3
    assert [int(r["step"]) for r in csv.DictReader(open(out / "curve.csv"))] == list(range(1, 7))


def test_long_sentence_is_split_not_truncated():
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(resolve_model("minilm"))
    words = ["Blackburn"] * 300            # far more sub-tokens than max_length
    enc, n_split = encode(tok, [words], [["B-PER"] + ["I-PER"] * 299], max_length=64)
    assert n_split == 1 and len(enc) > 1 and all(len(e.input_ids) <= 64 for e in enc)
    assert sum(1 for e in enc for l in e.labels if l != -100) == 300
    st = Student.__new__(Student)
    from transformers import AutoModelForTokenClassification
    st.decode, st.tokenizer, st.model = "viterbi", tok, AutoModelForTokenClassification.from_pretrained(
        resolve_model("minilm"), num_labels=len(LABELS), id2label=dict(enumerate(LABELS)))
    assert len(st.predict([words])[0]) == 300


def test_distilled_from_an_annotation_run_folder(tmp_path):
    """A folder with labels.jsonl (what `ner-distill annotate` writes); failed sentences are left out."""
    dev = data.conll2003("dev")[:20]
    sents = [s.with_tags(s.tags, status="failed" if i % 5 == 0 else "ok") for i, s in enumerate(dev)]
    formats.write_jsonl(sents, tmp_path / "ann" / "labels.jsonl")
    from ner_distill.train import load_distilled
    assert len(load_distilled(str(tmp_path / "ann"))) == 16
    with pytest.raises(FileNotFoundError, match="labels.jsonl"):
        load_distilled(str(tmp_path / "nothing"))


@pytest.mark.slow
def test_two_cpu_processes_with_torchrun(tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(
        "from ner_distill.train import TrainConfig, train\n"
        f"train(TrainConfig(strategy='power_decay', out={str(tmp_path / 'run')!r}, gold_size=32, distilled_size=32,"
        " batch_size=8, steps=4, evals=1, dev_size=20, test=False), progress=False)\n")
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        str(script)], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["timing"]["processes"] == 2 and m["steps"] == 4
    assert json.loads((tmp_path / "run" / "config.json").read_text())["processes"] == 2


@pytest.mark.slow
def test_cli_train(tmp_path):
    from ner_distill.cli import main
    out = tmp_path / "cli-run"
    assert main(["train", "--strategy", "gold", "--gold-size", "32", "--distilled", "none", "--steps", "3",
                 "--batch-size", "8", "--evals", "1", "--dev-size", "20", "--test-size", "20", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["strategy"] == "gold" and m["steps"] == 3 and "test" in m
    preds = formats.read_jsonl(out / "test_predictions.jsonl")
    assert [s.tokens for s in preds] == data.conll2003("test")[:20].tokens


@pytest.mark.slow
def test_the_model_folder_takes_its_word_shapes_in_plain_transformers(gold_run):
    """A word-shape student's model/ (the session's real gold run) is refused by plain transformers, which would drop
    the shapes, and with trust_remote_code=True a pipeline gives the package's own labels, scores and entities on a
    cased and a lowercased sentence (both read by argmax, as a pipeline reads them)."""
    from seqeval.metrics.sequence_labeling import get_entities
    from transformers import AutoModelForTokenClassification, pipeline
    folder = gold_run / "model"
    assert json.loads((folder / "config.json").read_text())["word_shapes"]
    with pytest.raises(ValueError, match="trust_remote_code=True"):
        AutoModelForTokenClassification.from_pretrained(folder)
    tokens = pipeline("token-classification", model=str(folder), trust_remote_code=True, ignore_labels=[])
    entities = pipeline("token-classification", model=str(folder), trust_remote_code=True, aggregation_strategy="first")
    st = Student(gold_run, decode="argmax")
    seen = []
    for text in ("Peter Blackburn met European Commission officials in Brussels on Monday",
                 "peter blackburn met european commission officials in brussels on monday"):
        words = text.split()
        starts = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words))]
        P = st.predict_probs([words])[0]
        mine = [(st.labels[int(p.argmax())], round(float(p.max()), 4)) for p in P]
        theirs = [(t["entity"], round(float(t["score"]), 4)) for t in tokens(text) if t["start"] in starts]
        assert theirs == mine, text
        tags = st.predict([words])[0]
        want = [(t, starts[a], starts[b] + len(words[b])) for t, a, b in get_entities(tags)]
        assert [(e["entity_group"], e["start"], e["end"]) for e in entities(text)] == want, text
        seen.append(mine)
    assert seen[0] != seen[1]          # the case reaches the model through the shapes, in the pipeline too
