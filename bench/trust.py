"""Make noisy LLM labels pay: trust methods and budget-aware selection against the study's strategies,
at equal optimizer steps, over seeds (issue 7).

Part 1 (methods): the MiniLM student trained with `--strategy` (default distilled_then_gold) on the
1,000-sentence gold pool and the 5,873 gpt-3.5-labelled sentences, with each trust method of
ner_distill.trust; compared with `gold` and the best of the seven strategies (bench/strategies.py).
Part 2 (budget): N LLM-labelled sentences chosen by the gold-trained student's uncertainty or at random,
N = 500, 1,000, 2,000 (5,873 = all, taken from the strategy study); same N -> same steps.

The gold-trained student that scores the distilled pool (methods `student`, selection `uncertainty`) is
the `gold` run of the same seed of the strategy study (runs/strategies/gold-s{seed}, trained here when
missing): its compute is that of the gold baseline, spent once more by these methods. Every finished run
is appended to bench/results/trust.jsonl and skipped on a rerun; BENCHMARKS.md is rewritten after every run.

    python bench/trust.py [--methods mask weight student drop] [--budgets 500 1000 2000] [--seeds 0 1 2]
    python bench/trust.py --methods relabel --budgets --student-confidence 0   # self-training control: no LLM labels left
"""
import argparse
import json
import statistics as st
import time
from pathlib import Path

from _common import ROOT, command, machine, write_section
from ner_distill.train import TrainConfig, train
from ner_distill.trust import NEEDS_STUDENT

RESULTS = ROOT / "bench" / "results" / "trust.jsonl"
STRATEGY_RESULTS = ROOT / "bench" / "results" / "strategies.jsonl"
FIGURE = ROOT / "bench" / "results" / "budget.png"
TYPES = ("PER", "ORG", "LOC", "MISC")
CONFIDENCE = TrainConfig.student_confidence


def conf(r):
    "The student confidence a row ran with (rows before the flag existed ran with the default)."
    return r.get("student_confidence", CONFIDENCE) if NEEDS_STUDENT & set(r["trust"].split("+")) else None


def rows(path):
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()] if path.exists() else []


def gold_student(seed: int, a) -> Path:
    "The strategy study's `gold` run for this seed (same gold pool, lr and steps), trained if missing."
    out = Path(a.gold_runs) / f"gold-s{seed}"
    train(TrainConfig(strategy="gold", gold_size=1000, distilled="recorded", seed=seed, lr=a.lr, out=str(out)))
    return out


def record(kind, cfg, m, wall, run_dir, cmd=""):
    t = json.loads((Path(run_dir) / "trust.json").read_text()) if (Path(run_dir) / "trust.json").exists() else {}
    if kind == "budget" and "selected_words" not in t:   # a random subset takes the plain path: count it here
        from ner_distill.train import run_plan
        from ner_distill.trust import sentence_costs
        D = run_plan(cfg)["D"]
        t.update(selected_words=D.n_tokens, est_cost_usd=dict(usd=round(float(sentence_costs(D, "usd").sum()), 4)))
    row = dict(kind=kind, strategy=cfg.strategy, trust=cfg.trust, selection=cfg.selection, distilled_size=cfg.distilled_size,
               seed=cfg.seed, lr=cfg.lr, steps=m["steps"], best_step=m["best_step"], dev_f1=m["dev"]["f1"],
               test_f1=m["test"]["f1"], test_per_type={k: m["test"]["per_type"][k]["f1"] for k in TYPES},
               train_sentences_per_s=m["timing"]["train_sentences_per_s"], wall_s=round(wall, 1),
               counts=t.get("counts"), distrusted=t.get("distrusted"), selected_words=t.get("selected_words"),
               est_cost_usd=(t.get("est_cost_usd") or {}).get("usd"),
               type_trust={k: v["precision"] for k, v in t["type_trust"].items()} if t.get("type_trust") else None,
               machine=machine(), command=cmd)
    if NEEDS_STUDENT & set(cfg.trust.split("+")): row["student_confidence"] = cfg.student_confidence
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a") as f: f.write(json.dumps(row) + "\n")


def fmt(xs):
    xs = [100 * x for x in xs]
    return f"{st.mean(xs):.1f} ± {st.stdev(xs):.1f}" if len(xs) > 1 else f"{xs[0]:.1f}"


