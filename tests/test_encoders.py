"""Any Hugging Face encoder: tiny random-weight BERT (cased and uncased), RoBERTa, DeBERTa-v2, DistilBERT and ELECTRA
models (tests/tiny_encoders.py) train a few steps with the word-shape input, export through optimum, quantise
(calibrated and QDQ static int8) and run in the bundle; the runtime feeds each window exactly what training's `collate`
builds, and its fp32 logits at every word's first sub-token equal PyTorch's."""
import json

import numpy as np
import pytest
import torch

from ner_distill import data, infer
from ner_distill.onnx_variants import _dims, fuse
from ner_distill.export import export_bundle, training_feed
from ner_distill.student import Student, keep_layers, load_tokenizer, lowercases
from ner_distill.train import TrainConfig, train

from tiny_encoders import ARCHITECTURES, build


STATIC = "int8-static"          # static int8 in onnxruntime's QDQ form, made and shipped in every test bundle beside the calibrated int8


def probe_sentences() -> list[list[str]]:
    "50 sentences: real CoNLL-2003 dev ones holding apostrophes, digits and hyphens, accented words, and one longer than a window."
    dev = data.conll2003("dev")
    picks, want = [], [lambda w: "'" in w, lambda w: any(c.isdigit() for c in w), lambda w: "-" in w and len(w) > 1]
    for test in want:
        picks += [s.tokens for s in dev if any(test(w) for w in s.tokens) and s.tokens not in picks][:15]
    picks += [["Zürich", "'s", "Société", "Générale", "met", "ΕΛΛΑΔΑ", "officials", "in", "São", "Paulo", "on", "1996-08-22", "."],
              ["O'Neil", "sold", "3,000", "iPhones", "to", "McDonald", "'s", "in", "the", "U.S.", "."],
              ["naïve", "Ångström", "café", "--", "résumé", "!"],
              ["A", "pro-European", "deal", "worth", "$", "1.5", "billion", "."]]
    long = [w for s in dev[:40] for w in s.tokens][:300]              # far more than 128 sub-tokens: overlapping windows
    return (picks + [long] + [s.tokens for s in dev[100:150]])[:50]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    "Each architecture: a tiny model trained 120 steps on 400 CoNLL-2003 sentences with word shapes, then exported."
    root = tmp_path_factory.mktemp("encoders")
    texts = [" ".join(s.tokens) for s in data.conll2003("train")[:600]]
    out = {}
    for arch in ARCHITECTURES:
        folder = build(arch, texts, root/"models")
        run = root/"runs"/arch
        train(TrainConfig(strategy="gold", gold_size=400, distilled="none", model=str(folder), steps=120, batch_size=16,
                          lr=3e-3, warmup_ratio=0.0, freeze_embeddings=False, case_features="on", evals=1,
                          select_dev_size=50, dev_size=50, test=False, out=str(run)), progress=False)
        out[arch] = (run, export_bundle(run, root/"export", arch, limit=40, wheelhouse=False, pack=False,
                                                candidates=("int8", "int8-reduced", STATIC), ship=(STATIC,)))
    return out


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.slow
def test_the_runtime_feeds_what_training_fed_and_gets_pytorchs_logits(trained, arch):
    run, bundle = trained[arch]
    man = infer.verify_bundle(bundle)
    st = Student(run)
    tagger = infer.Bundle(bundle, "fp32").tagger
    assert tagger.shapes and man["encoding"]["word_shapes"]
    if arch == "distilbert": assert "token_type_ids" not in tagger.inputs        # DistilBERT takes no token types
    if arch == "bert": assert "token_type_ids" in tagger.inputs
    sents = probe_sentences()
    jobs = tagger.windows(sents)
    assert any(j[0] == sents.index(max(sents, key=len)) for j in jobs[1:]) and len(jobs) > len(sents)   # the long one: several windows
    ours, theirs = tagger.feed(jobs), training_feed(st, sents)
    for k in ours: np.testing.assert_array_equal(ours[k], theirs[k], err_msg=f"{arch}: {k}")
    assert ours["shape_ids"].max() >= 4                                          # several shapes, not only lower/Title
    with torch.inference_mode(): pt = st.model(**{k: torch.from_numpy(v) for k, v in ours.items()}).logits.numpy()
    ox = tagger.logits(ours)
    rows = np.repeat(np.arange(len(jobs)), [len(j[2]) for j in jobs]); cols = np.concatenate([j[2] for j in jobs])
    np.testing.assert_allclose(ox[rows, cols], pt[rows, cols], atol=1e-4, rtol=0)
    # the trained model says more than O, so the comparison is not between two all-O outputs
    tags = {t for s, _ in tagger.tag([s.tokens for s in data.conll2003("dev")[:300]]) for t in s}
    assert len(tags) >= 3, (arch, tags)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.slow
