"""Annotation tools' exports read as gold. Each fixture is built here in the shape its tool writes, from the tool's
documented format and its real field set (the field names and their order follow each tool's exporter):

* Label Studio 1.x JSON export (UI "Export > JSON", or GET /api/projects/<id>/export?exportType=JSON): tasks with
  `id`, `annotations` (`id`, `completed_by` as a user id, `result` regions with `value.{start,end,text,labels}`,
  `id`, `from_name`, `to_name`, `type`, `origin`; `was_cancelled`, `ground_truth`, `created_at`, `updated_at`,
  `lead_time`, ...), `predictions` as ids, `drafts`, `data`, `meta` and the task counters;
* Label Studio's full snapshot: `completed_by` as an object (`id`, `email`, `first_name`, `last_name`) and
  `predictions` as objects (`result`, `model_version`, `score`, ...);
* Label Studio JSON_MIN and CONLL2003, written from those tasks as label-studio-sdk's converter writes them (JSON_MIN:
  data fields at the top level, the regions under the labels control's name and left out when the result is
  empty, `annotator`, `annotation_id`, times; cancelled annotations left out; a task's annotations newest first);
* Prodigy `db-out` of a `ner.manual` dataset (`text`, `tokens`, `spans` with `token_start`/`token_end`,
  `_input_hash`, `_task_hash`, `_view_id`, `answer`, `_timestamp`, `_annotator_id`, `_session_id`, `meta`);
* doccano's sequence-labelling JSONL (`id`, `text`, `label` or `entities`/`relations`, `Comments`, metadata on top);
* Argilla 1.x token-classification records and Argilla 2.x `records.to_json` (nested) and `to_datasets` (flat).
The exports hold tasks nobody annotated, two annotators, a cancelled annotation, rejected and ignored Prodigy
examples, discarded and draft Argilla responses and an empty result: each is counted, none is read as gold."""
import json
from pathlib import Path

import pytest

from ner_distill import data, tool_files, formats
from ner_distill.tool_files import read_export, sniff_tool
from ner_distill.infer import split_words

S1 = "Peter Blackburn met EU officials in Brussels."
S2 = "Shares in Time Warner rose."
S3 = "Nothing happened."
S4 = "Bonn agreed."
S5 = "Clinton spoke in Germany."
SPANS = {S1: [(0, 15, "PER"), (20, 22, "ORG"), (36, 44, "LOC")], S2: [(10, 21, "ORG")], S4: [(0, 4, "LOC")],
         S5: [(0, 7, "PER"), (17, 24, "LOC")]}
TAGS1 = ["B-PER", "I-PER", "O", "B-ORG", "O", "O", "B-LOC", "O"]


# ---- Label Studio ----

def region(text, s, e, label, rid="", origin="manual"):
    r = {"value": {"start": s, "end": e, "text": text[s:e], "labels": [label]}}
    if rid: r["id"] = rid                       # regions made by the API or a converter may come without id or origin
    r.update(from_name="label", to_name="text", type="labels")
    if origin: r["origin"] = origin
    return r


def ls_annotation(aid, task, who, when, regions, cancelled=False):
    return {"id": aid, "completed_by": who, "result": regions, "was_cancelled": cancelled, "ground_truth": False,
            "created_at": when, "updated_at": when, "draft_created_at": None, "lead_time": 21.4, "prediction": {},
            "result_count": len(regions), "unique_id": f"0b9c2f64-{aid:04d}", "import_id": None, "last_action": None,
            "bulk_created": False, "task": task, "project": 3, "updated_by": who if isinstance(who, int) else who["id"],
            "parent_prediction": None, "parent_annotation": None, "last_created_by": None}


def ls_task(tid, data_, annotations, predictions=(), drafts=()):
    n_cancelled = sum(a["was_cancelled"] for a in annotations)
    return {"id": tid, "annotations": annotations, "file_upload": "8f1d2c3a-sentences.json", "drafts": list(drafts),
            "predictions": list(predictions), "data": data_, "meta": {}, "created_at": "2024-05-01T08:00:00.000000Z",
            "updated_at": "2024-05-03T09:00:00.000000Z", "inner_id": tid, "total_annotations": len(annotations) - n_cancelled,
            "cancelled_annotations": n_cancelled, "total_predictions": len(predictions), "comment_count": 0,
            "unresolved_comment_count": 0, "last_comment_updated_at": None, "project": 3, "updated_by": 1, "comment_authors": []}


