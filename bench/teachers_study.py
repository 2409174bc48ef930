"""Make LLM labels pay: the oracle ceiling, a combined teacher, and the teacher-quality curve, at equal steps.

1. Label the 5,873 CoNLL-2003 train sentences of the recorded gpt-3.5 labels with spaCy (an annotation run), and
   combine the two sources (`annotate --teacher combine`) at abstention thresholds 0, 0.5 and 0.8.
2. Choose the threshold on dev: a power_decay student (seed 0) on each combination; the highest dev F1 wins.
3. The `teachers` sweep profile: gold-only; Simple Mix (distilled_then_gold) and power_decay with the recorded
   teacher, its oracle (the same sentences' gold tags) and the combined teacher; power_decay + relabel with the
   recorded and the combined teacher; 3 seeds. Then the teacher-quality curve: simulated teachers of label F1 0.65 to
   0.95 made from the recorded one and gold, and spaCy, seed 0.
4. BENCHMARKS.md: the study's tables (one comparison method: paired bootstrap over test sentences pooled over seeds,
   with the per-seed differences), each method's share of the oracle's gain, the teachers' label F1 per type, and the
   curve. Resumable: finished runs and annotation runs are kept. Run it alone on an idle machine.

5. Iterated self-training: relabel rounds (RELABEL_ROUNDS, default 2).
6. Soft targets: the gold student's distribution blended with the teacher's labels (trust `soft`), soft_weight chosen
   on dev (power_decay, seed 0), then Simple Mix and power_decay with the recorded and the combined teacher, 3 seeds.
7. More compute: the headline methods again at twice the steps; gold-only and the best of them on dev at four times.

    python bench/teachers_study.py          # RELABEL_ROUNDS=3 runs a third relabel round
"""
import json
import os
import shutil
import subprocess
import sys

import matplotlib
import pandas as pd

matplotlib.use("Agg")

from _common import ROOT, command, machine, run_study, write_section

from ner_distill import metrics, sweep

STUDY = ROOT / "runs" / "studies" / "teachers"
TUNE = ROOT / "runs" / "studies" / "teachers-threshold"
THRESHOLDS = (0.0, 0.5, 0.8)
env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")


def annotate(out, *args):
    if (out / "labels.jsonl").exists(): return
    subprocess.run([sys.executable, "-m", "ner_distill.cli", "annotate", "--source", "recorded", "--quiet", "--out", str(out), *args],
                   env=env, check=True)


STUDY.mkdir(parents=True, exist_ok=True)
annotate(STUDY / "spacy", "--teacher", "spacy")
for t in THRESHOLDS:
    annotate(TUNE / f"combined-t{t}", "--teacher", "combine", "--sources", f"recorded,{STUDY / 'spacy'}", "--threshold", str(t))

# 2. the threshold, chosen on dev
run_study("teachers-threshold", ["--profile", "study", "--grid", "strategy=power_decay", "seed=0",
                                 "distilled=" + ",".join(str(TUNE / f"combined-t{t}") for t in THRESHOLDS),
                                 "--param", "dev_size=1000"], "The combined teacher's abstention threshold, chosen on dev",
          "power_decay, seed 0, on the recorded + spaCy combination at each threshold; the highest **dev** F1 chooses "
          "the threshold of the combined teacher in the study below (test F1 is shown, never used).")
ok, _ = sweep.load_runs(TUNE)
best = ok.loc[ok.dev_f1.idxmax()]
chosen = float(best.teacher.rsplit("-t", 1)[1])
if not (STUDY / "combined" / "labels.jsonl").exists():
    shutil.copytree(TUNE / f"combined-t{chosen}", STUDY / "combined")

# 3. the study
run_study("teachers", ["--profile", "teachers"], "Teachers: the oracle ceiling, a combined teacher, the teacher-quality curve",
          f"Distilled pool: the 5,873 CoNLL-2003 train sentences of the recorded gpt-3.5 labels, labelled by gpt-3.5 "
          f"(`recorded`), by their gold tags (`oracle`), by spaCy (`spacy`), by `simulated:F1` teachers (each sentence "
          f"takes gpt-3.5's tags with probability p, gold's otherwise) and by the combination of gpt-3.5 and spaCy "
          f"(`combined`, threshold {chosen} chosen on dev). 1,000 gold sentences, 247 steps each.")