def paired(rs, base):
    "Mean and per-seed differences (F1 points) of runs `rs` to a {seed: test F1} baseline."
    g = [100 * (r["test_f1"] - base[r["seed"]]) for r in rs if r["seed"] in base]
    return (st.mean(g), f"{st.mean(g):+.1f} ({', '.join(f'{x:+.1f}' for x in g)})") if g else (None, "")


def label(strat, m, c):
    return f"`{strat}` + `{m}`" + (f" (confidence {c})" if c not in (None, CONFIDENCE) else "")


def per_type(rs): return " / ".join(f"{100 * st.mean(r['test_per_type'][t] for r in rs):.1f}" for t in TYPES)


def report(cmd, a):
    R, S = rows(RESULTS), rows(STRATEGY_RESULTS)
    by_strategy = {}
    for r in S:
        if r["strategy"] != "reference": by_strategy.setdefault(r["strategy"], []).append(r)
    gold = {r["seed"]: r["test_f1"] for r in by_strategy.get("gold", [])}
    # the best of the seven is chosen on dev, like everything else
    best = max(by_strategy, key=lambda s: st.mean(r["dev_f1"] for r in by_strategy[s])) if by_strategy else None

    def line(name, rs, note=""):
        d = paired(rs, gold)[1] or "-"
        return (f"| {name} | {len(rs)} | {rs[0]['steps']} | {fmt([r['dev_f1'] for r in rs])} | **{fmt([r['test_f1'] for r in rs])}** | {d} | "
                f"{per_type(rs)} | {note} |")

    lines = []
    if "gold" in by_strategy: lines.append(line("`gold` (strategy study)", by_strategy["gold"]))
    if best and best != "gold": lines.append(line(f"`{best}`: best of the seven strategies on dev", by_strategy[best]))
    elif best: lines[-1] = lines[-1].replace("(strategy study)", "(strategy study): best of the seven on dev")
    top = max(by_strategy, key=lambda s: st.mean(r["test_f1"] for r in by_strategy[s])) if by_strategy else None
    if top not in (best, "gold"):   # shown for reference only: choosing it would be choosing on test
        lines.append(line(f"`{top}`: highest test F1 of the seven (not a dev choice)", by_strategy[top]))
    methods = {}
    for r in R:
        if r["kind"] == "method": methods.setdefault((r["strategy"], r["trust"], conf(r)), []).append(r)
    for (strat, m, c_), rs in methods.items():
        c = rs[0].get("counts") or {}
        note = []
        names = set(m.split("+"))
        if rs[0].get("distrusted") is not None and names & {"drop", "mask"}:
            note.append(f"distrusted: {', '.join(rs[0]['distrusted']) or 'none'}")
        if c.get("tokens") and c.get("tokens_weight0"): note.append(f"{100 * c['tokens_weight0'] / c['tokens']:.1f} % of distilled tokens masked")
        if c.get("tokens") and c.get("student_relabelled_tokens"):
            note.append(f"{100 * c['student_relabelled_tokens'] / c['tokens']:.1f} % of distilled tokens relabelled")
        if "weight" in names and c.get("tokens"): note.append(f"mean token weight {c['weight_sum'] / c['tokens']:.2f}")
        if c_ == 0 and "relabel" in names:
            note.insert(0, "confidence 0: every token takes the student's label, i.e. self-training without the LLM's labels")
        lines.append(line(label(strat, m, c_), rs, "; ".join(note)))
    findings = []
    full_seeds = {k: rs for k, rs in methods.items() if len(rs) >= 3}
    if full_seeds and gold:
        k = max(full_seeds, key=lambda k: st.mean(r["dev_f1"] for r in full_seeds[k]))   # chosen on dev, never on test
        rs = full_seeds[k]
        gain = paired(rs, gold)[0]
        sd = st.stdev(100 * v for v in gold.values()) if len(gold) > 1 else 0.0
        findings.append(f"Best trust run on dev (3 seeds or more): {label(*k)}, test F1 {fmt([r['test_f1'] for r in rs])}, "
                        f"{gain:+.1f} over gold at equal steps; "
                        + ("the goal of +3 beyond the seed spread is met." if gain >= 3 and gain > sd else
                           f"the goal of +3 F1 over gold beyond the seed spread (gold's std {sd:.1f}) is not met."))
    ctrl = {r["seed"]: r["test_f1"] for r in methods.get(("distilled_then_gold", "relabel", 0), [])}
    main_ = methods.get(("distilled_then_gold", "relabel", CONFIDENCE), [])
    if len(set(ctrl) & {r["seed"] for r in main_}) >= 2:
        findings.append(f"What the LLM adds beyond self-training: `relabel` at confidence {CONFIDENCE} minus the same run at "
                        f"confidence 0 (the gold student's labels only) is {paired(main_, ctrl)[1]} test F1 per seed.")

    # budget curve, for the strategy the budget runs used (not necessarily this invocation's --strategy)
    budget_runs = [r["strategy"] for r in R if r["kind"] == "budget"]
    bstrat = max(set(budget_runs), key=budget_runs.count) if budget_runs else a.strategy
    pts = {}
    for r in R:
        if r["kind"] == "budget" and r["strategy"] == bstrat: pts.setdefault((r["selection"], r["distilled_size"]), []).append(r)
    full = by_strategy.get(bstrat, [])
    blines, curve = [], {}
    for (sel, n), rs in sorted(pts.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        words = st.mean(r["selected_words"] or 0 for r in rs)
        usd = st.mean(r.get("est_cost_usd") or 0 for r in rs)
        d = paired(rs, {r["seed"]: r["test_f1"] for r in pts.get(("random", n), [])})[1] if sel != "random" else ""
        blines.append(f"| {n} | {sel} | {len(rs)} | {rs[0]['steps']} | {words:,.0f} | {usd:.3f} | **{fmt([r['test_f1'] for r in rs])}** | {d} | {per_type(rs)} |")
        curve.setdefault(sel, []).append((n, [100 * r["test_f1"] for r in rs]))
    def ratios(key):   # uncertainty over random, at each N that has both
        return [st.mean(r[key] for r in pts[("uncertainty", n)]) / st.mean(r[key] for r in pts[("random", n)])
                for (sel, n) in pts if sel == "uncertainty" and ("random", n) in pts]
    words_ratio, usd_ratio = ratios("selected_words"), ratios("est_cost_usd")
    bias = ("Across N the step count changes too, so the curve's rise mixes more labels with more training; "
            "what it compares is the two selections at each N. " if len(pts) > 2 else "") + (f"At the same N, uncertainty selection sends {min(words_ratio):.1f}-{max(words_ratio):.1f}x the words of random "
            f"selection (total entropy grows with length, so it prefers long sentences), while the estimated price rises "
            f"only {100 * (min(usd_ratio) - 1):.0f}-{100 * (max(usd_ratio) - 1):.0f} % because the zero-shot prompt's fixed "
            "instructions dominate each request; with a budget in words (`ner-distill select --unit words`) the two "
            "would be compared at equal text." if words_ratio else "")
    if full:
        from ner_distill import data
        from ner_distill.trust import sentence_costs
        allD = data.recorded_llm_labels()
        blines.append(f"| 5873 (all) | either | {len(full)} | {full[0]['steps']} | {allD.n_tokens:,} | {sentence_costs(allD, 'usd').sum():.3f} | "
                      f"**{fmt([r['test_f1'] for r in full])}** |  | {per_type(full)} |")
        for sel in curve: curve[sel].append((5873, [100 * r["test_f1"] for r in full]))
    if curve:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(5.5, 3.2))
        for k, (sel, p) in enumerate(curve.items()):
            p.sort()
            shift = 1 + 0.025 * (k - (len(curve) - 1) / 2)   # side by side, so the error bars do not hide each other
            ax.errorbar([n * shift for n, _ in p], [st.mean(v) for _, v in p], yerr=[st.stdev(v) if len(v) > 1 else 0 for _, v in p],
                        marker="o", capsize=3, label=f"{sel} selection")
        if gold: ax.axhline(100 * st.mean(gold.values()), color="k", ls="--", lw=1, label="gold only (247 steps)")
        ax.set(xscale="log", xlabel="LLM-labelled sentences (budget N)", ylabel="test F1", title=f"{bstrat}: F1 against budget")
        ns = sorted({n for p in curve.values() for n, _ in p})
        ax.set_xticks(ns, [f"{n:,}" for n in ns]); ax.minorticks_off()
        ax.legend(fontsize=8); plt.tight_layout(); fig.savefig(FIGURE, dpi=120); plt.close(fig)

    trust_tab = next((r["type_trust"] for r in R if r.get("type_trust")), None)
    trust_line = ("Teacher precision on the 200-sentence calibration sample (seed 0): "
                  + ", ".join(f"{k} {v:.2f}" for k, v in trust_tab.items() if v is not None) + "." if trust_tab else "")
    wall = sum(r["wall_s"] for r in R)
    cmds = list(dict.fromkeys(r.get("command") or "python bench/trust.py --seeds 0 --methods mask student weight relabel "
                              "--budgets 500 1000 2000" for r in R)) or [cmd]   # the runs' own commands, not a --report-only's
    cmd = "`, `".join(cmds)
    write_section("trust", f"""## Trust methods and budget-aware selection (`bench/trust.py`)

`{cmd}` on {machine()}. Runs finished: {len(R)}; summed wall time {wall / 60:.0f} min. Per run:
`bench/results/trust.jsonl`.

MiniLM-L6 student, gold pool 1,000 CoNLL-2003 train sentences, distilled pool the 5,873 gpt-3.5-labelled
sentences, lr 4e-4 (chosen on dev for `gold`), test F1 on CoNLL-2003 test, mean ± std over seeds; "vs gold"
is the difference to the `gold` run of the same seed (per seed in brackets). Trust methods run with
the strategy named in the row, at the same S steps as the strategies; `drop`/`mask`/`weight` estimate trust on 200
calibration sentences that move from the distilled to the gold pool (which gives up 200 of its own:
1,000 gold sentences in every run); `student` masks, and `relabel` replaces with its own label, the
distilled tokens where the seed's `gold` run disagrees with probability >= 0.9 (that student costs one
more gold run of compute). Training sentences/s are comparable only between runs that had the
2 cores to themselves (see `wall_s` per run).
{trust_line}

{' '.join(findings)}

| run | seeds | steps | dev F1 | test F1 | vs gold (test) | test F1 PER / ORG / LOC / MISC | notes |
|---|---|---|---|---|---|---|---|
{chr(10).join(lines)}

### F1 against the LLM budget

`{bstrat}` with N LLM-labelled sentences chosen at random or by the seed's `gold` student's
uncertainty (total token entropy); steps S = ceil((N + 2 x 1,000) / 32), equal for both selections at
the same N. ![F1 against budget](bench/results/budget.png)

| N | selection | seeds | steps | words sent | est. USD (gpt-4o-mini, zero-shot) | test F1 | vs random (per seed) | test F1 PER / ORG / LOC / MISC |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(blines)}

{bias}""")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--strategy", default="distilled_then_gold")
    p.add_argument("--methods", nargs="*", default=["mask", "weight", "student", "relabel", "drop"])
    p.add_argument("--budgets", type=int, nargs="*", default=[500, 1000, 2000])
    p.add_argument("--selections", nargs="*", default=["random", "uncertainty"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--lr", type=float, default=TrainConfig.lr)
    p.add_argument("--threshold", type=float, default=TrainConfig.trust_threshold)
    p.add_argument("--student-confidence", type=float, default=CONFIDENCE,
                   help="student/relabel: disagreement at this probability or more is masked/relabelled (0: pure self-training)")
    p.add_argument("--gold-runs", default=str(ROOT / "runs" / "strategies"))
    p.add_argument("--out", default=str(ROOT / "runs" / "trust"))
    p.add_argument("--report-only", action="store_true")
    a = p.parse_args()
    cmd = command()
    if not a.report_only:
        done = {(r["kind"], r["strategy"], r["trust"], r["selection"], r["distilled_size"], r["seed"], conf(r)) for r in rows(RESULTS)}
        jobs = [("method", m, "random", None, s) for s in a.seeds for m in a.methods]
        jobs += [("budget", "none", sel, n, s) for s in a.seeds for n in a.budgets for sel in a.selections]
        for kind, m, sel, n, seed in jobs:
            c = a.student_confidence if NEEDS_STUDENT & set(m.split("+")) else None
            if (kind, a.strategy, m, sel, n, seed, c) in done: continue
            needs_student = bool(NEEDS_STUDENT & set(m.split("+"))) or sel != "random"
            tag = f"-c{c:g}" if c not in (None, CONFIDENCE) else ""
            name = f"{a.strategy}-{m}{tag}-s{seed}" if kind == "method" else f"{a.strategy}-{sel}{n}-s{seed}"
            cfg = TrainConfig(strategy=a.strategy, gold_size=1000, distilled="recorded", distilled_size=n, seed=seed, lr=a.lr,
                              trust=m, trust_threshold=a.threshold, selection=sel, student_confidence=a.student_confidence,
                              trust_student=str(gold_student(seed, a)) if needs_student else None,
                              out=str(Path(a.out) / name))
            t0 = time.time()
            m_ = train(cfg)
            record(kind, cfg, m_, time.time() - t0, cfg.out, cmd)
            report(cmd, a)
    report(cmd, a)


if __name__ == "__main__":
    main()
