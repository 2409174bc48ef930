"""Runs that read other runs' models: a relabel run (real CoNLL-2003 sentences, real gpt-3.5 labels, the real MiniLM
student, a few steps) must never learn from a gold run that is still training. The gold run is held mid-training by
a hook (not by sleeping): the dependant is refused while it is held and runs once it has finished. A sweep with two
jobs, or cut in two shards run one after the other, schedules the dependant after its gold run: every dependant
records the very best step and model hash that the gold run ended with. A run folder written before its settings
were renamed reads under today's names."""
import threading
from pathlib import Path

import pytest

from ner_distill import runs as runfolders
from ner_distill.student import Student
from ner_distill.train import TrainConfig, train

TINY = dict(gold_size=32, batch_size=8, evals=2, select_dev_size=30, dev_size=30, test=False)


@pytest.mark.slow
def test_a_run_that_reads_an_unfinished_gold_run_is_refused(tmp_path):
    gold = tmp_path / "gold"
    held, release, errors = threading.Event(), threading.Event(), []

    def hold_after_first_evaluation(step):
        if step == 2: held.set(); release.wait(300)

    def train_gold():
        try: train(TrainConfig(strategy="gold", distilled="none", steps=4, out=str(gold), **TINY), progress=False,
                   on_step=hold_after_first_evaluation)
        except Exception as e: errors.append(e)
        finally: held.set()        # a gold run that fails lets the test go on (and fail on `errors`)

    t = threading.Thread(target=train_gold); t.start()
    try:
        held.wait(600)
        assert not errors, errors
        assert (gold / "model").is_dir()          # the race: a model is there, the best so far, not the final one
        relabel = TrainConfig(strategy="power_decay", trust="relabel", gold_run=str(gold), steps=4, distilled_size=32,
                              out=str(tmp_path / "relabel"), **TINY)
        with pytest.raises(Exception, match="still training"): train(relabel, progress=False)
        with pytest.raises(Exception, match="still training"): Student(gold)
        assert not (tmp_path / "relabel" / "model").exists()
    finally:
        release.set(); t.join()
    assert not errors, errors
    from ner_distill import runs     # imported here, so that the race above can be shown on code from before the fix
    m = train(relabel, progress=False)                                  # now it may
    dep = runs.RunFolder(tmp_path / "relabel").config().dependencies
    g = runs.RunFolder(gold).metrics()
    assert m["dev"]["f1"] >= 0 and dep == [dict(run=str(gold.resolve()), best_step=g.best_step, model_sha256=g.model_sha256)]
    assert g.model_sha256 == runs.model_hash(gold / "model")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["jobs2", "shards", "jobs1"])
def test_a_sweep_runs_dependants_after_what_they_read(tmp_path, how):
    from ner_distill import runs, sweep
    out = tmp_path / "sweep"
    grid = [dict(strategy=["gold"]), dict(strategy=["power_decay"], trust=["relabel"])]
    params = dict(gold_run="{sweep}/runs/gold-g32-s0", steps=4)
    run = lambda **kw: sweep.sweep(out, grid, params, "tiny", progress=False, engine="python", **kw)
    if how == "shards":
        # the relabel run and its gold run fall in one shard; the other shard has nothing (and waits for nothing)
        assert len(sweep.shard_of(sweep.expand(grid, {**sweep.PROFILES["tiny"]["params"], **params}, out), "1/2")) == 0
        run(shard="0/2"); idx = run(shard="1/2")
    else: idx = run(jobs=2 if how == "jobs2" else 1)
    assert (idx.status == "done").all(), idx.error.tolist()
    g = runs.RunFolder(out / "runs" / "gold-g32-s0").metrics()
    dep = runs.RunFolder(out / "runs" / "power_decay-relabel-g32-s0").config().dependencies
    assert [(d["best_step"], d["model_sha256"]) for d in dep] == [(g.best_step, g.model_sha256)]
    row = idx.set_index("run").loc["power_decay-relabel-g32-s0"]
    assert row.depends_on == f"gold-g32-s0@{g.best_step}:{g.model_sha256[:12]}"


def test_an_older_run_folder_reads_under_todays_names(tmp_path):
    "The gold run a relabel run read was `trust_student`, its confidence `student_confidence`, the method `check` `student`."
    runfolders.write_json(tmp_path, "config", dict(strategy="power_decay", trust="student+relabel", trust_student="runs/gold",
                                                   student_confidence=0.8, distilled="student:runs/gold"))
    cfg = runfolders.RunFolder(tmp_path).config()
    assert (cfg.trust, cfg.gold_run, cfg.check_confidence, cfg.distilled) == ("check+relabel", "runs/gold", 0.8, "run:runs/gold")
    assert not {"trust_student", "student_confidence"} & set(cfg.knobs)
    assert TrainConfig.from_dict({k: v for k, v in cfg.knobs.items() if k in TrainConfig.field_names()}).gold_run == "runs/gold"
