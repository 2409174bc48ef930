"""The study's question on our data: train the MiniLM student with each of the seven mixing
strategies at equal optimizer steps, over several seeds, and compare test F1.

Gold pool: 1,000 CoNLL-2003 train sentences disjoint from the LLM-labelled ones; distilled pool: the
5,873 gpt-3.5-labelled sentences; hyper-parameters: TrainConfig's defaults, chosen on dev for `gold`
(bench/tune_student.py). Each finished run is appended to bench/results/strategies.jsonl, and a rerun
skips what is there, so the benchmark can be stopped and resumed (also across machines). The section
of BENCHMARKS.md is rewritten from that file after every run.

    python bench/strategies.py [--seeds 0 1 2] [--strategies ...] [--reference] [--out runs/strategies]
"""
import argparse
import json
import statistics as st
import time
from pathlib import Path

from _common import ROOT, command, machine, write_section
from ner_distill import mixing
from ner_distill.train import TrainConfig, train

RESULTS = ROOT / "bench" / "results" / "strategies.jsonl"
FIGURE = ROOT / "bench" / "results" / "strategies.png"
# rows written before rows carried their command were all produced by this one
FIRST_COMMAND = "python bench/strategies.py --lr 4e-4 --reference"
TYPES = ("PER", "ORG", "LOC", "MISC")


def load_results():
    return [json.loads(l) for l in RESULTS.read_text().splitlines() if l.strip()] if RESULTS.exists() else []


def record(m, cfg, wall, cmd):
    row = dict(strategy=cfg.strategy, seed=cfg.seed, gold_size=cfg.gold_size, distilled=cfg.distilled,
               epochs_distilled=cfg.epochs_distilled, epochs_gold=cfg.epochs_gold, lr=cfg.lr, steps=m["steps"],
               best_step=m["best_step"], dev_f1=m["dev"]["f1"], test_f1=m["test"]["f1"],
               test_per_type={t: m["test"]["per_type"][t]["f1"] for t in TYPES},
               train_sentences_per_s=m["timing"]["train_sentences_per_s"], wall_s=round(wall, 1), machine=machine(),
               command=cmd)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a") as f:
        f.write(json.dumps(row) + "\n")


def fmt(xs):
    xs = [100 * x for x in xs]
    return f"{st.mean(xs):.1f} ± {st.stdev(xs):.1f}" if len(xs) > 1 else f"{xs[0]:.1f}"


def plot(by, ref):
    "Test F1 per strategy: one dot per seed, mean +- std, gold's mean and the all-gold reference as lines."
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [s for s in by if by[s]]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for i, s in enumerate(names):
        f1 = [100 * r["test_f1"] for r in by[s]]
        ax.scatter([i] * len(f1), f1, s=14, color="grey", zorder=2)
        ax.errorbar(i + 0.15, st.mean(f1), yerr=st.stdev(f1) if len(f1) > 1 else 0, fmt="o", capsize=4, color="C0", zorder=3)
    if by.get("gold"):
        ax.axhline(100 * st.mean(r["test_f1"] for r in by["gold"]), color="k", ls="--", lw=1, label="gold only, mean")
    for r in ref:
        ax.axhline(100 * r["test_f1"], color="C2", ls=":", lw=1.5, label=f"all {r['gold_size'] or 14041} gold, 1 epoch")
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    ax.set(ylabel="test F1 (CoNLL-2003)", title="Mixing strategies at equal steps (dots: seeds; bars: mean ± std)")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8, loc="lower right")
    plt.tight_layout(); fig.savefig(FIGURE, dpi=120); plt.close(fig)


