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

    python bench/teachers_study.py          # RELABEL_ROUNDS=2 stops the iterated self-training after round 2
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
for rnd in range(2, int(os.environ.get("RELABEL_ROUNDS", "3")) + 1):
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
