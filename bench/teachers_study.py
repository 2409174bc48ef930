"""Make LLM labels pay: the oracle ceiling, a combined teacher, the teacher-quality curve, at equal steps; then
iterated self-training (RELABEL_ROUNDS, default 2), soft targets (soft_weight chosen on dev) and more compute (twice
and four times the steps). Each step writes its BENCHMARKS.md section (bench/sections/) from `ner_distill.study`'s
tables. Resumable: finished runs and annotation runs are kept. Run it alone on an idle machine.

    python bench/teachers_study.py          # RELABEL_ROUNDS=3 runs a third relabel round
"""
import json
import os
import shutil

import pandas as pd

from _common import ROOT, annotate_once, head, run_study, write_section
from _common import sweep_into as common_sweep
from ner_distill import study, sweep_tables

STUDIES = ROOT / "runs" / "studies"
STUDY, TUNE = STUDIES / "teachers", STUDIES / "teachers-threshold"
THRESHOLDS = (0.0, 0.5, 0.8)
WEIGHTS = (0.3, 0.5, 0.7)
HEAD = head()


def sweep_into(name, *args):
    "A sweep of the study's setting (`--profile study`, dev on 1,000 sentences) into runs/studies/NAME: its finished runs."
    common_sweep(STUDIES / name, *args, params=["dev_size=1000"], quiet=False, check=True)
    return study.load_sweeps(STUDIES / name)


def gold_student() -> str:
    "The gold_run parameter that points each run at the gold-only run of its own seed in the study."
    return f"gold_run={study.run_dir(STUDY, strategy='gold', seed='{seed}')}"


def threshold() -> float:
    "Steps 1 and 2: the combined teacher at each threshold, one chosen on dev and copied to STUDY/combined."
    annotate_once(STUDY / "spacy", "--source", "recorded", "--teacher", "spacy")
    combos = {f"combined-t{t}": t for t in THRESHOLDS}
    for name, t in combos.items():
        annotate_once(TUNE / name, "--source", "recorded", "--teacher", "combine", "--sources", f"recorded,{STUDY / 'spacy'}",
                      "--threshold", str(t))
    run_study("teachers-threshold", ["--profile", "study", "--grid", "strategy=power_decay", "seed=0",
                                     "distilled=" + ",".join(str(TUNE / n) for n in combos), "--param", "dev_size=1000"])
    best, _ = study.choose_on_dev(study.load_sweeps(TUNE), by="teacher")
    if not (STUDY / "combined" / "labels.jsonl").exists(): shutil.copytree(TUNE / best, STUDY / "combined")
    return combos[best]


def analysis(chosen: float):
    "Steps 3 and 4: the teachers sweep and its section; its finished runs."
    run_study("teachers", ["--profile", "teachers"], chosen=chosen)
    ok = study.load_sweeps(STUDY)
    quality = study.label_quality({"gpt-3.5 (recorded)": "recorded", "spaCy": STUDY / "spacy", f"combined (t={chosen})": STUDY / "combined"},
                                  types=("PER", "LOC", "ORG", "MISC"))
    c = json.loads((STUDY / "combined" / "combine.json").read_text())
    study.plot_teachers(ok[ok.seed == 0]).savefig(ROOT / "bench" / "results" / "teacher-quality.png", dpi=110)
    write_section("teachers-analysis", head=HEAD, share=sweep_tables.to_markdown(study.oracle_share(ok)), c=c, chosen=chosen,
                  abstained=100 * c["abstained_tokens"] / c["tokens"], quality=sweep_tables.to_markdown(quality),
                  curve=sweep_tables.to_markdown(study.teacher_curve(ok[ok.seed == 0])))
    return ok


def relabel_rounds(ok) -> None:
    """Step 5: in round k the round k-1 power_decay + relabel student of the same seed relabels the recorded gpt-3.5
    sentences (round 1 is the study's own relabel run, relabelled by the gold student); same steps and seeds."""
    frames, prev = [ok], study.run_dir(STUDY, strategy="power_decay", trust="relabel", distilled="recorded", seed="{seed}")
    for rnd in range(2, int(os.environ.get("RELABEL_ROUNDS", "2")) + 1):
        name = f"teachers-relabel-round{rnd}"
        r = sweep_into(name, "--grid", "strategy=power_decay", "trust=relabel", "seed=0,1,2", "--param", f"gold_run={prev}")
        frames.append(r.assign(method=f"recorded: power_decay + relabel, round {rnd}", condition=ok.condition.iloc[0]))
        prev = study.run_dir(STUDIES / name, strategy="power_decay", trust="relabel", seed="{seed}")
    both = pd.concat(frames, ignore_index=True)
    rounds = both[(both.method == "gold") | both.method.str.startswith("recorded: power_decay + relabel")]
    write_section("teachers-relabel-rounds", head=HEAD, tables=sweep_tables.tables_markdown(rounds))


