"""The README's quick start, run as written: its `dataset.yaml` block and its commands block, taken from README.md by
the markers before them, on a tiny dataset written here. The data are stand-ins, made up from templates: `train.json`
and `dev.json` in the shape of Label Studio's JSON export (what a user's annotation tool gives them; one task nobody
annotated, which is skipped and counted), `notes.txt` the unlabelled text. The LLM is a stand-in too: the
OpenAI-compatible fake server of `ner_distill.annotate.fake_llm` on 127.0.0.1, which `annotate --teacher openai` finds
through `$OPENAI_BASE_URL`, the openai client's own variable (the commands set `$OPENAI_API_KEY` themselves). Nothing
else differs from a user's run: the same commands, flags and defaults, in a fresh folder. The bundle it ends with is
installed from its wheelhouse into its own venv and tags the quick start's sentence."""
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FIRST = ["Anna", "Tom", "Maria", "Ivar", "Ola", "Lena", "Karl", "Sofia", "Erik", "Nina", "Jonas", "Mette"]
LAST = ["Berg", "Hale", "Lind", "Holm", "Dahl", "Strand", "Moen", "Vik", "Lund", "Foss"]
COMPANIES = ["Nordwind Logistics", "Borealis Bank", "Kestrel Air", "Fjord Energy", "Polar Foods", "Granite Systems",
             "Tidewater Shipping", "Aurora Telecom"]
TEMPLATES = ["{p} joined {c} in May.", "{c} hired {p} as chief executive.", "Shares in {c} rose after {p} spoke.",
             "{p} said {c} would cut 200 jobs.", "On Monday {p} left {c}.", "The board of {c} met {p} on Friday.",
             "{p} and {q} founded {c} in 1998.", "Analysts at {c} expect {p} to resign."]
SENTENCE = "Anna Berg joined Nordwind Logistics in May."


def readme_block(readme: str, marker: str, lang: str) -> str:
    "The fenced block of `lang` that follows the HTML comment starting with `<!-- quickstart: {marker}`."
    m = re.search(r"<!-- quickstart: " + re.escape(marker) + r".*?-->\s*```" + lang + r"\n(.*?)\n```", readme, re.S)
    assert m, f"README.md: no ```{lang} block after a '<!-- quickstart: {marker}' marker"
    return m.group(1)


def sentence(rng: random.Random) -> tuple[str, list[tuple[int, int, str]]]:
    "A made-up sentence and its entities as character spans."
    t = rng.choice(TEMPLATES)
    fill = {"p": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "q": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "c": rng.choice(COMPANIES)}
    text, spans, pos = "", [], 0
    for m in re.finditer(r"\{(\w)\}", t):
        text += t[pos:m.start()]
        spans.append((len(text), len(text) + len(fill[m.group(1)]), "COMPANY" if m.group(1) == "c" else "PERSON"))
        text += fill[m.group(1)]
        pos = m.end()
    return text + t[pos:], spans


def label_studio_export(n: int, rng: random.Random, start_id: int) -> list[dict]:
    "n annotated tasks and one nobody annotated, as Label Studio's JSON export writes them."
    tasks = []
    for i in range(n + 1):
        text, spans = sentence(rng)
        tid = start_id + i
        result = [{"value": {"start": s, "end": e, "text": text[s:e], "labels": [lab]}, "id": f"r{tid}-{k}",
                   "from_name": "label", "to_name": "text", "type": "labels", "origin": "manual"}
                  for k, (s, e, lab) in enumerate(spans)]
        annotations = [] if i == n else [{
            "id": 10_000 + tid, "completed_by": 1, "result": result, "was_cancelled": False, "ground_truth": False,
            "created_at": "2026-05-02T10:00:00.000000Z", "updated_at": "2026-05-02T10:00:00.000000Z", "lead_time": 12.5,
            "prediction": {}, "result_count": len(result), "task": tid, "project": 1, "updated_by": 1,
            "parent_prediction": None, "parent_annotation": None, "last_action": None}]
        tasks.append({"id": tid, "annotations": annotations, "drafts": [], "predictions": [], "data": {"text": text},
                      "meta": {}, "created_at": "2026-05-01T08:00:00.000000Z", "updated_at": "2026-05-02T10:00:00.000000Z",
                      "inner_id": tid, "total_annotations": len(annotations), "cancelled_annotations": 0,
                      "total_predictions": 0, "comment_count": 0, "unresolved_comment_count": 0,
                      "last_comment_updated_at": None, "project": 1, "updated_by": 1, "comment_authors": []})
    return tasks


