"""ONNX export and the air-gapped bundle, end to end: a short real training run on CoNLL-2003 is
exported with optimum, installed into a fresh venv from the bundle's wheelhouse alone (--no-index),
run there without network (unshare -n) and without torch, and its output on CoNLL test sentences is
compared with the exporting process's ONNX output. A bundle with one changed byte is refused."""
import json
import shutil
import subprocess
import sys
import threading
import urllib.request

import pytest

from ner_distill import data, formats, infer, speed
from ner_distill.export import export_bundle
from ner_distill.onnx_variants import batch_invariant, quantise, static_variant
from ner_distill.train import TrainConfig, train


@pytest.mark.slow
def test_bundle_contents_and_manifest(bundle):
    man = json.loads((bundle / "manifest.json").read_text())
    for f in ("model.onnx", "model_int8.onnx", "tokenizer.json", "labels.json", "ner_distill_infer.py", infer.WORD_RULES,
              "requirements.txt", "install.sh", "ner-distill-infer", "README.md"):
        assert f in man["files"], f
    assert man["words"] == dict(rules=infer.WORD_RULES, hyphens=infer.DEFAULT_HYPHENS, version=infer.splitter_version())
    assert any(f.startswith("wheelhouse/onnxruntime-") for f in man["files"])
    assert man["default_variant"] in ("fp32", "int8") and man["default_reason"]
    drop = man["variants"]["fp32"]["dev_f1"] - man["variants"]["int8"]["dev_f1"]   # chosen on dev, never on test
    assert (man["default_variant"] == "int8") == (drop <= 0.005)
    # per CPU class: timed here on this class only; the others take their int8 (7-bit weights without VNNI) or fp32, unmeasured
    here = infer.cpu_class()
    assert list(man["cpu_variants"]) == list(infer.CPU_CLASSES) and man["metrics"]["speed"]["cpu_class"] == here
    for c, e in man["cpu_variants"].items():
        assert e["measured"] == (c == here) and e["reason"] and e["variant"] in e["candidates"]
        assert set(e["candidates"]) <= set(man["variants"]) and all(batch_invariant(v) for v in e["candidates"])
        if c != here: assert e["variant"] in (static_variant(c), "fp32") and "not measured" in e["reason"]
    # both calibrated candidates were made, measured and recorded, with the window lengths the runtime times on
    for q in ("int8", "int8-reduced"):
        assert man["quantisations"][q]["scales"] == "calibrated" and man["quantisations"][q]["batch_invariant"]
        assert "train" in man["quantisations"][q]["calibration"]
        assert {"dev", "test"} <= set(man["metrics"][q]) and man["metrics"]["speed"]["words_per_s"][q] > 0
    assert 0 < len(man["timing_lengths"]) <= 256 and max(man["timing_lengths"]) <= man["max_length"]
    assert set(man["variants"]) == {"fp32", "int8"} | {e["variant"] for e in man["cpu_variants"].values()}
    assert all(v["file"] in man["files"] for v in man["variants"].values())
    assert man["metrics"]["max_abs_logit_diff_fp32_vs_torch"] < 1e-3
    assert (bundle.parent / "tiny.tar.gz").exists()
    digest = (bundle.parent / "tiny.tar.gz.sha256").read_text().split()[0]
    assert digest == infer.file_sha256(bundle.parent / "tiny.tar.gz")
    # the runtime imports nothing heavy
    src = (bundle / "ner_distill_infer.py").read_text()
    assert "import torch" not in src and "transformers" not in src.replace("no transformers", "")


