"""A teacher and a label-source form of one's own, registered through the registries alone, run through
`ner-distill annotate` (as a teacher, and as sources of the combined teacher) and `ner-distill train` with no
other edit: no table to extend, no branch on a name."""
import json
from dataclasses import dataclass

import pytest

from ner_distill import cli, data, formats
from ner_distill.annotate.sources import SOURCES, LabelSource, label_source, parse_source
from ner_distill.annotate.teachers import TEACHERS, Teacher, teacher
from ner_distill.config import Knobs, knob


@pytest.fixture
def registered():
    @teacher("capitals")
    class Capitals(Teacher):
        "Every capitalised word after the first is an entity: stands for a user's own rule-based or in-house tagger."
        @dataclass
        class Config(Knobs):
            tag: str = knob("LOC", "capitals: the type of every capitalised word")

        def label(self, corpus, progress=False):
            tag = lambda i, w: f"B-{self.cfg.tag}" if i > 0 and w[:1].isupper() and w.isalpha() else "O"
            return formats.Corpus([s.with_tags([tag(i, w) for i, w in enumerate(s.tokens)], status="ok", teacher=self.name)
                                for s in corpus], corpus.name)

    @label_source("firstword")
    class FirstWord(LabelSource):
        "`firstword:TYPE`: the first word of 300 recorded train sentences as TYPE: stands for labels kept in a user's own store."
        def pool(self, dataset="conll2003"):
            rec = data.recorded_llm_labels()[:300]
            return formats.Corpus([s.with_tags([f"B-{self.arg}"] + ["O"] * (len(s) - 1), status="ok") for s in rec], "firstword")

    yield Capitals, FirstWord
    del TEACHERS["capitals"], SOURCES["firstword"]


def test_a_registered_teacher_and_source_run_through_annotate(tmp_path, registered):
    out = tmp_path / "cap"
    assert cli.main(["annotate", "--teacher", "capitals", "--tag", "ORG", "--source", "dev", "--limit", "30", "--quiet",
                     "--out", str(out)]) == 0
    lab = formats.read_jsonl(out / "labels.jsonl")
    assert len(lab) == 30 and {t for s in lab for t in s.tags} == {"O", "B-ORG"}
    assert json.loads((out / "config.json").read_text())["tag"] == "ORG"
    assert json.loads((out / "parse_report.json").read_text())["status"] == {"ok": 30}
    # a setting of another teacher is refused, not ignored
    assert cli.main(["annotate", "--teacher", "capitals", "--threshold", "0.2", "--limit", "3", "--out", str(tmp_path / "x")]) == 2
    # both, by name, as voices of the combined teacher
    assert parse_source("firstword:MISC").arg == "MISC" and type(parse_source("capitals")).__name__ == "TeacherByName"
    comb = tmp_path / "comb"
    assert cli.main(["annotate", "--teacher", "combine", "--sources", "capitals,firstword:MISC,recorded", "--source", "recorded",
                     "--limit", "300", "--calibration-size", "100", "--quiet", "--out", str(comb)]) == 0
    rep = json.loads((comb / "combine.json").read_text())
    assert set(rep["quality"]) == {"capitals", "firstword:MISC", "recorded"}
    assert rep["quality"]["firstword:MISC"]["f1"] < rep["quality"]["recorded"]["f1"]


@pytest.mark.slow
def test_a_registered_source_is_a_distilled_pool_of_train(tmp_path, registered):
    run = tmp_path / "run"
    assert cli.main(["train", "--strategy", "distilled_then_gold", "--distilled", "firstword:PER", "--gold-size", "20", "--steps", "2",
                     "--evals", "1", "--select-dev-size", "20", "--dev-size", "20", "--test-size", "20", "--out", str(run)]) == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["distilled"] == "firstword:PER" and cfg["n_distilled"] == 300 and cfg["distilled_name"] == "firstword"


def test_a_plugin_module_registers_for_the_command_line(tmp_path):
    "A module of one's own named in $NER_DISTILL_PLUGINS: the `ner-distill` command (a fresh process) knows its teacher."
    (tmp_path / "my_teachers.py").write_text(
        "from dataclasses import dataclass\n"
        "from ner_distill import formats\n"
        "from ner_distill.annotate.teachers import Teacher, teacher\n"
        "from ner_distill.config import Knobs, knob\n"
        "@teacher('allcaps')\n"
        "class AllCaps(Teacher):\n"
        "    @dataclass\n"
        "    class Config(Knobs):\n"
        "        kind: str = knob('ORG', 'allcaps: the type of a word in capitals')\n"
        "    def label(self, corpus, progress=False):\n"
        "        t = lambda w: 'B-' + self.cfg.kind if w.isupper() and w.isalpha() and len(w) > 1 else 'O'\n"
        "        return formats.Corpus([s.with_tags([t(w) for w in s.tokens], status='ok') for s in corpus], corpus.name)\n")
    import os, subprocess, sys
    env = dict(os.environ, PYTHONPATH=str(tmp_path), NER_DISTILL_PLUGINS="my_teachers", HF_HUB_OFFLINE="1")
    r = subprocess.run([sys.executable, "-m", "ner_distill.cli", "annotate", "--teacher", "allcaps", "--kind", "MISC", "--source", "dev",
                        "--limit", "50", "--quiet", "--out", str(tmp_path / "run")], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "B-MISC" in {t for s in formats.read_jsonl(tmp_path / "run" / "labels.jsonl") for t in s.tags}


def test_review_forms_are_registered_forms():
    "What comes back from an annotation tool is named like any other label source: no table outside the registry knows it."
    from ner_distill.annotate.run import load_source  # noqa: F401  (every registering module imported)
    for form in ("reviewed", "reviewed-gold", "predictions"):
        assert form in SOURCES and parse_source(f"{form}:some/export.json").form == form
    src = parse_source("reviewed:runs/review:oracle:recorded")
    assert (src.path, src.base) == ("runs/review", "oracle:recorded") and parse_source("reviewed-gold:runs/review").base == "recorded"
    with pytest.raises(ValueError, match="expected reviewed:EXPORT"):
        parse_source("reviewed:")
