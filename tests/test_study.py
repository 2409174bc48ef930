"""Sweep folders read as a study, without training: each test writes small sweep folders of fake finished runs (the
files the sweep's reader opens: metrics.json, test_predictions.jsonl, config.json, run.json), standing for a study a
GPU machine ran (a teachers study at two step budgets, one seed cut short by the lease's deadline). The folder is
copied to another place and read there, as results brought home are; an index written with absolute paths on
another machine reads too; run folders are named as the sweep names them; the study's tables come out right."""
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ner_distill import data, formats, study, sweep, sweep_index, sweep_tables
from ner_distill.formats import Sentence

TYPES = ("PER", "LOC", "ORG", "MISC")
# 40 hand-made test sentences, each with one entity: what a run's test predictions are scored against
GOLD = [Sentence(["Ada", "met", "Bob", "."], ["B-PER", "O", "B-PER", "O"], sent_id=i) if i % 2 else
        Sentence(["In", "Paris", "today", "."], ["O", "B-LOC", "O", "O"], sent_id=i) for i in range(40)]
TEACHERS = ["oracle", "recorded", "self"]
GRID = [dict(strategy=["gold"], seed=[0, 1, 2]), dict(strategy=["power_decay"], distilled=TEACHERS, seed=[0, 1, 2])]
MISSES = {"gold": 8, "oracle": 2, "recorded": 10, "self": 5}    # sentences whose entities a run loses


def fake_run(rd: Path, cfg: dict):
    "A finished run folder as `sweep_index.write_index` and `metrics.run_counts` read it."
    lost = MISSES["gold" if cfg["strategy"] == "gold" else sweep.teacher_name(cfg["distilled"])] + cfg["seed"]
    pred = [["O"] * len(s.tags) if i < lost else s.tags for i, s in enumerate(GOLD)]
    rd.mkdir(parents=True)
    formats.write_jsonl([s.with_tags(p, gold_tags=s.tags) for s, p in zip(GOLD, pred)], rd / "test_predictions.jsonl")
    f1 = 1 - lost / len(GOLD)
    data.write_json(rd / "metrics.json", dict(steps=247, best_step=247, dev=dict(f1=f1), timing=dict(train_sentences_per_s=900.0),
                                              test=dict(f1=f1, per_type={t: dict(f1=f1) for t in TYPES})))
    data.write_json(rd / "config.json", dict(cfg, n_distilled=5873, n_gold=1000, tau=0.75))
    data.write_json(rd / "run.json", dict(wall_s=60.0, engine="python"))


def fake_sweep(folder: Path, unfinished=()) -> Path:
    "A sweep folder as `sweep.sweep` leaves it, every run finished but those named in `unfinished`."
    runs = sweep.expand(GRID, dict(gold_size=1000), folder)
    for cfg in runs:
        if Path(cfg["out"]).name not in unfinished: fake_run(Path(cfg["out"]), cfg)
    data.write_json(folder / "sweep.json", dict(profile="study", grid=GRID, params=dict(gold_size=1000), runs=len(runs)))
    sweep_index.write_index(folder, runs, sweep.grid_axes(GRID))
    return folder


@pytest.fixture
def lease(tmp_path):
    "A study's folder on the GPU machine: two budgets; at 494 steps seed 2 of the `self` teacher did not finish."
    root = tmp_path / "gpu-machine" / "teachers-with-student"
    fake_sweep(root / "steps247")
    fake_sweep(root / "steps494", unfinished={"power_decay-distilledself-g1000-s2"})
    return root


def test_a_copied_sweep_folder_reads_the_same_elsewhere(lease, tmp_path):
    before = sweep_tables.load_runs(lease / "steps247")[0]
    per_seed = sweep_tables.comparisons(before).per_seed.tolist()
    assert (pd.read_csv(lease / "steps247" / "index.csv").run_dir.str.startswith("runs/")).all()   # relative in the file
    home = shutil.copytree(lease, tmp_path / "home" / "teachers-with-student")
    shutil.rmtree(lease)                                                                      # the lease is over
    ok, conf = sweep_tables.load_runs(home / "steps247")
    assert len(ok) == 12 and all(Path(d).parent.parent == home / "steps247" for d in ok.run_dir)
    pd.testing.assert_frame_equal(ok.drop(columns="run_dir"), before.drop(columns="run_dir"))
    cmp = sweep_tables.comparisons(ok)                      # reads every run's test predictions where the folder is now
    assert list(cmp.method) == ["oracle: power_decay", "recorded: power_decay", "self: power_decay"]
    assert cmp.per_seed.tolist() == per_seed and [x[0] for x in per_seed] == ["+", "-", "+"]
    assert study.load_sweeps([home / "steps247", home / "steps494"]).run_dir.str.startswith(str(home)).all()


