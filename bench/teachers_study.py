"""Make LLM labels pay: the oracle ceiling, a combined teacher, and the teacher-quality curve, at equal steps.

1. Label the 5,873 CoNLL-2003 train sentences of the recorded gpt-3.5 labels with spaCy (an annotation run), and
   combine the two sources (`annotate --teacher combine`) at abstention thresholds 0, 0.5 and 0.8.
2. Choose the threshold on dev: a power_decay student (seed 0) on each combination; the highest dev F1 wins.
3. The `teachers` sweep profile: gold-only; Simple Mix and power_decay with the recorded teacher, its oracle (the same
   sentences' gold tags) and the combined teacher; power_decay + relabel with the recorded and the combined teacher;
   3 seeds. Then the teacher-quality curve: simulated teachers of label F1 0.65 to 0.95, and spaCy, seed 0.
4. BENCHMARKS.md: the study's tables, each method's share of the oracle's gain, the teachers' label F1 per type, the
   curve (tables from `ner_distill.study`).
5. Iterated self-training: relabel rounds (RELABEL_ROUNDS, default 2).
6. Soft targets: the gold student's distribution blended with the teacher's labels (trust `soft`), soft_weight chosen
   on dev (power_decay, seed 0), then Simple Mix and power_decay with the recorded and the combined teacher, 3 seeds.
7. More compute: the headline methods again at twice the steps; gold-only and the best of them on dev at four times.

Resumable: finished runs and annotation runs are kept. Run it alone on an idle machine.

    python bench/teachers_study.py          # RELABEL_ROUNDS=3 runs a third relabel round
"""
import json
import os
import shutil

import pandas as pd

from _common import ROOT, cli, command, machine, run_study, write_section
from ner_distill import data, metrics, study, sweep

STUDIES = ROOT / "runs" / "studies"
STUDY, TUNE = STUDIES / "teachers", STUDIES / "teachers-threshold"
THRESHOLDS = (0.0, 0.5, 0.8)
WEIGHTS = (0.3, 0.5, 0.7)
HEAD = f"`{command()}` on {machine()}"


def annotate(out, *args):
    if not (out / "labels.jsonl").exists(): cli("annotate", "--source", "recorded", "--quiet", "--out", out, *args)


def sweep_into(name, *args):
    "A sweep of the study's setting (`--profile study`, dev on 1,000 sentences) into runs/studies/NAME: its finished runs."
    cli("sweep", "--profile", "study", *args, "--param", "dev_size=1000", "--no-report", "--out", STUDIES / name)
    return study.load_sweeps(STUDIES / name)


def gold_student() -> str:
    "The trust_student parameter that points each run at the gold-only run of its own seed in the study."
    return f"trust_student={study.run_dir(STUDY, strategy='gold', seed='{seed}')}"


def threshold() -> float:
    "Steps 1 and 2: the combined teacher at each threshold, one chosen on dev and copied to STUDY/combined."
    annotate(STUDY / "spacy", "--teacher", "spacy")
    combos = {f"combined-t{t}": t for t in THRESHOLDS}
    for name, t in combos.items():
        annotate(TUNE / name, "--teacher", "combine", "--sources", f"recorded,{STUDY / 'spacy'}", "--threshold", str(t))
    run_study("teachers-threshold", ["--profile", "study", "--grid", "strategy=power_decay", "seed=0",
                                     "distilled=" + ",".join(str(TUNE / n) for n in combos), "--param", "dev_size=1000"],
              "The combined teacher's abstention threshold, chosen on dev",
              "power_decay, seed 0, on the recorded + spaCy combination at each threshold; the highest **dev** F1 chooses "
              "the threshold of the combined teacher in the study below (test F1 is shown, never used).")
    best, _ = study.choose_on_dev(study.load_sweeps(TUNE), by="teacher")
    if not (STUDY / "combined" / "labels.jsonl").exists(): shutil.copytree(TUNE / best, STUDY / "combined")
    return combos[best]