ALICE = {"id": 1, "first_name": "Alice", "last_name": "A", "email": "alice@example.org"}
BOB = {"id": 2, "first_name": "Bob", "last_name": "B", "email": "bob@example.org"}


def ls_tasks(full=False):
    """Six tasks: annotated once (with an id block the review writer puts in data); annotated by Alice, then Bob,
    who widened the span; nobody; only a cancelled annotation (Bob's); a cancelled one and Alice's empty result (no
    entities: gold); Alice's annotation with one region that has no id or origin and a choices region beside it."""
    who = (lambda u: u) if full else (lambda u: u["id"])
    def pred(pid, text):    # a model's prediction: an id in the plain export, an object in a full one
        if not full: return pid
        return {"id": pid, "result": [region(text, s, e, lab, f"p{pid}{s}", origin="") for s, e, lab in SPANS.get(text, [])][:1],
                "model_version": "spacy-sm-v1", "created_ago": "2 days", "score": 0.71, "cluster": None, "neighbors": None,
                "mislabeling": 0.0, "created_at": "2024-05-01T08:00:00.000000Z", "updated_at": "2024-05-01T08:00:00.000000Z",
                "model": None, "model_run": None, "task": pid - 100, "project": 3}
    block = {"source": "bbc", "doc_id": "bbc/business/007", "sent_id": 3}
    return [
        ls_task(1, {"text": S1, "sent_id": 7, "ner_distill": block}, [ls_annotation(
            11, 1, who(ALICE), "2024-05-02T10:00:00.000000Z", [region(S1, s, e, l, f"r{s}") for s, e, l in SPANS[S1]])], [pred(101, S1)]),
        ls_task(2, {"text": S2}, [
            ls_annotation(12, 2, who(ALICE), "2024-05-02T10:05:00.000000Z", [region(S2, 10, 14, "ORG", "a1")]),
            ls_annotation(13, 2, who(BOB), "2024-05-03T09:00:00.000000Z", [region(S2, 10, 21, "ORG", "b1")])], [pred(102, S2)]),
        ls_task(3, {"text": S3}, [], [pred(103, S3)]),
        ls_task(4, {"text": S4}, [ls_annotation(14, 4, who(BOB), "2024-05-03T09:10:00.000000Z", [], cancelled=True)]),
        ls_task(5, {"text": S4}, [ls_annotation(15, 5, who(BOB), "2024-05-03T09:11:00.000000Z", [], cancelled=True),
                                  ls_annotation(16, 5, who(ALICE), "2024-05-03T09:12:00.000000Z", [])]),
        ls_task(6, {"text": S5}, [ls_annotation(17, 6, who(ALICE), "2024-05-03T09:13:00.000000Z", [
            region(S5, 0, 7, "PER", "c1"), region(S5, 17, 24, "LOC", origin=""),
            {"value": {"choices": ["politics"]}, "id": "k1", "from_name": "topic", "to_name": "text", "type": "choices",
             "origin": "manual"}])]),
    ]


def json_min(tasks):
    "JSON_MIN as label-studio-sdk's Converter.convert_to_json_min writes it from these tasks."
    rows = []
    for t in tasks:
        if not t["annotations"]:
            rows.append({**t["data"], "id": t["id"], "annotator": None, "annotation_id": None, "created_at": None,
                         "updated_at": None, "lead_time": None})
        done = sorted((a for a in t["annotations"] if not a["was_cancelled"]), key=lambda a: a["created_at"], reverse=True)
        for a in done:
            out = {}
            for r in a["result"]:
                out.setdefault(r["from_name"], []).append(dict(r["value"]))
            by = a["completed_by"]
            rows.append({**t["data"], "id": t["id"], **{k: (v[0]["choices"][0] if "choices" in v[0] else v) for k, v in out.items()},
                         "annotator": by["email"] if isinstance(by, dict) else by, "annotation_id": a["id"],
                         "created_at": a["created_at"], "updated_at": a["updated_at"], "lead_time": a["lead_time"]})
    return rows


