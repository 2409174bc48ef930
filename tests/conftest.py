"""Shared fixtures. The ones that train or export run once per session and every test that needs a trained
student or a bundle shares them; a test that takes one is marked slow, so `make test-fast` never builds them.
`make test` runs the tests on two pytest-xdist workers: each builds its own session fixtures, and has its own
transformers module cache, where a model folder's code (`ner_distill_model.py`) is copied when it is loaded, so that
two workers never write the same file at once. Tests that start Ray share one xdist group: one worker runs them."""
import os
import tempfile

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("HF_MODULES_CACHE", tempfile.mkdtemp(prefix=f"hf-modules-{os.environ['PYTEST_XDIST_WORKER']}-"))

from ner_distill import data, formats
from ner_distill.export import export_bundle
from ner_distill.train import TrainConfig, train


@pytest.fixture(scope="session")
def gold_run(tmp_path_factory):
    """A gold-trained MiniLM run folder (8 steps on 128 real CoNLL-2003 sentences): the source of `bundle`, and the
    `gold` run of a study that trust methods and uncertainty selection read."""
    out = tmp_path_factory.mktemp("gold") / "run"
    train(TrainConfig(strategy="gold", gold_size=128, distilled="none", steps=8, batch_size=16, evals=1,
                      select_dev_size=50, dev_size=50, test=False, out=str(out)), progress=False)
    return out


@pytest.fixture(scope="session")
def bundle(gold_run, tmp_path_factory):
    "A real bundle with its wheelhouse: `gold_run` exported with optimum."
    return export_bundle(gold_run, tmp_path_factory.mktemp("export"), "tiny", limit=60)


@pytest.fixture(scope="session")
def small_pool(tmp_path_factory):
    "300 of the real gpt-3.5-labelled sentences, with their gold tags, as a labels file a user would pass."
    p = tmp_path_factory.mktemp("pool") / "labels.jsonl"
    return formats.write_jsonl(data.recorded_llm_labels()[:300], p)