# 4. analysis: the oracle's share, the teachers' quality, the curve (the functions the sweep's report uses)
ok, _ = sweep.load_runs(STUDY)
share = sweep.teacher_table(ok)
quality = {"gpt-3.5 (recorded)": None, "spaCy": STUDY / "spacy", f"combined (t={chosen})": STUDY / "combined"}
for name, run in quality.items():
    if run is None:
        from ner_distill import data
        rec = data.recorded_llm_labels()
        quality[name] = metrics.teacher_quality([s.meta["gold_tags"] for s in rec], rec.tags, ["LOC", "MISC", "ORG", "PER"])
    else: quality[name] = json.loads((run / "quality.json").read_text())
comb = json.loads((STUDY / "combined" / "combine.json").read_text())
qrows = ["| teacher | F1 | PER | LOC | ORG | MISC |", "|---|---:|---:|---:|---:|---:|"]
for name, q in quality.items():
    qrows.append(f"| {name} | {q['f1']:.3f} | " + " | ".join(f"{q['per_type'][t]['f1']:.3f}" for t in ("PER", "LOC", "ORG", "MISC")) + " |")

fig = sweep.plot_teachers(ok[ok.seed == 0])
fig.savefig(ROOT / "bench" / "results" / "teacher-quality.png", dpi=110)
s0 = ok[(ok.seed == 0) & (ok.trust == "none")]
g0 = 100 * s0[s0.strategy == "gold"].test_f1.mean()
curve = ["| teacher | label F1 | Simple Mix (vs gold) | power_decay (vs gold) |", "|---|---:|---:|---:|"]
for t, grp in sorted(s0[s0.strategy != "gold"].groupby("teacher"), key=lambda kv: sweep.teacher_label_f1(kv[1].teacher_spec.iloc[0])):
    cell = lambda x: "-" if not len(x) else f"{100 * x.mean():.1f} ({100 * x.mean() - g0:+.1f})"
    curve.append(f"| {t} | {sweep.teacher_label_f1(grp.teacher_spec.iloc[0]):.3f} | {cell(grp[grp.strategy == 'distilled_then_gold'].test_f1)} "
                 f"| {cell(grp[grp.strategy == 'power_decay'].test_f1)} |")

body = f"""## Teachers: the ceiling, the combination, the curve, in numbers (`bench/teachers_study.py`)

`{command()}` on {machine()}; the runs are the `teachers` sweep above (test F1 in points, mean over 3 seeds).

**The oracle ceiling.** Each method with a teacher, its difference to gold-only, and the share of the oracle's gain
over gold-only (the oracle: the same 5,873 sentences with their gold tags, trained the same way; relabel has no oracle
run of its own and is read against the oracle of its strategy):

{sweep.to_markdown(share)}

**The teachers' label F1** on the 5,873 sentences, overall and per type (seqeval, entity level). The combination
weighs each source by its confusion matrix on {comb['calibration_size']} seeded calibration sentences (their gold tags
only); {comb['abstained_tokens']:,} of {comb['tokens']:,} tokens ({100 * comb['abstained_tokens'] / comb['tokens']:.1f} %)
abstain at threshold {chosen} and are masked in training:

{chr(10).join(qrows)}

**How good must the teacher be?** Seed 0, the student's test F1 (difference to gold-only, {g0:.1f}) for teachers of
known quality (`simulated:F1`: gpt-3.5's own errors on a share p of the sentences, gold on the rest) and the real
teachers:

{chr(10).join(curve)}

![teacher quality](bench/results/teacher-quality.png)
"""
write_section("teachers-analysis", body)
print(body)

# 5. iterated self-training: each round's power_decay + relabel students relabel the recorded teacher's sentences
# for the next round (round 1 is the study's own relabel run, relabelled by the gold student), same steps and seeds