def test_label_studio_json_skips_and_counts(tmp_path):
    p = tmp_path / "project-3-at-2024-05-03-09-20-5f2b1c7e.json"
    p.write_text(json.dumps(ls_tasks()))
    assert sniff_tool(p) == "labelstudio"
    c = read_export(p, "conll2003")
    assert [s.meta["text"] for s in c] == [S1, S2, S4, S5]
    assert c[0].tags == TAGS1
    assert c[1].tags == ["O", "O", "B-ORG", "I-ORG", "O", "O"]            # Bob's, updated last
    assert c[2].tags == ["O", "O", "O"]                                   # Alice's empty result: a sentence without entities
    assert c[3].tags == ["B-PER", "O", "O", "B-LOC", "O"]
    r = c.report
    assert (r["records"], r["skipped_unannotated"], r["skipped_cancelled"], r["several_annotations"]) == (6, 1, 2, 1)
    assert r["prediction_ids"] == 3 and r["regions_not_labels"] == 1 and r["spans"] == 6
    # identity: the task id, the id fields of data, the ner_distill block (its doc_id becomes the sentence's)
    assert c[0].meta["tool_id"] == 1 and c[0].meta["ids"] == {"sent_id": 7}
    assert c[0].meta["ner_distill"] == {"source": "bbc", "doc_id": "bbc/business/007", "sent_id": 3}
    assert c[0].doc_id == "bbc/business/007" and c[1].meta["annotation_id"] == 13 and c[1].meta["annotator"] == ["2"]
    # whose annotation: by user id; a task without one by them is skipped and counted
    a = read_export(p, "conll2003", annotator=1)
    assert a[1].tags == ["O", "O", "B-ORG", "O", "O", "O"] and a.report.get("several_annotations", 0) == 0
    b = read_export(p, "conll2003", annotator=2)
    assert len(b) == 1 and b.report["skipped_not_by_annotator"] == 3
    with pytest.raises(formats.DataFormatError, match="ids only"):
        read_export(p, predictions=True)


def test_label_studio_full_export_names_annotators_and_holds_predictions(tmp_path):
    p = tmp_path / "snapshot.json"
    p.write_text(json.dumps(ls_tasks(full=True)))
    assert [s.tags for s in read_export(p, "conll2003", annotator="ALICE@example.org")][1] == ["O", "O", "B-ORG", "O", "O", "O"]
    assert read_export(p, "conll2003", annotator="bob@example.org")[0].meta["annotator"] == ["2", "bob@example.org"]
    gold = read_export(p, "conll2003")
    assert S3 not in [s.meta["text"] for s in gold]                      # a task with only a prediction is no gold
    pred = read_export(p, "conll2003", predictions=True)
    assert [s.meta["text"] for s in pred] == [S1, S2, S3]
    assert pred[0].tags == ["B-PER", "I-PER"] + ["O"] * 6 and pred[2].tags == ["O", "O", "O"]
    assert pred[0].meta["annotator"] == ["spacy-sm-v1"] and pred.report["skipped_no_prediction"] == 3


def test_label_studio_json_min(tmp_path):
    p = tmp_path / "project-3-min.json"
    p.write_text(json.dumps(json_min(ls_tasks(full=True))))
    assert sniff_tool(p) == "labelstudio-min"
    c = read_export(p, "conll2003")
    (tmp_path / "plain.json").write_text(json.dumps(ls_tasks()))
    ref = read_export(tmp_path / "plain.json", "conll2003")
    assert c.tags == ref.tags and [s.meta["tool_id"] for s in c] == [1, 2, 5, 6]
    # the task with only a cancelled annotation is not in JSON_MIN at all; the others are counted as in JSON
    assert (c.report["records"], c.report["skipped_unannotated"], c.report["several_annotations"]) == (5, 1, 1)
    assert read_export(p, "conll2003", annotator="alice@example.org")[1].tags == ["O", "O", "B-ORG", "O", "O", "O"]
    # a split declared `format: labelstudio` reads a JSON_MIN file as JSON_MIN
    assert tool_files.read_split(p, "labelstudio", formats.CONLL2003, "x-test").tags == c.tags