def test_an_index_with_absolute_paths_from_another_machine_reads(lease, tmp_path):
    "An index written before paths were relative, on another machine: its paths do not exist here."
    index = pd.read_csv(lease / "steps247" / "index.csv")
    index["run_dir"] = ["/work/elsewhere/runs/studies/teachers-with-student/steps247/" + d for d in index.run_dir]
    index.to_csv(lease / "steps247" / "index.csv", index=False)
    assert sweep_index.read_index(lease / "steps247").run_dir.tolist() == [str(lease / "steps247" / "runs" / r) for r in index.run]
    here = pd.read_csv(lease / "steps494" / "index.csv")     # absolute paths that exist are taken as they are
    here["run_dir"] = [str(lease / "steps494" / d) for d in here.run_dir]
    here.to_csv(lease / "steps494" / "index.csv", index=False)
    assert sweep_index.read_index(lease / "steps494").run_dir.tolist() == here.run_dir.tolist()
    assert len(sweep_tables.comparisons(sweep_tables.load_runs(lease / "steps247")[0])) == 3


def test_run_dir_names_runs_as_the_sweep_does(tmp_path):
    "Every run of the `teachers` and `student` profiles, found by its configuration: the folder the sweep made."
    for profile in ("teachers", "student"):
        grid, params = sweep.PROFILES[profile]["grid"], sweep.PROFILES[profile]["params"]
        d = tmp_path / profile
        data.write_json(d / "sweep.json", dict(profile=profile, grid=grid, params=params))
        axes = sweep.grid_axes(grid)
        for cfg in sweep.expand(grid, params, d):
            assert study.run_dir(d, **{k: cfg[k] for k in axes}) == Path(cfg["out"]), cfg["out"]
    assert str(study.run_dir("{sweep}", strategy="gold", seed="{seed}")) == "{sweep}/runs/gold-g1000-s{seed}"


def test_the_study_tables(lease):
    ok = study.load_sweeps({lease / "steps247": "247 steps", lease / "steps494": "494 steps"})
    assert list(ok.condition.unique()) == ["247 steps", "494 steps"] and len(ok) == 23
    full = study.complete_seeds(ok)
    assert full.groupby("condition").seed.unique().map(sorted).tolist() == [[0, 1, 2], [0, 1]]
    assert len(study.complete_methods(ok)) == 12 + 9           # 494 steps without `self`
    share = study.oracle_share(full)
    f1 = 100 * full[full.condition == "247 steps"].groupby("method").test_f1.mean()
    gain = lambda m: f"{100 * (f1[m] - f1['gold']) / (f1['oracle: power_decay'] - f1['gold']):.0f} %"
    assert share[share.condition == "247 steps"]["share of the oracle's gain"].tolist() == [gain("recorded: power_decay"),
                                                                                           gain("self: power_decay")]
    assert share.condition.tolist() == ["247 steps"] * 2 + ["494 steps"] * 2
    beyond = study.teacher_comparisons(full, "self")
    assert list(zip(beyond.condition, beyond.method)) == [("247 steps", "oracle: power_decay"), ("247 steps", "recorded: power_decay"),
                                                         ("494 steps", "oracle: power_decay"), ("494 steps", "recorded: power_decay")]
    assert (beyond.vs == "self: power_decay").all() and (beyond["diff"] > 0).tolist() == [True, False, True, False]
    assert beyond.seeds.tolist() == [3, 3, 2, 2]
    best, table = study.choose_on_dev(full[full.strategy != "gold"], by="teacher")
    assert best == "oracle" and table.seeds.tolist() == [3, 3, 3]
    q = dict(f1=0.8, per_type={t: dict(f1=0.8) for t in TYPES})
    (lease / "self").mkdir()
    data.write_json(lease / "self" / "combine.json", dict(quality=dict(gazetteer=q)))
    assert study.read_quality(lease / "self") is None and study.read_quality(lease / "self", "gazetteer") == q
    assert study.label_quality({"a": q, "b": [q, dict(q, f1=0.6)], "c": []}).F1.tolist() == ["0.800", "0.700 ± 0.141"]
    assert "| 494 steps | self: power_decay | 2 |" in sweep_tables.tables_markdown(full)