def analysis(chosen: float):
    "Steps 3 and 4: the teachers sweep and its section; its finished runs."
    run_study("teachers", ["--profile", "teachers"], "Teachers: the oracle ceiling, a combined teacher, the teacher-quality curve",
              "Distilled pool: the 5,873 CoNLL-2003 train sentences of the recorded gpt-3.5 labels, labelled by gpt-3.5 "
              "(`recorded`), by their gold tags (`oracle`), by spaCy (`spacy`), by `simulated:F1` teachers (each sentence "
              "takes gpt-3.5's tags with probability p, gold's otherwise) and by the combination of gpt-3.5 and spaCy "
              f"(`combined`, threshold {chosen} chosen on dev). 1,000 gold sentences, 247 steps each.")
    ok = study.load_sweeps(STUDY)
    rec = data.recorded_llm_labels()
    quality = study.label_quality({"gpt-3.5 (recorded)": metrics.teacher_quality([s.meta["gold_tags"] for s in rec], rec.tags),
                                   "spaCy": study.read_quality(STUDY / "spacy"), f"combined (t={chosen})": study.read_quality(STUDY / "combined")},
                                  types=("PER", "LOC", "ORG", "MISC"))
    c = json.loads((STUDY / "combined" / "combine.json").read_text())
    sweep.plot_teachers(ok[ok.seed == 0]).savefig(ROOT / "bench" / "results" / "teacher-quality.png", dpi=110)
    write_section("teachers-analysis", f"""## Teachers: the ceiling, the combination, the curve, in numbers (`bench/teachers_study.py`)

{HEAD}; the runs are the `teachers` sweep above (test F1 in points, mean over 3 seeds).

**The oracle ceiling.** Each method with a teacher, its difference to gold-only, and the share of the oracle's gain
over gold-only (the oracle: the same 5,873 sentences with their gold tags, trained the same way; relabel has no oracle
run of its own and is read against the oracle of its strategy):

{sweep.to_markdown(study.oracle_share(ok))}

**The teachers' label F1** on the 5,873 sentences, overall and per type (seqeval, entity level). The combination
weighs each source by its confusion matrix on {c['calibration_size']} seeded calibration sentences (their gold tags
only); {c['abstained_tokens']:,} of {c['tokens']:,} tokens ({100 * c['abstained_tokens'] / c['tokens']:.1f} %) abstain
at threshold {chosen} and are masked in training:

{sweep.to_markdown(quality)}

**How good must the teacher be?** Seed 0, the student's test F1 (difference to gold-only) for teachers of known quality
(`simulated:F1`: gpt-3.5's own errors on a share p of the sentences, gold on the rest) and the real teachers:

{sweep.to_markdown(study.teacher_curve(ok[ok.seed == 0]))}

![teacher quality](bench/results/teacher-quality.png)
""")
    return ok


def relabel_rounds(ok) -> None:
    """Step 5: in round k the round k-1 power_decay + relabel student of the same seed relabels the recorded gpt-3.5
    sentences (round 1 is the study's own relabel run, relabelled by the gold student); same steps and seeds."""
    frames, prev = [ok], study.run_dir(STUDY, strategy="power_decay", trust="relabel", distilled="recorded", seed="{seed}")
    for rnd in range(2, int(os.environ.get("RELABEL_ROUNDS", "2")) + 1):
        name = f"teachers-relabel-round{rnd}"
        r = sweep_into(name, "--grid", "strategy=power_decay", "trust=relabel", "seed=0,1,2", "--param", f"trust_student={prev}")
        frames.append(r.assign(method=f"recorded: power_decay + relabel, round {rnd}", condition=ok.condition.iloc[0]))
        prev = study.run_dir(STUDIES / name, strategy="power_decay", trust="relabel", seed="{seed}")
    both = pd.concat(frames, ignore_index=True)
    rounds = both[(both.method == "gold") | both.method.str.startswith("recorded: power_decay + relabel")]
    write_section("teachers-relabel-rounds", f"""## Iterated self-training: relabel rounds (`bench/teachers_study.py`)

{HEAD}. Round 1 is the study's `power_decay + relabel` (the gold student relabels the recorded gpt-3.5 sentences); in
round k the round k-1 student of the same seed relabels them. Same 247 steps, same gold pool, 3 seeds; each round
against gold-only by the paired bootstrap over test sentences pooled over seeds:

{sweep.tables_markdown(rounds)}
""")


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
    write_section("teachers-soft", f"""## Soft targets: the gold student's distribution blended with the teacher's labels (`bench/teachers_study.py`)

{HEAD}. Trust method `soft`: each distilled token's target is `soft_weight` x the teacher's label (one-hot) + (1 -
`soft_weight`) x the distribution of the gold-only student of the same seed (the student relabel uses); the gold
sentences keep their labels. Same 247 steps, gold pool and seeds as the study above. `soft_weight` chosen on dev
(power_decay, recorded teacher, seed 0):

{sweep.to_markdown(table)}

Chosen: **{beta}**. With it, Simple Mix and power_decay on the recorded (gpt-3.5) and the combined teacher, 3 seeds,
beside the same teachers' hard-label and relabel runs; each against gold-only by the paired bootstrap over test
sentences pooled over seeds:

{sweep.tables_markdown(both)}
""")
    return both, soft, beta