def test_label_studio_conll2003(tmp_path):
    "CONLL2003 as the converter writes it: unannotated tasks all O (it cannot tell), a twice-annotated task twice."
    p = tmp_path / "result.conll"
    p.write_text("-DOCSTART- -X- O\n"
                 "Peter -X- _ B-PER\nBlackburn -X- _ I-PER\nmet -X- _ O\nEU -X- _ B-ORG\nofficials -X- _ O\nin -X- _ O\n"
                 "Brussels -X- _ B-LOC\n. -X- _ O\n\n"
                 "Shares -X- _ O\nin -X- _ O\nTime -X- _ B-ORG\nWarner -X- _ I-ORG\nrose -X- _ O\n. -X- _ O\n\n"
                 "Shares -X- _ O\nin -X- _ O\nTime -X- _ B-ORG\nWarner -X- _ O\nrose -X- _ O\n. -X- _ O\n\n"
                 "Nothing -X- _ O\nhappened -X- _ O\n. -X- _ O\n\n")
    assert sniff_tool(p) == "labelstudio-conll" and tool_files.sniff_format(p) == "labelstudio-conll"
    c = read_export(p, "conll2003")
    assert len(c) == 3 and c[1].tags == ["O", "O", "B-ORG", "I-ORG", "O", "O"]
    assert c.report["several_annotations"] == 1 and "nobody annotated" in c.report["notes"][0]
    with pytest.raises(formats.DataFormatError, match="names no annotator"):
        read_export(p, annotator="alice@example.org")
    plain = tmp_path / "plain.txt"
    plain.write_text("-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n")
    assert sniff_tool(plain) == "" and tool_files.sniff_format(plain) == "conll"


# ---- Prodigy ----

def prodigy(text, spans, answer="accept", input_hash=1, ts=1714640000, who="ner_news-alice", view="ner_manual", by_token=False):
    toks, pos = [], 0
    for i, w in enumerate(split_words(text)):
        toks.append({"text": w[0], "start": w[1], "end": w[2], "id": i, "ws": text[w[2]:w[2] + 1] == " "})
    out = []
    for s, e, lab in spans:
        ts_, te_ = next(t["id"] for t in toks if t["start"] == s), next(t["id"] for t in toks if t["end"] == e)
        out.append({"token_start": ts_, "token_end": te_, "label": lab} if by_token else
                   {"start": s, "end": e, "token_start": ts_, "token_end": te_, "label": lab})
    return {"text": text, "meta": {"source": "bbc", "sent_id": input_hash}, "_input_hash": input_hash, "_task_hash": input_hash * 7,
            "tokens": toks, "_view_id": view, "spans": out, "answer": answer, "_timestamp": ts, "_annotator_id": who,
            "_session_id": who}


def test_prodigy_accept_only(tmp_path):
    p = tmp_path / "ner_news.jsonl"
    lines = [prodigy(S1, SPANS[S1], input_hash=11),
             prodigy(S2, SPANS[S2], answer="reject", input_hash=12),
             prodigy(S3, [], answer="ignore", input_hash=13),
             prodigy(S5, [(0, 7, "PER")], input_hash=15, ts=1714640100, who="ner_news-alice"),
             prodigy(S5, SPANS[S5], input_hash=15, ts=1714640200, who="ner_news-bob"),
             prodigy(S4, SPANS[S4], input_hash=14, by_token=True),
             prodigy(S2, [(10, 21, "ORG")], input_hash=16, view="ner")]            # ner.teach: one span judged
    p.write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert sniff_tool(p) == "prodigy"
    c = read_export(p, "conll2003")
    assert [s.meta["tool_id"] for s in c] == [11, 15, 14]
    assert c[0].tags == TAGS1 and c[1].tags == ["B-PER", "O", "O", "B-LOC", "O"] and c[2].tags == ["B-LOC", "O", "O"]
    r = c.report
    assert (r["records"], r["skipped_rejected"], r["skipped_ignored"], r["skipped_binary"], r["several_annotations"]) == (6, 1, 1, 1, 1)
    assert c[0].meta["ids"] == {"sent_id": 11}
    assert read_export(p, "conll2003", annotator="ner_news-alice")[1].tags == ["B-PER", "O", "O", "O", "O"]
    # the old generic reader refuses a rejected example rather than read it as gold
    with pytest.raises(formats.DataFormatError, match="ner_news.jsonl:2: a record its tool marks as not accepted"):
        formats.read_spans(p)


