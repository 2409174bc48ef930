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

    python bench/teachers_study.py
"""
import json
import os
import shutil
import subprocess
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from _common import ROOT, command, machine, run_study, write_section  # noqa: E402
from ner_distill import metrics, sweep  # noqa: E402

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
chosen = float(sweep.teacher_name(best.distilled).rsplit("-t", 1)[1])
if not (STUDY / "combined" / "labels.jsonl").exists():
    shutil.copytree(TUNE / f"combined-t{chosen}", STUDY / "combined")

# 3. the study
run_study("teachers", ["--profile", "teachers"], "Teachers: the oracle ceiling, a combined teacher, the teacher-quality curve",
          f"Distilled pool: the 5,873 CoNLL-2003 train sentences of the recorded gpt-3.5 labels, labelled by gpt-3.5 "
          f"(`recorded`), by their gold tags (`oracle`), by spaCy (`spacy`), by `simulated:F1` teachers (each sentence "
          f"takes gpt-3.5's tags with probability p, gold's otherwise) and by the combination of gpt-3.5 and spaCy "
          f"(`combined`, threshold {chosen} chosen on dev). 1,000 gold sentences, 247 steps each.")

# 4. analysis: the oracle's share, the teachers' quality, the curve
ok, _ = sweep.load_runs(STUDY)
mean = ok.groupby("method").test_f1.mean() * 100
gold = mean["gold"]
rows = ["| method | recorded | combined | oracle | share of the oracle's gain: recorded | combined |", "|---|---:|---:|---:|---:|---:|"]
for m in ("distilled_then_gold", "power_decay", "power_decay + relabel"):
    r, c, o = (mean.get(f"{t}: {m}") for t in ("recorded", "combined", "oracle"))
    o_ = o if o is not None else mean.get("oracle: power_decay")
    share = lambda x: "-" if x is None or o_ is None or o_ - gold <= 0 else f"{100 * (x - gold) / (o_ - gold):.0f} %"
    fmt = lambda x: "-" if x is None else f"{x:.1f}"
    rows.append(f"| {m} | {fmt(r)} | {fmt(c)} | {fmt(o)} | {share(r)} | {share(c)} |")
oracle_note = ("(relabel has no oracle run: its share is against the oracle of power_decay)")

quality = {}
for name, run in (("gpt-3.5 (recorded)", None), ("spaCy", STUDY / "spacy"), (f"combined (t={chosen})", STUDY / "combined")):
    if run is None:
        from ner_distill import data
        rec = data.recorded_llm_labels()
        quality[name] = metrics.teacher_quality([s.meta["gold_tags"] for s in rec], rec.tags, ["LOC", "MISC", "ORG", "PER"])
    else: quality[name] = json.loads((run / "quality.json").read_text())
comb = json.loads((STUDY / "combined" / "combine.json").read_text())
qrows = ["| teacher | F1 | PER | LOC | ORG | MISC |", "|---|---:|---:|---:|---:|---:|"]
for name, q in quality.items():
    qrows.append(f"| {name} | {q['f1']:.3f} | " + " | ".join(f"{q['per_type'][t]['f1']:.3f}" for t in ("PER", "LOC", "ORG", "MISC")) + " |")

# the curve: student test F1 against the teacher's label F1
teacher_f1 = {"recorded": quality["gpt-3.5 (recorded)"]["f1"], "oracle": 1.0, "spacy": quality["spaCy"]["f1"],
              "combined": quality[f"combined (t={chosen})"]["f1"]}
for q in (0.65, 0.75, 0.85, 0.95): teacher_f1[f"simulated:{q}:recorded"] = q
fig, ax = plt.subplots(figsize=(7, 4.2))
s0 = ok[ok.seed == 0]
ax.axhline(100 * s0[s0.method == "gold"].test_f1.mean(), color="k", ls="--", lw=1, label="gold only (seed 0)")
for strat, colour in (("distilled_then_gold", "C0"), ("power_decay", "C1")):
    pts = sorted((teacher_f1[sweep.teacher_name(r.distilled)], 100 * r.test_f1, sweep.teacher_name(r.distilled))
                 for r in s0[s0.strategy == strat].itertuples() if r.trust == "none" and sweep.teacher_name(r.distilled) in teacher_f1)
    sim = [p for p in pts if p[2].startswith("simulated") or p[2] in ("recorded", "oracle")]
    ax.plot([p[0] for p in sim], [p[1] for p in sim], "-o", color=colour, label=f"{'Simple Mix' if strat == 'distilled_then_gold' else strat}")
    for x, y, n in pts:
        if n in ("recorded", "spacy", "combined", "oracle"):
            ax.annotate({"recorded": "gpt-3.5", "spacy": "spaCy", "combined": "combined", "oracle": "oracle"}[n], (x, y),
                        textcoords="offset points", xytext=(4, -10 if strat == "power_decay" else 4), fontsize=8, color=colour)
            ax.plot([x], [y], "s", color=colour, ms=7, mfc="none")
ax.set_xlabel("teacher label F1 on the 5,873 sentences"); ax.set_ylabel("student test F1 (seed 0)")
ax.set_title("How good must the teacher be? (1,000 gold + 5,873 distilled, 247 steps)"); ax.legend(fontsize=8); ax.grid(alpha=.3)
fig.tight_layout(); fig.savefig(ROOT / "bench" / "results" / "teacher-quality.png", dpi=110)

curve = ["| teacher | label F1 | Simple Mix | power_decay | gold only |", "|---|---:|---:|---:|---:|"]
g0 = 100 * s0[s0.method == "gold"].test_f1.mean()
for n, f in sorted(teacher_f1.items(), key=lambda kv: kv[1]):
    v = {st: s0[(s0.strategy == st) & (s0.trust == "none") & (s0.distilled.map(sweep.teacher_name) == n)].test_f1 for st in ("distilled_then_gold", "power_decay")}
    cell = lambda x: "-" if not len(x) else f"{100 * x.mean():.1f} ({100 * x.mean() - g0:+.1f})"
    curve.append(f"| {n} | {f:.3f} | {cell(v['distilled_then_gold'])} | {cell(v['power_decay'])} | {g0:.1f} |")

body = f"""## Teachers: the ceiling, the combination, the curve, in numbers (`bench/teachers_study.py`)

`{command()}` on {machine()}; the runs are the `teachers` sweep above (test F1 in points, mean over 3 seeds).

**The oracle ceiling.** Each method with the recorded gpt-3.5 teacher, the combined teacher and the oracle (the same
5,873 sentences with their gold tags), and the share of the oracle's gain over gold-only ({gold:.1f}) that it recovers
{oracle_note}:

{chr(10).join(rows)}

**The teachers' label F1** on the 5,873 sentences, overall and per type (seqeval, entity level). The combination
weighs each source by its confusion matrix on {comb['calibration_size']} seeded calibration sentences (their gold tags
only); {comb['abstained_tokens']:,} of {comb['tokens']:,} tokens ({100 * comb['abstained_tokens'] / comb['tokens']:.1f} %)
abstain at threshold {chosen} and are masked in training (scored here as labelled by the vote's winner):

{chr(10).join(qrows)}

**How good must the teacher be?** Seed 0, the student's test F1 (difference to gold-only) for teachers of known
quality (`simulated:F1`: gpt-3.5's own errors on a share p of the sentences, gold on the rest) and the real teachers:

{chr(10).join(curve)}

![teacher quality](bench/results/teacher-quality.png)
"""
write_section("teachers-analysis", body)
print(body)