def test_int8_runs_in_the_bundle(trained, arch):
    "The calibrated int8 (every DynamicQuantizeLinear fixed, products as MatMulIntegerToFloat) runs in the bundle and mostly agrees with fp32."
    _, bundle = trained[arch]
    recipe = infer.verify_bundle(bundle)["variants"]["int8"]["quantisation"]
    assert recipe["scales"] == "calibrated" and recipe["scales_fixed"] >= 4, recipe
    words = [s.tokens for s in data.conll2003("dev")[:300]]
    fp32 = [t for s, _ in infer.Bundle(bundle, "fp32").tagger.tag(words) for t in s]
    int8 = [t for s, _ in infer.Bundle(bundle, "int8").tagger.tag(words) for t in s]
    agree = sum(a == b for a, b in zip(fp32, int8)) / len(fp32)
    assert agree > 0.9 and len(set(int8)) >= 2, (arch, agree, set(int8))
    res = infer.Bundle(bundle, "int8").predict_texts(["Peter Blackburn met EU officials in Zürich on Monday."])
    assert all(res[0]["text"][e["start"]:e["end"]] == e["text"] for e in res[0]["entities"])


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.slow
def test_static_int8_runs_in_the_bundle(trained, arch):
    "Static int8 (QDQ, calibrated on training sentences) runs through the bundle and mostly agrees with fp32."
    _, bundle = trained[arch]
    man = infer.verify_bundle(bundle)
    recipe = man["variants"][STATIC]["quantisation"]
    assert recipe["scales"] == "static" and recipe["format"] == "QDQ" and recipe["matmuls_kept_fp32"] >= 4, recipe
    words = [s.tokens for s in data.conll2003("dev")[:300]]
    fp32 = [t for s, _ in infer.Bundle(bundle, "fp32").tagger.tag(words) for t in s]
    static = [t for s, _ in infer.Bundle(bundle, STATIC).tagger.tag(words) for t in s]
    agree = sum(a == b for a, b in zip(fp32, static)) / len(fp32)
    assert agree > 0.9 and len(set(static)) >= 2, (arch, agree, set(static))


@pytest.mark.slow
def test_fusion_falls_back_where_it_does_not_apply(trained, tmp_path):
    "onnxruntime's BERT fusion applies to BERT; DeBERTa-v2's relative attention it does not fuse, and the unfused graph is used."
    for arch, want in (("bert", "fused"), ("deberta-v2", "unfused")):
        run, bundle = trained[arch]
        cfg = json.loads((run/"model"/"config.json").read_text())
        assert all(_dims(cfg)), cfg
        got, what = fuse(bundle/"model.onnx", tmp_path/f"{arch}.onnx", cfg)
        assert what.startswith(want) and (got == bundle/"model.onnx") == (want == "unfused"), (arch, what)


@pytest.mark.slow
def test_tokenizers_say_whether_they_lose_case(trained):
    assert lowercases(Student(trained["bert-uncased"][0]).tokenizer)
    for arch in ("bert", "roberta", "deberta-v2"): assert not lowercases(Student(trained[arch][0]).tokenizer), arch
    run = trained["roberta"][0]
    assert json.loads((run/"model"/"tokenizer.json").read_text())["pre_tokenizer"]["add_prefix_space"]   # words keep their space


def test_layers_are_dropped_in_any_architecture(tmp_path):
    from transformers import AutoModelForTokenClassification
    folder = build("distilbert", [" ".join(s.tokens) for s in data.conll2003("train")[:200]], tmp_path)
    m = AutoModelForTokenClassification.from_pretrained(folder)
    assert keep_layers(m, 1) == [1] and len(m.distilbert.transformer.layer) == 1 and m.config.n_layers == 1