frames, prev = [ok], STUDY / "runs" / "power_decay-relabel-distilledrecorded-g1000-s{seed}"
for rnd in range(2, int(os.environ.get("RELABEL_ROUNDS", "2")) + 1):
    out = ROOT / "runs" / "studies" / f"teachers-relabel-round{rnd}"
    subprocess.run([sys.executable, "-m", "ner_distill.cli", "sweep", "--profile", "study", "--grid", "strategy=power_decay",
                    "trust=relabel", "seed=0,1,2", "--param", "dev_size=1000", f"trust_student={prev}", "--no-report",
                    "--out", str(out)], env=env, check=True)
    r, _ = sweep.load_runs(out)
    r["method"] = f"recorded: power_decay + relabel, round {rnd}"
    r["condition"] = ok.condition.iloc[0]
    frames.append(r)
    prev = out / "runs" / "power_decay-relabel-g1000-s{seed}"
both = pd.concat(frames, ignore_index=True)
rounds = both[(both.method == "gold") | both.method.str.startswith("recorded: power_decay + relabel")]
body = f"""## Iterated self-training: relabel rounds (`bench/teachers_study.py`)

`{command()}` on {machine()}. Round 1 is the study's `power_decay + relabel` (the gold student relabels the recorded
gpt-3.5 sentences); in round k the round k-1 student of the same seed relabels them. Same 247 steps, same gold pool,
3 seeds; each round against gold-only by the paired bootstrap over test sentences pooled over seeds:

{sweep.to_markdown(sweep.results_table(rounds))}

{sweep.to_markdown(sweep.comparisons(rounds))}
"""
write_section("teachers-relabel-rounds", body)
print(body)

# 6. soft targets: each distilled token's target is soft_weight x the teacher's label + the rest x the gold student's
# distribution (the same gold student relabel uses); soft_weight chosen on dev, then 3 seeds


def sweep_into(name, *args):
    out = ROOT / "runs" / "studies" / name
    subprocess.run([sys.executable, "-m", "ner_distill.cli", "sweep", "--profile", "study", *args, "--param", "dev_size=1000",
                    "--no-report", "--out", str(out)], env=env, check=True)
    return sweep.load_runs(out)[0]


GOLD_STUDENT = f"trust_student={STUDY}/runs/gold-distilledrecorded-g1000-s{{seed}}"
WEIGHTS = (0.3, 0.5, 0.7)
tune = sweep_into("teachers-soft-weight", "--grid", "strategy=power_decay", "trust=soft", "seed=0",
                  "soft_weight=" + ",".join(map(str, WEIGHTS)), "--param", GOLD_STUDENT)
tune_rows = tune.sort_values("soft_weight")[["soft_weight", "dev_f1", "test_f1"]]
beta = float(tune.loc[tune.dev_f1.idxmax()].soft_weight)
soft = sweep_into("teachers-soft", "--grid", "strategy=distilled_then_gold,power_decay", "trust=soft", "seed=0,1,2",
                  f"distilled=recorded,{STUDY / 'combined'}", "--param", GOLD_STUDENT, f"soft_weight={beta}")
soft["condition"] = ok.condition.iloc[0]
keep = ok.method.isin(["gold", "recorded: power_decay + relabel", "combined: power_decay + relabel",
                       "recorded: distilled_then_gold", "recorded: power_decay", "combined: distilled_then_gold", "combined: power_decay"])
both = pd.concat([ok[keep], soft], ignore_index=True)
tune_md = "| soft_weight | dev F1 | test F1 (not used) |\n|---:|---:|---:|\n" + "\n".join(
    f"| {r.soft_weight} | {100 * r.dev_f1:.2f} | {100 * r.test_f1:.2f} |" for r in tune_rows.itertuples())
body = f"""## Soft targets: the gold student's distribution blended with the teacher's labels (`bench/teachers_study.py`)

`{command()}` on {machine()}. Trust method `soft`: each distilled token's target is `soft_weight` x the teacher's
label (one-hot) + (1 - `soft_weight`) x the distribution of the gold-only student of the same seed (the student relabel
uses); the gold sentences keep their labels. Same 247 steps, gold pool and seeds as the study above. `soft_weight`
chosen on dev (power_decay, recorded teacher, seed 0):

{tune_md}

Chosen: **{beta}**. With it, Simple Mix and power_decay on the recorded (gpt-3.5) and the combined teacher, 3 seeds,
beside the same teachers' hard-label and relabel runs; each against gold-only by the paired bootstrap over test
sentences pooled over seeds:

{sweep.to_markdown(sweep.results_table(both))}

{sweep.to_markdown(sweep.comparisons(both))}
"""
write_section("teachers-soft", body)
print(body)

