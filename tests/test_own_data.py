"""A user's own data and entity types, end to end. The test writes, from real CoNLL-2003 sentences, the
gold files a user would hold in another schema (PERSON, COMPANY, PLACE: other names, and three types
instead of four; CoNLL's MISC is not annotated): train in CoNLL columns, dev as Prodigy-style text+spans
JSONL, test as a Label Studio JSON export, unlabelled text as a .txt file. It annotates with the tests'
OpenAI-compatible fake server answering in the new types, trains, sweeps, exports, and the bundle labels
raw text; the types reach labels.json, the run's metrics and the report."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ner_distill import data, formats, infer

from ner_distill.annotate.fake_llm import FakeLLM

CLI = [sys.executable, "-m", "ner_distill.cli"]
ENV = dict(os.environ, HF_HUB_OFFLINE="1")
RENAME = {"PER": "PERSON", "ORG": "COMPANY", "LOC": "PLACE"}
NEW = ("PERSON", "COMPANY", "PLACE")


def renamed(s):
    "CoNLL tags in the user's schema: PER -> PERSON, ORG -> COMPANY, LOC -> PLACE, MISC -> O."
    return [("O" if t == "O" or t[2:] not in RENAME else f"{t[:2]}{RENAME[t[2:]]}") for t in s.tags]


def write_dataset(root: Path) -> Path:
    train, dev, test = data.conll2003("train")[:400], data.conll2003("dev")[:80], data.conll2003("test")[:80]
    (root / "schema.yaml").write_text(
        "name: people-companies-places\ntypes:\n"
        "  - {name: PERSON, description: names of people, synonyms: [PER, PEOPLE]}\n"
        "  - {name: COMPANY, description: 'names of companies, clubs and other organisations', synonyms: [ORG, FIRM]}\n"
        "  - {name: PLACE, description: 'names of places: countries, cities, regions', synonyms: [LOC, GPE]}\n")
    formats.write_conll([s.with_tags(renamed(s)) for s in train], root / "train.conll")
    formats.write_spans([s.with_tags(renamed(s)) for s in dev], root / "dev.jsonl")
    tasks = []
    for i, s in enumerate(test):
        sp = formats.sentence_spans(s.with_tags(renamed(s)))
        tasks.append({"id": i, "data": {"text": sp["text"]}, "annotations": [{"result": [
            {"type": "labels", "value": {"start": x["start"], "end": x["end"], "text": sp["text"][x["start"]:x["end"]],
                                         "labels": [x["label"]]}} for x in sp["spans"]]}]})
    (root / "test.json").write_text(json.dumps(tasks))
    (root / "notes.txt").write_text("\n".join(s.text for s in data.conll2003("train")[400:460])
                                    + "\nTalks between Clinton and Reuters in Germany and Britain ended .\n")
    (root / "dataset.yaml").write_text("name: pcp\nschema: schema.yaml\ntrain: train.conll\ndev: dev.jsonl\n"
                                       "test: {path: test.json, format: labelstudio}\nunlabelled: notes.txt\n")
    return root / "dataset.yaml"


def run(args, timeout=600):
    r = subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True, env=ENV, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


@pytest.mark.slow
def test_own_schema_from_annotation_to_bundle(tmp_path):
    ds_file = write_dataset(tmp_path)
    stats = json.loads(run(["data", "stats", "--dataset", ds_file, "--json"]))
    assert set(stats["pcp-train"]["entities"]) == set(NEW) and stats["pcp-test"]["sentences"] == 80
    assert stats["pcp-unlabelled"]["sentences"] >= 60
    # the text+spans splits were converted with the runtime's word splitter: every span counted, none lost
    assert stats["pcp-dev"]["report"]["spans"] > 0 and not stats["pcp-dev"]["report"].get("spans_lost_no_word")

    gaz = {"Germany": "PLACE", "Britain": "PLACE", "Clinton": "PERSON", "Reuters": "COMPANY"}
    with FakeLLM(entity_type="COMPANY", types_by_word=gaz) as srv:
        run(["annotate", "--dataset", ds_file, "--source", "unlabelled", "--teacher", "openai", "--base-url", srv.base_url,
             "--model", "fake", "--prompt", "zero-shot", "--quiet", "--out", tmp_path / "ann"])
        out = json.loads(run(["annotate", "--dataset", ds_file, "--source", "dev", "--teacher", "openai", "--base-url",
                              srv.base_url, "--model", "fake", "--prompt", "few-shot", "--quiet", "--out", tmp_path / "ann-dev"]))
    assert set(out["f1_by_type"]) <= set(NEW) and "COMPANY" in out["f1_by_type"]       # quality against the user's gold
    labels = formats.read_jsonl(tmp_path / "ann" / "labels.jsonl", types=NEW)        # refuses any type outside the schema
    assert {"COMPANY", "PLACE", "PERSON"} == {t for s in labels for t, _, _ in s.entities()}
    assert json.loads((tmp_path / "ann" / "schema.json").read_text())["name"] == "people-companies-places"
    cache = b"".join(p.read_bytes() for p in (tmp_path / "ann").glob("cache.sqlite*"))
    assert b"PERSON|COMPANY|PLACE" in cache and b"CoNLL" not in cache      # the prompt names the user's types

    run(["train", "--dataset", ds_file, "--strategy", "distilled_then_gold", "--distilled", tmp_path / "ann",
         "--gold-size", "300", "--steps", "30", "--batch-size", "16", "--evals", "1", "--out", tmp_path / "run"])
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(m["test"]["per_type"]) <= set(NEW) and m["test"]["split"] == "pcp-test"
    assert json.loads((tmp_path / "run" / "config.json").read_text())["types"] == list(NEW)
    assert json.loads((tmp_path / "run" / "model" / "config.json").read_text())["id2label"]["1"] == "B-PERSON"

    run(["export", "--run", tmp_path / "run", "--out", tmp_path / "export", "--name", "pcp", "--no-wheelhouse", "--limit", "40"])
    b = tmp_path / "export" / "pcp"
    assert json.loads((b / "labels.json").read_text())["labels"] == ["O"] + [f"{p}-{t}" for t in NEW for p in "BI"]
    man = infer.verify_bundle(b)
    assert man["types"] == list(NEW) and "pcp test" in man["evaluated_on"] and "PERSON, COMPANY, PLACE" in (b / "README.md").read_text()
    bundle = infer.Bundle(b)
    res = bundle.predict_tokens(data.conll2003("test")[:80].tokens)
    found = {e["type"] for r in res for e in r["entities"]}
    assert found and found <= set(NEW), found
    text = "Peter Blackburn met officials of Reuters in Germany on Monday."
    ents = bundle.predict_texts([text])[0]["entities"]
    assert all(e["type"] in NEW and text[e["start"]:e["end"]] == e["text"] for e in ents)

    run(["sweep", "--profile", "tiny", "--dataset", ds_file, "--strategies", "gold", "distilled_then_gold", "--quiet",
         "--param", f"distilled={tmp_path / 'ann'}", "--out", tmp_path / "sweep"], timeout=900)
    html = (tmp_path / "sweep" / "report.html").read_text()
    assert "COMPANY" in html and "PLACE" in html and "Traceback" not in html


def test_bad_own_data_gets_a_clear_error(tmp_path):
    (tmp_path / "schema.yaml").write_text("types: [DRUG, DISEASE, drug]\n")
    (tmp_path / "dataset.yaml").write_text("name: bad\nschema: schema.yaml\ntrain: train.conll\n")
    (tmp_path / "train.conll").write_text("aspirin B-DRUG\n")
    r = subprocess.run(CLI + ["data", "stats", "--dataset", str(tmp_path)], capture_output=True, text=True, env=ENV)
    assert r.returncode == 2 and "schema.yaml: 'drug' names both DRUG and drug" in r.stderr
    (tmp_path / "schema.yaml").write_text("types: [DRUG, DISEASE]\n")
    (tmp_path / "train.conll").write_text("aspirin B-DRUG\nhelps O\n\nflu B-VIRUS\n")
    r = subprocess.run(CLI + ["data", "stats", "--dataset", str(tmp_path)], capture_output=True, text=True, env=ENV)
    assert r.returncode == 2 and "train.conll:4: unknown entity type in tag 'B-VIRUS'" in r.stderr
    (tmp_path / "train.jsonl").write_text(json.dumps({"text": "aspirin helps", "spans": [[0, 7, "DRUG"], [3, 13, "DISEASE"]]}) + "\n")
    (tmp_path / "dataset.yaml").write_text("name: bad\nschema: schema.yaml\ntrain: train.jsonl\n")
    r = subprocess.run(CLI + ["data", "stats", "--dataset", str(tmp_path)], capture_output=True, text=True, env=ENV)
    assert r.returncode == 2 and "train.jsonl:1: spans overlap" in r.stderr
    (tmp_path / "train.jsonl").write_text(json.dumps({"text": "aspirin", "spans": [[0, 70, "DRUG"]]}) + "\n")
    r = subprocess.run(CLI + ["data", "stats", "--dataset", str(tmp_path)], capture_output=True, text=True, env=ENV)
    assert r.returncode == 2 and "train.jsonl:1: span [0, 70) DRUG runs past the text (length 7)" in r.stderr