def budgets(ok, both, soft, beta) -> None:
    """Step 7: gold-only, the oracle's Simple Mix, power_decay + relabel and the best soft-target run again at twice the
    steps; then gold-only and the method with the best mean dev F1 at twice the steps at four times."""
    steps2 = 2 * int(ok[ok.method == "gold"].steps.iloc[0])
    best = sweep.comparisons(pd.concat([ok[ok.method == "gold"], soft])).sort_values("diff").iloc[-1]
    bs = soft[soft.method == best.method].iloc[0]
    twice = [sweep_into("teachers-2x-oracle", "--grid", "strategy=gold,distilled_then_gold", "distilled=oracle", "seed=0,1,2",
                        "--param", f"steps={steps2}"),
             sweep_into("teachers-2x-relabel", "--grid", "strategy=power_decay", "trust=relabel", "seed=0,1,2",
                        f"distilled=recorded,{STUDY / 'combined'}", "--param", f"steps={steps2}", gold_student()),
             sweep_into("teachers-2x-soft", "--grid", f"strategy={bs.strategy}", "trust=soft", "seed=0,1,2", f"distilled={bs.teacher_spec}",
                        "--param", f"steps={steps2}", gold_student(), f"soft_weight={beta}")]
    twice = pd.concat(twice, ignore_index=True).assign(condition=f"{steps2} steps")
    pick, _ = study.choose_on_dev(twice[(twice.method != "gold") & (twice.teacher != "oracle")], by="method")
    r = twice[twice.method == pick].iloc[0]
    extra = [gold_student()] + ([f"soft_weight={beta}"] if r.trust == "soft" else [])
    four = [sweep_into("teachers-4x-gold", "--grid", "strategy=gold", "distilled=recorded", "seed=0,1,2", "--param", f"steps={2 * steps2}"),
            sweep_into("teachers-4x-best", "--grid", f"strategy={r.strategy}", f"trust={r.trust}", f"distilled={r.teacher_spec}",
                       "seed=0,1,2", "--param", f"steps={2 * steps2}", *extra)]
    one = both[both.method.isin(["gold"]) | both.method.str.contains(r"relabel|soft")]
    one = pd.concat([ok[ok.method.isin(["oracle: distilled_then_gold", "oracle: power_decay"])], one]).drop_duplicates("run_dir")
    runs = pd.concat([one.assign(condition=f"{steps2 // 2} steps"), twice,
                      pd.concat(four, ignore_index=True).assign(condition=f"{2 * steps2} steps")], ignore_index=True)
    write_section("teachers-budget", f"""## More compute: the headline methods at {steps2} and {2 * steps2} steps (`bench/teachers_study.py`)

{HEAD}. Gold-only, the oracle's Simple Mix (the ceiling), power_decay + relabel (recorded and combined teacher) and the
best soft-target run at {steps2 // 2} steps ({best.method}, soft_weight {beta}) again at {steps2} steps, 3 seeds; then
gold-only and the method with the best mean **dev** F1 at {steps2} steps ({pick}) at {2 * steps2} steps. The relabel and
soft runs read the same {steps2 // 2}-step gold students at every budget. Each method against gold-only at the same
budget by the paired bootstrap over test sentences pooled over seeds:

{sweep.tables_markdown(runs)}
""")


if __name__ == "__main__":
    STUDY.mkdir(parents=True, exist_ok=True)
    ok = analysis(threshold())
    relabel_rounds(ok)
    both, soft, beta = soft_targets(ok)
    budgets(ok, both, soft, beta)
