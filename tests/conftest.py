"""Shared fixtures."""
import pytest

from ner_distill.export import export_bundle
from ner_distill.train import TrainConfig, train


@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    "A real bundle with its wheelhouse: a short MiniLM run on 128 CoNLL-2003 sentences, exported with optimum."
    work = tmp_path_factory.mktemp("export")
    train(TrainConfig(strategy="gold", gold_size=128, distilled="none", steps=8, batch_size=16, evals=1,
                      select_dev_size=50, dev_size=50, test=False, out=str(work / "run")), progress=False)
    return export_bundle(work / "run", work / "export", "tiny", limit=60)