# ---- doccano ----

def test_doccano_both_forms(tmp_path):
    p = tmp_path / "admin.jsonl"
    p.write_text(json.dumps({"id": 41, "text": S1, "label": [[s, e, l] for s, e, l in SPANS[S1]], "Comments": [],
                             "sent_id": 7, "ner_distill": {"source": "conll", "doc_id": 2, "sent_id": 7}}) + "\n"
                 + json.dumps({"id": 42, "text": S3, "label": [], "Comments": []}) + "\n")
    q = tmp_path / "all.jsonl"
    q.write_text(json.dumps({"id": 43, "text": S5, "Comments": [], "entities": [
        {"id": 90, "label": "PER", "start_offset": 0, "end_offset": 7}, {"id": 91, "label": "LOC", "start_offset": 17, "end_offset": 24}],
        "relations": []}) + "\n")
    assert sniff_tool(p) == sniff_tool(q) == "doccano"
    c = read_export(p, "conll2003")
    assert c.tags == [TAGS1, ["O", "O", "O"]] and c[0].meta["ner_distill"]["doc_id"] == 2 and c[0].doc_id == 2
    assert c[0].meta["ids"] == {"sent_id": 7} and c[0].meta["tool_id"] == 41
    assert read_export(q, "conll2003")[0].tags == ["B-PER", "O", "O", "B-LOC", "O"]


# ---- Argilla ----

def test_argilla_1_records(tmp_path):
    def rec(i, text, status, annotation, prediction=None):
        return {"text": text, "tokens": [w for w, _, _ in split_words(text)],
                "prediction": prediction, "prediction_agent": "spacy-sm" if prediction else None,
                "annotation": annotation, "annotation_agent": "alice" if annotation is not None else None, "vectors": None,
                "id": i, "metadata": {"sent_id": i}, "status": status, "event_timestamp": "2024-05-02T10:00:00",
                "metrics": None, "search_keywords": None}
    p = tmp_path / "argilla1.json"
    p.write_text(json.dumps([
        rec(1, S1, "Validated", [[l, s, e] for s, e, l in SPANS[S1]], [[l, s, e, 0.9] for s, e, l in SPANS[S1]]),
        rec(2, S2, "Discarded", None), rec(3, S3, "Default", None, [["ORG", 0, 7, 0.2]]),
        rec(4, S4, "Edited", [["LOC", 0, 4]])]))
    assert sniff_tool(p) == "argilla"
    c = read_export(p, "conll2003")
    assert c.tags == [TAGS1]
    assert (c.report["skipped_discarded"], c.report["skipped_unannotated"], c.report["skipped_draft"]) == (1, 1, 1)
    pred = read_export(p, "conll2003", predictions=True)
    assert [s.meta["tool_id"] for s in pred] == [1, 3] and pred[1].tags == ["B-ORG", "O", "O"]


def argilla2(i, text, responses, suggestion=None):
    "A record as Argilla 2.x `dataset.records.to_json` writes it."
    return {"id": f"rec-{i}", "fields": {"text": text}, "metadata": {"sent_id": i},
            "suggestions": ({"entities": {"value": [{"start": s, "end": e, "label": l} for s, e, l in suggestion],
                                          "score": None, "agent": "gpt-4o-mini"}} if suggestion else {}),
            "responses": ({"entities": [{"value": [{"start": s, "end": e, "label": l} for s, e, l in spans] if spans else None,
                                         "user_id": user, "status": st} for user, spans, st in responses]} if responses else {}),
            "vectors": {}, "status": "completed" if any(st == "submitted" for _, _, st in responses) else "pending",
            "_server_id": f"6f1e2d3c-0000-4000-8000-{i:012d}"}


USERS = ("9a1b-alice", "9a1b-bob")


def argilla2_records():
    return [argilla2(1, S1, [(USERS[0], SPANS[S1], "submitted")], suggestion=SPANS[S1][:1]),
            argilla2(2, S2, [(USERS[0], [(10, 14, "ORG")], "submitted"), (USERS[1], SPANS[S2], "discarded")]),
            argilla2(3, S3, []),
            argilla2(4, S4, [(USERS[1], SPANS[S4], "draft")]),
            argilla2(5, S5, [(USERS[0], SPANS[S5], "submitted"), (USERS[1], [(0, 7, "PER")], "submitted")])]