@pytest.mark.slow
def test_installed_offline_without_torch_matches_exporter(bundle, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    assert "--require-hashes" in (bundle / "install.sh").read_text()
    r = subprocess.run([str(venv / "bin/pip"), "install", "-q", "--no-index", "--no-deps", "--require-hashes", "--find-links",
                        str(bundle / "wheelhouse"), "-r", str(bundle / "requirements.txt")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert subprocess.run([str(venv / "bin/python"), "-c", "import torch"], capture_output=True).returncode != 0
    # the venv holds what the runtime imports and nothing else (pip and setuptools come with every venv)
    listed = subprocess.run([str(venv / "bin/python"), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True).stdout
    assert {p["name"].lower() for p in json.loads(listed)} - {"pip", "setuptools"} == {"numpy", "onnxruntime", "tokenizers"}
    sents = data.conll2003("test")[:40]
    conll = formats.write_conll(sents, tmp_path / "test.conll")
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    cmd = [str(venv / "bin/python"), str(bundle / "ner_distill_infer.py"), "--bundle", str(bundle), "--format", "conll", str(conll)]
    unshare = shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"]).returncode == 0
    r = subprocess.run((["unshare", "-n"] if unshare else []) + cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    got = [json.loads(l) for l in r.stdout.splitlines()]
    want = infer.Bundle(bundle).predict_tokens(sents.tokens)
    assert [g["tags"] for g in got] == [w["tags"] for w in want]
    assert [[(e["type"], e["start"], e["end"]) for e in g["entities"]] for g in got] == \
           [[(e["type"], e["start"], e["end"]) for e in w["entities"]] for w in want]
    # raw text: entities carry character offsets into the text; the runtime splits words with the table beside it
    text = "Peter Blackburn's pro-European talks with EU officials in Brussels don't end."
    r = subprocess.run(cmd[:4] + ["--text", text], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    for e in out["entities"]:
        assert out["text"][e["start"]:e["end"]] == e["text"] and 0 < e["score"] <= 1
    want = infer.Bundle(bundle).predict_texts([text])[0]
    assert [(e["type"], e["start"], e["end"]) for e in out["entities"]] == [(e["type"], e["start"], e["end"]) for e in want["entities"]]


@pytest.mark.slow
def test_wheelhouse_is_the_lock_byte_for_byte(bundle, tmp_path):
    "Only the three wheels the runtime imports, as locked; two wheelhouses built from the same commit are identical."
    from ner_distill.wheelhouse import build_wheelhouse, runtime_lock, this_target
    lock = {w["file"]: w["sha256"] for w in runtime_lock()["targets"][this_target()]}
    shipped = {p.name: infer.file_sha256(p) for p in (bundle / "wheelhouse").iterdir()}
    assert shipped == lock and {f.split("-")[0] for f in shipped} == {"numpy", "onnxruntime", "tokenizers"}
    build_wheelhouse(tmp_path / "again")
    assert {p.name: infer.file_sha256(p) for p in (tmp_path / "again").iterdir()} == shipped
    man = json.loads((bundle / "manifest.json").read_text())
    assert {w["file"]: w["sha256"] for w in man["wheels"]} == lock and all(w["license"] for w in man["wheels"])
    assert all(f"--hash=sha256:{h}" in (bundle / "requirements.txt").read_text() for h in lock.values())


@pytest.mark.slow
def test_changed_byte_is_refused(bundle, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(bundle, bad, ignore=shutil.ignore_patterns("wheelhouse"))
    man = json.loads((bad / "manifest.json").read_text())
    man["files"] = {k: v for k, v in man["files"].items() if not k.startswith("wheelhouse/")}
    (bad / "manifest.json").write_text(json.dumps(man))
    infer.Bundle(bad)                                    # intact: loads
    b = bytearray((bad / "labels.json").read_bytes()); b[5] ^= 1
    (bad / "labels.json").write_bytes(bytes(b))
    with pytest.raises(infer.BundleError, match="labels.json: sha256 differs"):
        infer.Bundle(bad)
    r = subprocess.run([sys.executable, str(bad / "ner_distill_infer.py"), "--bundle", str(bad), "--text", "Bonn"],
                       capture_output=True, text=True)
    assert r.returncode == 3 and "refusing" in r.stderr


def test_cpu_class_from_flags():
    "The int8 class of a CPU from its flags: VNNI in any form (or AMX) first, then AVX-512, AVX2, anything older."
    assert [infer.cpu_class(f) for f in ("fpu sse4_2 avx avx2 fma", "avx2 avx512f avx512bw avx512vl", "avx2 avx512f avx512_vnni",
                                         "avx2 avx_vnni", "avx2 avx512f amx_tile amx_int8", "fpu sse sse2", "")] == \
           ["avx2", "avx512", "vnni", "vnni", "vnni", "baseline", "baseline"]
    assert infer.cpu_class({"avx2", "avx512f"}) == "avx512" and infer.cpu_class() in infer.CPU_CLASSES + ("unknown",)


def test_variant_per_cpu_class_and_bundles_without_it():
    "A manifest's choice for each class; the default for a class it has none for, for a manifest from before the choices, and a named one wins."
    man = {"default_variant": "int8", "default_reason": "within tolerance", "variants": dict.fromkeys(["fp32", "int8", "int8-static-reduced"]),
           "cpu_variants": {"vnni": {"variant": "int8", "reason": "fastest here"}, "avx2": {"variant": "int8-static-reduced", "reason": "r"},
                            "avx512": {"variant": "int8-static", "reason": "not shipped"}}}
    assert [infer.bundle_variant(man, cpu=c)[0] for c in ("vnni", "avx2", "avx512", "baseline", "unknown")] == \
           ["int8", "int8-static-reduced", "int8", "int8", "int8"]
    assert "CPU class avx2" in infer.bundle_variant(man, None, "avx2")[1]
    assert infer.bundle_variant(man, "fp32", "avx2")[0] == "fp32"
    old = {k: v for k, v in man.items() if k != "cpu_variants"}
    assert {infer.bundle_variant(old, cpu=c)[0] for c in infer.CPU_CLASSES} == {"int8"}
    assert "without per-CPU choices" in infer.bundle_variant(old)[1]


@pytest.mark.slow
def test_bundle_loads_the_variant_of_its_cpu_class(bundle, tmp_path, monkeypatch):
    "A real bundle loads what its manifest maps this CPU's class to, another class's choice when the CPU is another, its default without the map."
    b = tmp_path / "b"
    shutil.copytree(bundle, b, ignore=shutil.ignore_patterns("wheelhouse"))
    man = json.loads((b / "manifest.json").read_text())
    man["files"] = {k: v for k, v in man["files"].items() if not k.startswith("wheelhouse/")}
    other = "int8" if man["default_variant"] == "fp32" else "fp32"
    man["cpu_variants"][infer.cpu_class()] = dict(variant=other, measured=True, reason="test")
    man["cpu_variants"]["avx2"] = dict(variant=man["default_variant"], measured=False, reason="test")
    (b / "manifest.json").write_text(json.dumps(man))
    assert infer.Bundle(b).variant == other
    r = subprocess.run([sys.executable, str(b / "ner_distill_infer.py"), "--bundle", str(b), "--text", "Bonn"], capture_output=True, text=True)
    assert r.returncode == 0 and f"variant {other} (chosen for CPU class {infer.cpu_class()}: test)" in r.stderr
    monkeypatch.setattr(infer, "cpu_class", lambda flags=None: "avx2")
    assert infer.Bundle(b).variant == man["default_variant"]
    monkeypatch.undo()
    del man["cpu_variants"]
    (b / "manifest.json").write_text(json.dumps(man))                      # a bundle made before per-CPU choices
    assert infer.Bundle(b).variant == man["default_variant"]
    assert infer.Bundle(b).predict_texts(["Peter Blackburn visited Bonn."])[0]["text"] == "Peter Blackburn visited Bonn."


@pytest.mark.slow
def test_long_text_goes_through_windows_not_truncated(bundle):
    b = infer.Bundle(bundle)
    b.tagger.max_length = 32                              # force many overlapping windows
    words = ("Peter Blackburn visited Bonn and Paris on Monday ." * 30).split()
    (tags, probs), = b.tagger.tag([words])
    assert len(tags) == len(words) == len(probs)
    text = " ".join(words)
    res = b.predict_texts([text])[0]
    assert all(text[e["start"]:e["end"]] == e["text"] for e in res["entities"])


@pytest.mark.slow
def test_every_shipped_variant_is_batch_invariant(bundle, tmp_path):
    """300 test sentences and some longer than one window, tagged at batch 1, 8, 32 and 128 and in a shuffled order:
    with every variant the bundle ships, the same tags and the same probabilities (to 1e-5; the tiny bundle's student
    tags few entities, so its probabilities carry the test). Dynamic int8, made from the same fp32 graph, fails it."""
    test = data.conll2003("test")
    long = [sum(test.tokens[i:i + 12], []) for i in range(0, 120, 12)]            # 12 sentences joined: > 128 sub-tokens
    sents = test.tokens[:300] + long
    man = json.loads((bundle / "manifest.json").read_text())
    assert len(man["variants"]) >= 2

    fp32 = infer.Bundle(bundle, "fp32").tagger
    assert any(len(fp32.windows([s])) > 1 for s in long)
    for v in man["variants"]:
        inv = speed.batch_invariance(infer.Bundle(bundle, v, choose=False).tagger, sents)
        assert (inv["sentences_differing"], inv["max_prob_diff"] < 1e-5) == (0, True), (v, inv)
    dyn, _ = quantise(bundle / "model.onnx", tmp_path / "model_int8-dynamic.onnx", {}, fused=False)
    dynamic = infer.Tagger(dyn, bundle / "tokenizer.json", fp32.labels, man["max_length"], decode=man["decode"], pad_id=fp32.pad)
    assert speed.batch_invariance(dynamic, sents)["max_prob_diff"] > 1e-4


@pytest.mark.slow
def test_three_layer_student_trains_exports_and_runs(tmp_path):
    """A 3-layer student without word shape (as every student was before it existed): trains, exports and runs, also as a
    bundle whose manifest predates the decoding and encoding keys (argmax, [PAD] looked up)."""
    train(TrainConfig(strategy="gold", gold_size=64, distilled="none", steps=4, batch_size=16, evals=1, layers=3,
                      case_features="off", select_dev_size=30, dev_size=30, test=False, out=str(tmp_path / "run")), progress=False)
    assert json.loads((tmp_path / "run" / "model" / "config.json").read_text())["num_hidden_layers"] == 3
    b = export_bundle(tmp_path / "run", tmp_path / "export", "small", limit=30, wheelhouse=False, pack=False)
    res = infer.Bundle(b).predict_texts(["Peter Blackburn visited Bonn."])
    assert res[0]["text"] == "Peter Blackburn visited Bonn." and isinstance(res[0]["entities"], list)
    tagger = infer.Bundle(b).tagger
    assert not tagger.shapes and "shape_ids" not in tagger.feed(tagger.windows([["Bonn"]]))
    man = json.loads((b / "manifest.json").read_text())
    for k in ("decode", "encoding", "cpu_variants"): man.pop(k)
    (b / "manifest.json").write_text(json.dumps(man))
    old = infer.Bundle(b)
    assert old.tagger.decode == "argmax" and old.tagger.pad == old.tagger.tok.token_to_id("[PAD]")
    assert old.predict_texts(["Peter Blackburn visited Bonn."])[0]["text"] == "Peter Blackburn visited Bonn."