def report(cmd):
    rows = load_results()
    main = [r for r in rows if r["strategy"] != "reference"]
    ref = [r for r in rows if r["strategy"] == "reference"]
    by = {s: [r for r in main if r["strategy"] == s] for s in mixing.STRATEGIES}
    lines = []
    for s, rs in by.items():
        if not rs: continue
        lines.append(f"| `{s}` | {len(rs)} | {rs[0]['steps']} | **{fmt([r['test_f1'] for r in rs])}** | {fmt([r['dev_f1'] for r in rs])} | "
                     + " / ".join(f"{100 * st.mean(r['test_per_type'][t] for r in rs):.1f}" for t in TYPES)
                     + f" | {st.mean(r['train_sentences_per_s'] for r in rs):.1f} ({max(r['train_sentences_per_s'] for r in rs):.1f}) |")
    for r in ref:
        lines.append(f"| reference: all {r['gold_size'] or 14041} gold, 1 epoch | 1 | {r['steps']} | {100 * r['test_f1']:.1f} | {100 * r['dev_f1']:.1f} | "
                     + " / ".join(f"{100 * r['test_per_type'][t]:.1f}" for t in TYPES) + f" | {r['train_sentences_per_s']:.1f} |")
    finding = []
    dtg = {r["seed"]: r["test_f1"] for r in by["distilled_then_gold"]}
    for other in ("gold", "concat"):
        o = {r["seed"]: r["test_f1"] for r in by[other]}
        seeds = sorted(set(dtg) & set(o))
        if len(seeds) < 2:
            finding.append(f"- `distilled_then_gold` vs `{other}`: not enough paired seeds yet ({len(seeds)}).")
            continue
        diffs = [100 * (dtg[s] - o[s]) for s in seeds]
        spread = max(st.stdev([100 * dtg[s] for s in seeds]), st.stdev([100 * o[s] for s in seeds]))
        beyond = abs(st.mean(diffs)) > spread and (all(d > 0 for d in diffs) or all(d < 0 for d in diffs))
        finding.append(f"- `distilled_then_gold` minus `{other}`: {st.mean(diffs):+.1f} F1 (per seed: "
                       + ", ".join(f"{d:+.1f}" for d in diffs) + f"; larger seed std {spread:.1f}): "
                       + ("beyond the seed-to-seed spread." if beyond else "within the seed-to-seed spread."))
    g = {r["seed"]: r["test_f1"] for r in by["gold"]}
    paired = []
    for s_, rs in by.items():
        d = [100 * (r["test_f1"] - g[r["seed"]]) for r in rs if r["seed"] in g]
        if s_ != "gold" and len(d) > 1:
            paired.append(f"`{s_}` {st.mean(d):+.1f} ({', '.join(f'{x:+.1f}' for x in d)})")
    if paired: finding.append("- Every strategy minus `gold`, paired by seed (test F1): " + "; ".join(paired) + ".")
    if len(by["gold"]) > 1:
        best = max((s_ for s_ in by if by[s_]), key=lambda s_: st.mean(r["dev_f1"] for r in by[s_]))
        finding.append(f"- Best strategy on dev (how one would choose without the test set): `{best}`.")
    wall = sum(r["wall_s"] for r in rows)
    if rows: plot(by, ref)
    cmd = "`, `".join(dict.fromkeys(r.get("command", FIRST_COMMAND) for r in rows)) or cmd   # the runs' own, not a --report-only's
    n_expected = len(mixing.STRATEGIES) * 3
    fastest = [max(r['train_sentences_per_s'] for r in rs) for rs in by.values() if rs] or [0]
    fast_lo, fast_hi = min(fastest), max(fastest)
    write_section("strategies", f"""## Mixing strategies at equal compute (`bench/strategies.py`)

`{cmd}` on {machine()}. Runs finished: {len(main)} of {n_expected} (7 strategies x 3 seeds){' + reference' if ref else ''};
summed wall time of the runs {wall / 60:.0f} min (a run resumed from its checkpoint counts only the resumed part;
`wall_s` per run). Results per run: `bench/results/strategies.jsonl`.

MiniLM-L6 student; gold pool 1,000 CoNLL-2003 train sentences disjoint from the 5,873 gpt-3.5-labelled
ones (the distilled pool); every strategy runs the same S = ceil((5,873 x e_D + 1,000 x e_O) / 32) optimizer
steps; lr and warm-up from the dev-set tuning above. Test F1 is seqeval entity-level micro F1 on CoNLL-2003
test (mean ± standard deviation over seeds); the checkpoint is chosen on dev.

![test F1 per strategy](bench/results/strategies.png)

Training speed is that of the model and the batch, not of the strategy: runs that had the 2 cores to
themselves train {fast_lo:.0f}-{fast_hi:.0f} sentences/s whatever the strategy (fastest seed of each); a lower mean comes from seeds that shared the
cores with the test suite (fastest seed in brackets; `wall_s` per run in the results file).

| strategy | seeds | steps | test F1 | dev F1 | test F1 PER / ORG / LOC / MISC | train sentences/s: mean (fastest seed) |
|---|---|---|---|---|---|---|
{chr(10).join(lines)}

Does Simple Mix (`distilled_then_gold`) beat `gold` and `concat` beyond the seed spread?
{chr(10).join(finding)}""")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--strategies", nargs="+", default=list(mixing.STRATEGIES), choices=list(mixing.STRATEGIES))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--gold-size", type=int, default=1000)
    p.add_argument("--epochs-distilled", type=float, default=TrainConfig.epochs_distilled)
    p.add_argument("--epochs-gold", type=float, default=TrainConfig.epochs_gold)
    p.add_argument("--lr", type=float, default=TrainConfig.lr, help="learning rate (chosen on dev by tune_student.py)")
    p.add_argument("--reference", action="store_true", help="also train on all 14,041 gold sentences (1 epoch)")
    p.add_argument("--first", nargs="*", default=["gold", "concat", "distilled_then_gold"],
                   help="strategies trained before the others (all their seeds first)")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--out", default=str(ROOT / "runs" / "strategies"))
    a = p.parse_args()
    cmd = command()
    if not a.report_only:
        done = {(r["strategy"], r["seed"]) for r in load_results()}
        jobs = [(s, seed) for seed in a.seeds for s in a.strategies if (s, seed) not in done]
        # the three strategies of the study's question first, so that a stopped benchmark has answered it
        jobs.sort(key=lambda j: j[0] not in a.first)
        if a.reference and ("reference", 0) not in done: jobs.append(("reference", 0))
        for s, seed in jobs:
            t0 = time.time()
            if s == "reference":
                cfg = TrainConfig(strategy="gold", gold_size=None, distilled="none", epochs_distilled=0, epochs_gold=1,
                                  seed=seed, lr=a.lr, out=f"{a.out}/reference-s{seed}")
            else:
                cfg = TrainConfig(strategy=s, gold_size=a.gold_size, distilled="recorded", epochs_distilled=a.epochs_distilled,
                                  epochs_gold=a.epochs_gold, seed=seed, lr=a.lr, out=f"{a.out}/{s}-s{seed}")
            m = train(cfg)
            if s == "reference": cfg.strategy = "reference"
            record(m, cfg, time.time() - t0, cmd)
            report(cmd)
    report(cmd)


if __name__ == "__main__":
    main()