def test_argilla_2_submitted_only(tmp_path):
    p = tmp_path / "records.json"
    p.write_text(json.dumps(argilla2_records()))
    assert sniff_tool(p) == "argilla" and sniff_tool(tmp_path) == "argilla"
    c = read_export(tmp_path, "conll2003")                               # to_disk's folder reads as its records.json
    assert [s.meta["tool_id"] for s in c] == ["rec-1", "rec-2", "rec-5"]
    assert c[1].tags == ["O", "O", "B-ORG", "O", "O", "O"]                # the discarded response is not read
    r = c.report
    assert (r["skipped_discarded"], r["skipped_draft"], r["skipped_unannotated"], r["several_annotations"]) == (1, 1, 1, 1)
    assert read_export(p, "conll2003", annotator=USERS[0])[2].tags == ["B-PER", "O", "O", "B-LOC", "O"]
    pred = read_export(p, "conll2003", predictions=True)
    assert len(pred) == 1 and pred[0].tags == ["B-PER", "I-PER"] + ["O"] * 6 and pred[0].meta["annotator"] == ["gpt-4o-mini"]
    # the flattened form (`records.to_datasets()` / `to_hub`, one JSON object a line) reads the same
    flat, rows = tmp_path / "flat.jsonl", []
    for x in argilla2_records():
        row = {"id": x["id"], "status": x["status"], "_server_id": x["_server_id"], **x["fields"], **x["metadata"]}
        for q, rs in x["responses"].items():
            row.update({f"{q}.responses": [r["value"] for r in rs], f"{q}.responses.users": [r["user_id"] for r in rs],
                        f"{q}.responses.status": [r["status"] for r in rs]})
        for q, sg in x["suggestions"].items():
            row.update({f"{q}.suggestion": sg["value"], f"{q}.suggestion.score": sg["score"], f"{q}.suggestion.agent": sg["agent"]})
        rows.append(row)
    keys = {k for row in rows for k in row}          # GenericIO.to_list gives every row every column, None where empty
    flat.write_text("".join(json.dumps({k: row.get(k) for k in sorted(keys)}) + "\n" for row in rows))
    assert sniff_tool(flat) == "argilla"
    fc = read_export(flat, "conll2003")
    assert fc.tags == c.tags and {k: v for k, v in fc.report.items() if k != "examples"} == {k: v for k, v in r.items() if k != "examples"}


# ---- spaCy ----

def test_spacy_docbin(tmp_path):
    import spacy
    from spacy.tokens import DocBin
    nlp = spacy.blank("en")
    a, b, u = nlp(S1), nlp(S3), nlp(S4)
    a.set_ents([a.char_span(s, e, label=l) for s, e, l in SPANS[S1]], default="outside")
    b.set_ents([], default="outside")                                   # annotated: no entities
    p = tmp_path / "train.spacy"
    DocBin(docs=[a, b, u]).to_disk(p)
    assert sniff_tool(p) == "spacy" and tool_files.sniff_format(p) == "spacy"
    c = read_export(p, "conll2003")
    assert c.tags == [TAGS1, ["O", "O", "O"]] and c.report["skipped_unannotated"] == 1 and [s.meta["tool_id"] for s in c] == [0, 1]
    (tmp_path / "junk.spacy").write_bytes(b"not a docbin")
    with pytest.raises(formats.DataFormatError, match="junk.spacy: not a spaCy DocBin"):
        read_export(tmp_path / "junk.spacy")


# ---- offsets, errors, and the dataset path to `data stats` ----

def test_label_studio_utf16_offsets(tmp_path):
    "Label Studio counts offsets in the browser, in UTF-16 units: an emoji before a name shifts them by one."
    text = "\U0001F642 Angela Merkel visited Paris."
    r = {"value": {"start": 3, "end": 16, "text": "Angela Merkel", "labels": ["PER"]}, "from_name": "label", "to_name": "text",
         "type": "labels"}
    p = tmp_path / "emoji.json"
    p.write_text(json.dumps([ls_task(1, {"text": text}, [ls_annotation(1, 1, 1, "2024-05-02T10:00:00Z", [r])])]))
    c = read_export(p, "conll2003")
    assert c[0].tags == ["O", "B-PER", "I-PER", "O", "O", "O"] and c.report["offsets_utf16"] == 1