# 7. a second budget: the headline methods at twice the steps (the relabel and soft runs read the same 247-step gold
# students as above)
STEPS2 = 2 * int(ok[ok.method == "gold"].steps.iloc[0])
best_soft = sweep.comparisons(pd.concat([ok[ok.method == "gold"], soft]))
best_soft = best_soft.loc[best_soft["diff"].idxmax()]
b_teacher, b_method = best_soft.method.split(": ")
b_strategy = b_method.split(" + ")[0]
frames = [sweep_into("teachers-2x-oracle", "--grid", "strategy=gold,distilled_then_gold", "distilled=oracle",
                     "seed=0,1,2", "--param", f"steps={STEPS2}"),
          sweep_into("teachers-2x-relabel", "--grid", "strategy=power_decay", "trust=relabel", "seed=0,1,2",
                     f"distilled=recorded,{STUDY / 'combined'}", "--param", f"steps={STEPS2}", GOLD_STUDENT),
          sweep_into("teachers-2x-soft", "--grid", f"strategy={b_strategy}", "trust=soft", "seed=0,1,2",
                     f"distilled={'recorded' if b_teacher == 'recorded' else STUDY / 'combined'}",
                     "--param", f"steps={STEPS2}", GOLD_STUDENT, f"soft_weight={beta}")]
for f in frames: f["condition"] = f"{STEPS2} steps"
one = both[both.method.isin(["gold", "oracle: distilled_then_gold", "oracle: power_decay"]) | both.method.str.contains(r"relabel|soft")]
one = pd.concat([ok[ok.method.isin(["oracle: distilled_then_gold", "oracle: power_decay"])], one]).drop_duplicates("run_dir")
one["condition"] = f"{STEPS2 // 2} steps"

# 8. a third budget, four times the steps: gold-only and the one method (not the oracle) with the best mean dev F1 at
# twice the steps, 3 seeds
STEPS4 = 2 * STEPS2
cand = pd.concat(frames, ignore_index=True)
cand = cand[(cand.method != "gold") & ~cand.method.str.startswith("oracle")]
pick = cand.groupby("method").dev_f1.mean().idxmax()
r = cand[cand.method == pick].iloc[0]
extra = [GOLD_STUDENT] + ([f"soft_weight={beta}"] if "soft" in r.trust else [])
frames4 = [sweep_into("teachers-4x-gold", "--grid", "strategy=gold", "distilled=recorded", "seed=0,1,2", "--param", f"steps={STEPS4}"),
           sweep_into("teachers-4x-best", "--grid", f"strategy={r.strategy}", f"trust={r.trust}", f"distilled={r.teacher_spec}",
                      "seed=0,1,2", "--param", f"steps={STEPS4}", *extra)]
for f in frames4: f["condition"] = f"{STEPS4} steps"
budget = pd.concat([one, *frames, *frames4], ignore_index=True)
body = f"""## More compute: the headline methods at {STEPS2} and {STEPS4} steps (`bench/teachers_study.py`)

`{command()}` on {machine()}. Gold-only, the oracle's Simple Mix (the ceiling), power_decay + relabel (recorded and
combined teacher) and the best soft-target run at {STEPS2 // 2} steps ({best_soft.method}, soft_weight {beta}) again at
{STEPS2} steps, 3 seeds; then gold-only and the method with the best mean **dev** F1 at {STEPS2} steps ({pick}) at
{STEPS4} steps. The relabel and soft runs read the same {STEPS2 // 2}-step gold students at every budget. Each method
against gold-only at the same budget by the paired bootstrap over test sentences pooled over seeds:

{sweep.to_markdown(sweep.results_table(budget))}

{sweep.to_markdown(sweep.comparisons(budget))}
"""
write_section("teachers-budget", body)
print(body)