def run_shell(script: str, cwd: Path, env: dict, timeout: float) -> subprocess.CompletedProcess:
    "`script` in bash, its process group killed whole if it runs past `timeout` (pip in install.sh included)."
    trace = "PS4='+ [${SECONDS}s] '; set -x\n"          # each command on stderr when it starts, as bash -x shows it
    p = subprocess.Popen(["bash", "-euo", "pipefail", "-c", trace + script], cwd=cwd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        steps = "\n".join(line for line in err.splitlines() if line.startswith("+ ["))
        pytest.fail(f"the quick start ran past {timeout} s; the commands it had started:\n{steps}\n{err[-3000:]}")
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


@pytest.mark.slow
def test_readme_quick_start_runs_as_written(tmp_path):
    from ner_distill.annotate.fake_llm import FakeLLM
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    dataset_yaml = readme_block(readme, "dataset.yaml", "yaml")
    commands = readme_block(readme, "commands", "bash")

    rng = random.Random(0)
    my = tmp_path / "my"
    my.mkdir()
    (my / "dataset.yaml").write_text(dataset_yaml + "\n")
    (my / "train.json").write_text(json.dumps(label_studio_export(240, rng, 1), indent=1))
    (my / "dev.json").write_text(json.dumps(label_studio_export(60, rng, 1001), indent=1))
    (my / "notes.txt").write_text("".join(sentence(rng)[0] + "\n" for _ in range(240)))

    # the LLM's stand-in knows the made-up names' types; it skips a sentence's first word and whatever is not a word
    types = {w: "PERSON" for w in FIRST + LAST} | {w: "COMPANY" for c in COMPANIES for w in c.split()}
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("OPENAI_API_KEY", None)
    t, cpu = time.time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    with FakeLLM(types_by_word=types, max_requests=10_000, max_seconds=900) as llm:
        env["OPENAI_BASE_URL"] = llm.base_url
        r = run_shell(commands, tmp_path, env, timeout=900)
        asked, distinct = sum(llm.requests.values()), len(llm.requests)
    steps = "\n".join(line for line in r.stderr.splitlines() if line.startswith("+ ["))
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime
    print(f"quick start: {time.time() - t:.0f} s wall, {cpu:.0f} s of CPU (load average {os.getloadavg()[0]:.1f}); "
          f"the LLM's stand-in answered {asked} requests\n{steps}\n{r.stdout[-3000:]}")
    assert r.returncode == 0, f"the quick start failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"

    assert "skipped unannotated 1" in r.stdout                       # data stats counted the task nobody annotated
    lines = {l for l in (my / "notes.txt").read_text().splitlines() if l.strip()}
    assert distinct >= len(lines) and asked >= len(lines)            # annotate asked the LLM about every line of notes.txt
    # (a line written twice is one prompt: asked once, the second answered from the request cache)
    ann = json.loads((tmp_path / "runs" / "my-ann" / "parse_report.json").read_text())
    assert ann["sentences"] == 240
    run = json.loads((tmp_path / "runs" / "my-run" / "metrics.json").read_text())
    assert "no test split" in run["evaluation"]
    assert (tmp_path / "export" / "my-model.tar.gz").exists()
    tagged = [json.loads(line) for line in r.stdout.splitlines() if line.startswith('{"text"')]
    assert [x["text"] for x in tagged] == [SENTENCE]
    ents = tagged[0]["entities"]
    assert ents and all(e["type"] in ("PERSON", "COMPANY") and SENTENCE[e["start"]:e["end"]] == e["text"] for e in ents), ents
    assert {(e["text"], e["type"]) for e in ents} >= {("Anna Berg", "PERSON")}, ents
