"""`ner-distill sweep` end to end on the tiny profile: two strategies, one seed, a few steps on real
CoNLL-2003 sentences and the real MiniLM student, each run executed by papermill from
nbs/experiments/strategy_run.ipynb, then the analysis notebook rendered to HTML; a rerun executes
nothing; a failing run is recorded and the sweep goes on; unknown keys are refused before anything
runs; shards of one grid fill one index."""
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from ner_distill.metrics import paired_bootstrap, run_counts

CLI = [sys.executable, "-m", "ner_distill.cli"]
ENV = dict(os.environ, HF_HUB_OFFLINE="1")


@pytest.mark.slow
def test_tiny_study_tables_report_and_resume(tmp_path):
    """2 methods (+ a trust variant) x 2 seeds through the sweep path: the run configs carry --param, the
    BENCHMARKS-style tables and the HTML report show the same comparison figures, a rerun executes nothing."""
    out = tmp_path / "sweep"
    sweep = ["sweep", "--profile", "tiny", "--seeds", "0", "1", "--trust", "none", "mask",
             "--param", "calibration_size=8", "max_length=256", "--quiet"]
    r = subprocess.run(CLI + sweep + ["--out", str(out)], capture_output=True, text=True, env=ENV, timeout=1200)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [l for l in r.stdout.splitlines() if l.startswith("[")]      # --quiet still says each run as it finishes
    assert len(lines) == 6 and lines[0].startswith("[1/6] ") and "test F1" in lines[0] and "min left" in lines[0]
    assert lines[-1].startswith("[6/6] ") and "left" not in lines[-1]
    from ner_distill import sweep as S, sweep_index, sweep_tables
    idx = sweep_index.read_index(out)                          # run folders relative to the sweep folder, read as paths here
    assert not Path(pd.read_csv(out / "index.csv").run_dir[0]).is_absolute()
    # `gold` sees no distilled labels, so it runs once per seed, without trust
    assert sorted(zip(idx.strategy, idx.trust, idx.seed)) == [
        ("distilled_then_gold", "mask", 0), ("distilled_then_gold", "mask", 1), ("distilled_then_gold", "none", 0),
        ("distilled_then_gold", "none", 1), ("gold", "none", 0), ("gold", "none", 1)]
    for rd, t in zip(idx.run_dir, idx.trust):      # a trust run records its calibration; a plain one has none
        assert (Path(rd) / "trust.json").exists() == (t == "mask")
        assert json.loads((Path(rd) / "config.json").read_text())["max_length"] == 256
    assert (idx.status == "done").all() and idx.executed.all() and idx.test_f1.between(0, 1).all()
    for rd in idx.run_dir:
        nb = nbformat.read(Path(rd) / "strategy_run.ipynb", as_version=4)
        assert nb.metadata["papermill"]["parameters"]["config"]["steps"] == 4
        assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
        assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")
        assert (Path(rd) / "metrics.json").exists() and (Path(rd) / "test_predictions.jsonl").exists()
    html = (out / "report.html").read_text()
    assert "Results: test F1" in html and "distilled_then_gold + mask" in html and html.count("data:image/png") >= 4
    assert "Trust in the teacher" in html and "precision_ci" in html
    assert "Traceback" not in html and "import pandas" not in html            # code hidden, no errors

    # the tables of BENCHMARKS.md and the report come from the same functions: the same figures in both
    md = sweep_tables.study_markdown(out)
    cmp = sweep_tables.comparisons(sweep_tables.load_runs(out)[0])
    assert list(cmp.method) == ["distilled_then_gold", "distilled_then_gold + mask"] and (cmp.seeds == 2).all()
    for row in cmp.itertuples():
        for figure in (row.ci95, row.per_seed, f"{row.diff}", f"{row.p_value}"):
            assert figure in md and figure in html, figure

    before = {p: p.stat().st_mtime for p in out.rglob("strategy_run.ipynb")}
    r = subprocess.run(CLI + sweep + ["--no-report", "--out", str(out)],
                       capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    idx2 = pd.read_csv(out / "index.csv")
    assert not idx2.executed.any() and (idx2.status == "done").all()
    assert before == {p: p.stat().st_mtime for p in out.rglob("strategy_run.ipynb")}

    # the paired test reads the runs' test predictions: a run against itself differs by nothing
    a = run_counts(idx.run_dir[0])
    assert len(a) == 30 and paired_bootstrap(a, a)["diff"] == 0.0


def test_unknown_param_is_refused_with_the_valid_keys(tmp_path):
    r = subprocess.run(CLI + ["sweep", "--profile", "tiny", "--param", "bogus=1", "--out", str(tmp_path / "s")],
                       capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode != 0 and "bogus" in r.stderr and "valid: strategy, dataset, gold_size" in r.stderr and "max_length" in r.stderr
    r = subprocess.run(CLI + ["sweep", "--profile", "tiny", "--grid", "max_lenght=64,128", "--out", str(tmp_path / "s")],
                       capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode != 0 and "max_lenght" in r.stderr
    assert not (tmp_path / "s" / "runs").exists() or not any((tmp_path / "s" / "runs").iterdir())   # nothing ran


@pytest.mark.slow
def test_shards_fill_one_index(tmp_path):
    "Two shards of one grid, run one after the other into one folder (as a job array would): the index lists all runs."
    out = tmp_path / "sweep"
    base = CLI + ["sweep", "--profile", "tiny", "--no-report", "--quiet", "--out", str(out)]
    r = subprocess.run(base + ["--shard", "0/2"], capture_output=True, text=True, env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    idx = pd.read_csv(out / "index.csv")
    assert sorted(idx.status) == ["done", "pending"] and len(idx) == 2
    r = subprocess.run(base + ["--shard", "1/2"], capture_output=True, text=True, env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    idx = pd.read_csv(out / "index.csv")
    assert (idx.status == "done").all() and sorted(idx.strategy) == ["distilled_then_gold", "gold"]
    assert list(idx.executed) == [False, True] or list(idx.executed) == [True, False]


@pytest.mark.slow
def test_budget_sweep_draws_the_curve(gold_run, small_pool, tmp_path):
    """LLM budgets x selections: random and student-uncertainty subsets of 300 real gpt-3.5 labels (the session's
    pool: an uncertainty run scores its whole pool with the student), the session's gold run as the student, same
    steps per budget."""
    from ner_distill import sweep_index
    student = gold_run
    out = tmp_path / "sweep"
    r = subprocess.run(CLI + ["sweep", "--profile", "tiny", "--strategies", "distilled_then_gold", "--budgets", "16", "32",
                              "--selections", "random", "uncertainty", "--param", f"gold_run={student}", f"distilled={small_pool}", "--quiet",
                              "--out", str(out)], capture_output=True, text=True, env=ENV, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    idx = pd.read_csv(out / "index.csv")
    assert sorted(zip(idx.distilled_size, idx.selection)) == [(16, "random"), (16, "uncertainty"), (32, "random"), (32, "uncertainty")]
    idx = sweep_index.read_index(out)
    for rd, n in zip(idx.run_dir, idx.distilled_size):
        assert json.loads((Path(rd) / "config.json").read_text())["n_distilled"] == n
    html = (out / "report.html").read_text()
    assert "F1 against the LLM budget" in html and "distilled_then_gold @ uncertainty" in html and "Traceback" not in html


@pytest.mark.slow
def test_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    out = tmp_path / "sweep"
    r = subprocess.run(CLI + ["sweep", "--profile", "tiny", "--strategies", "distilled", "--quiet", "--no-report",
                              "--param", "distilled=/no/such/labels", "--out", str(out)],
                       capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode != 0 and "failed" in r.stderr
    idx = pd.read_csv(out / "index.csv")
    assert list(idx.status) == ["failed"] and "no label source" in idx.error[0]
    assert (out / idx.run_dir[0] / "error.txt").exists()


@pytest.mark.slow
def test_a_union_of_grids_runs_without_jupyter(tmp_path):
    """`engine='python'` runs each configuration as a plain training process (no notebook, no kernel: a bare GPU
    node), and a list of grids is their union, not their product."""
    from ner_distill import sweep
    out = tmp_path / "sweep"
    idx = sweep.sweep(out, [dict(strategy=["gold"], seed=[0]), dict(strategy=["distilled_then_gold"], seed=[1])], None, "tiny",
                      progress=False, engine="python")
    assert sorted(idx.run) == ["distilled_then_gold-g32-s1", "gold-g32-s0"] and (idx.status == "done").all()
    for r in idx.run_dir:
        r = Path(r)
        assert (r / "metrics.json").exists() and (r / "train.log").exists() and not (r / "strategy_run.ipynb").exists()
        assert json.loads((r / "run.json").read_text())["engine"] == "python"
    with pytest.raises(ValueError, match="unknown engine"):
        sweep.sweep(out, None, None, "tiny", progress=False, engine="docker")