def soft_targets(ok):
    """Step 6: each distilled token's target is soft_weight x the teacher's label + the rest x the gold student's
    distribution (the student relabel uses); soft_weight chosen on dev, then 3 seeds. Returns (runs, soft_weight)."""
    tune = sweep_into("teachers-soft-weight", "--grid", "strategy=power_decay", "trust=soft", "seed=0",
                      "soft_weight=" + ",".join(map(str, WEIGHTS)), "--param", gold_student())
    beta, table = study.choose_on_dev(tune, by="soft_weight")
    soft = sweep_into("teachers-soft", "--grid", "strategy=distilled_then_gold,power_decay", "trust=soft", "seed=0,1,2",
                      f"distilled=recorded,{STUDY / 'combined'}", "--param", gold_student(), f"soft_weight={beta}")
    soft["condition"] = ok.condition.iloc[0]
    keep = ok.method.isin(["gold", "recorded: power_decay + relabel", "combined: power_decay + relabel", "recorded: distilled_then_gold",
                           "recorded: power_decay", "combined: distilled_then_gold", "combined: power_decay"])
    both = pd.concat([ok[keep], soft], ignore_index=True)
    write_section("teachers-soft", head=HEAD, choice=sweep_tables.to_markdown(table), beta=beta, tables=sweep_tables.tables_markdown(both))
    return both, soft, beta


def budgets(ok, both, soft, beta) -> None:
    """Step 7: gold-only, the oracle's Simple Mix, power_decay + relabel and the best soft-target run again at twice the
    steps; then gold-only and the method with the best mean dev F1 at twice the steps at four times."""
    steps2 = 2 * int(ok[ok.method == "gold"].steps.iloc[0])
    best = sweep_tables.comparisons(pd.concat([ok[ok.method == "gold"], soft])).sort_values("diff").iloc[-1]
    bs = soft[soft.method == best.method].iloc[0]
    twice = [sweep_into("teachers-2x-oracle", "--grid", "strategy=gold,distilled_then_gold", "distilled=oracle", "seed=0,1,2",
                        "--param", f"steps={steps2}"),
             sweep_into("teachers-2x-relabel", "--grid", "strategy=power_decay", "trust=relabel", "seed=0,1,2",
                        f"distilled=recorded,{STUDY / 'combined'}", "--param", f"steps={steps2}", gold_student()),
             sweep_into("teachers-2x-soft", "--grid", f"strategy={bs.strategy}", "trust=soft", "seed=0,1,2", f"distilled={bs.teacher_spec}",
                        "--param", f"steps={steps2}", gold_student(), f"soft_weight={beta}")]
    twice = pd.concat(twice, ignore_index=True).assign(condition=f"{steps2} steps")
    pick, _ = study.choose_on_dev(twice[(twice.method != "gold") & ~twice.ceiling.fillna(False).astype(bool)], by="method")
    r = twice[twice.method == pick].iloc[0]
    extra = [gold_student()] + ([f"soft_weight={beta}"] if r.trust == "soft" else [])
    four = [sweep_into("teachers-4x-gold", "--grid", "strategy=gold", "distilled=recorded", "seed=0,1,2", "--param", f"steps={2 * steps2}"),
            sweep_into("teachers-4x-best", "--grid", f"strategy={r.strategy}", f"trust={r.trust}", f"distilled={r.teacher_spec}",
                       "seed=0,1,2", "--param", f"steps={2 * steps2}", *extra)]
    one = both[both.method.isin(["gold"]) | both.method.str.contains(r"relabel|soft")]
    one = pd.concat([ok[ok.ceiling.fillna(False).astype(bool) & ok.strategy.isin(["distilled_then_gold", "power_decay"])], one]).drop_duplicates("run_dir")
    runs = pd.concat([one.assign(condition=f"{steps2 // 2} steps"), twice,
                      pd.concat(four, ignore_index=True).assign(condition=f"{2 * steps2} steps")], ignore_index=True)
    write_section("teachers-budget", head=HEAD, steps1=steps2 // 2, steps2=steps2, steps4=2 * steps2, best=best.method, beta=beta,
                  pick=pick, tables=sweep_tables.tables_markdown(runs))


if __name__ == "__main__":
    STUDY.mkdir(parents=True, exist_ok=True)
    ok = analysis(threshold())
    relabel_rounds(ok)
    both, soft, beta = soft_targets(ok)
    budgets(ok, both, soft, beta)