def test_malformed_exports_name_file_and_task(tmp_path):
    p = tmp_path / "ls.json"
    p.write_text(json.dumps([ls_task(1, {"text": S1}, []), {"id": 5, "annotations": []}]))
    with pytest.raises(formats.DataFormatError, match=r"ls.json: task 2 \(id 5\): no 'data' object"):
        read_export(p)
    over = [region(S1, 0, 15, "PER"), region(S1, 6, 15, "PER")]
    p.write_text(json.dumps([ls_task(8, {"text": S1}, [ls_annotation(1, 8, 1, "t", over)])]))
    with pytest.raises(formats.DataFormatError, match=r"ls.json: task 1 \(id 8\): spans overlap"):
        read_export(p)
    p.write_text(json.dumps([ls_task(8, {"text": S1}, [ls_annotation(1, 8, 1, "t", [region(S1, 0, 15, "DRUG")])])]))
    with pytest.raises(formats.DataFormatError, match=r"task 1 \(id 8\): label 'DRUG' is not a type of schema conll2003"):
        read_export(p, "conll2003")
    q = tmp_path / "p.jsonl"
    q.write_text(json.dumps(prodigy(S1, [])) + "\n" + json.dumps(dict(prodigy(S2, []), spans=[{"token_start": 9, "token_end": 12,
                                                                                                  "label": "ORG"}])) + "\n")
    with pytest.raises(formats.DataFormatError, match="p.jsonl:2: span .* token_start and token_end need the example's tokens"):
        read_export(q)
    a = tmp_path / "a.json"
    a.write_text(json.dumps([argilla2(1, S1, [(USERS[0], SPANS[S1], "maybe")])]))
    with pytest.raises(formats.DataFormatError, match=r"a.json: record 1 \(id rec-1\): response status 'maybe'"):
        read_export(a)
    two = tmp_path / "two.json"
    two.write_text(json.dumps([ls_task(1, {"title": "A title", "body": S1}, [])]))
    with pytest.raises(formats.DataFormatError, match="which field holds the text"):
        read_export(two)
    assert read_export(two, text_field="body").report["skipped_unannotated"] == 1


def test_dataset_reads_exports_and_data_stats_counts(tmp_path, capsys):
    from ner_distill.cli import main
    (tmp_path / "train.conll").write_text("Peter B-PER\nBlackburn I-PER\n\n")
    lines = [prodigy(S1, SPANS[S1], input_hash=11), prodigy(S2, SPANS[S2], answer="reject", input_hash=12)]
    (tmp_path / "dev.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (tmp_path / "test.json").write_text(json.dumps(ls_tasks(full=True)))
    (tmp_path / "dataset.yaml").write_text("name: mine\nschema: conll2003.yaml\ntrain: train.conll\ndev: dev.jsonl\n"
                                           "test: {path: test.json, format: labelstudio, annotator: alice@example.org}\n")
    (tmp_path / "conll2003.yaml").write_text(json.dumps(formats.CONLL2003.to_dict()))
    st = data.data_stats(tmp_path / "dataset.yaml")
    assert st["mine-dev"]["sentences"] == 1 and st["mine-dev"]["report"]["skipped_rejected"] == 1
    t = st["mine-test"]["report"]
    assert st["mine-test"]["sentences"] == 4 and (t["skipped_unannotated"], t["skipped_cancelled"], t.get("skipped_not_by_annotator", 0)) == (1, 2, 0)
    main(["data", "stats", "--dataset", str(tmp_path / "dataset.yaml")])
    out = capsys.readouterr().out
    assert "skipped rejected 1" in out and "skipped unannotated 1" in out and "skipped cancelled 2" in out
    ds = data.load_dataset(tmp_path / "dataset.yaml")
    assert ds.split("test")[0].meta["ner_distill"]["sent_id"] == 3 and ds.split("test")[0].source == "mine-test"
