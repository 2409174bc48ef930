"""Review where it matters: a reviewer (the gold tags standing in for a person) corrects 200 and 500 of the recorded
gpt-3.5 labels, chosen by disagreement with the gold-trained student, by the combined teacher's uncertainty and at
random, through the real path (`ner-distill review`, each tool's export, `reviewed:FOLDER`), against as many gold
sentences annotated from scratch (the design: bench/sections/review.md). Each method against no review by the paired
bootstrap; the BENCHMARKS.md section "review". Resumable (finished runs, reviews and annotation runs are kept). Run it
ALONE on an idle machine:

    flock /tmp/ner-heavy.lock python bench/review.py                                  # everything, then the section
    flock /tmp/ner-heavy.lock python bench/review.py --seeds 0 --conditions disagreement-500   # one run, to time it
"""
import argparse
import time

import pandas as pd

from _common import ROOT, annotate_once, cli, gold_run, head, plot, run_steps, write_section
from ner_distill.studies import chosen_markdown
from ner_distill import data, metrics, study, sweep_tables
from ner_distill.annotate import review
from ner_distill.annotate.sources import parse_source

STUDY = ROOT / "runs" / "studies" / "review"
RANKS, SIZES, SEEDS, STEPS = ("disagreement", "uncertainty", "random"), (200, 500), (0, 1, 2), 247
CONDITIONS = [f"{r}-{n}" for n in SIZES[::-1] for r in RANKS] + [f"gold-{n}" for n in SIZES[::-1]] + ["disagreement-500-to-gold", "random-500-to-gold"]


def combined() -> str:
    "The combined teacher of the recorded labels and spaCy on the same sentences (threshold 0: every word's posterior kept)."
    spacy = annotate_once(STUDY / "spacy", "--source", "recorded", "--teacher", "spacy")
    return str(annotate_once(STUDY / "combined", "--source", "recorded", "--teacher", "combine", "--sources", f"recorded,{spacy}",
                             "--threshold", "0"))


def reviews(rank, n, seeds, gold) -> dict:
    "The review folders of a condition, written and corrected; {seed: the reviewed pool's report and label F1}."
    out = {}
    for s in seeds:
        folder = STUDY / "reviews" / f"{rank}-{n}-s{s}"
        if not (folder / "review.json").exists():
            t0 = time.time()
            cli("review", "--labels", "recorded", "--budget", n, "--rank", rank, "--combined", combined(), "--seed", s, "--quiet", "--out", folder,
                *(["--gold-run", gold_run(STUDY, s)] if rank == "disagreement" else []))
            (folder / "seconds.txt").write_text(f"{time.time() - t0:.1f}")
        review.simulate_review(folder, gold)
        pool = parse_source(f"reviewed:{folder}").pool()
        out[s] = dict(pool.report, label_f1=metrics.pool_quality(pool)["f1"], seconds=float((folder / "seconds.txt").read_text()))
    return out


def per_sentence(cmp, names) -> pd.DataFrame:
    "F1 gained per extra sentence (reviewed or annotated) against no review, and the cost a reviewed one breaks even at."
    return study.per_sentence_gain(cmp, [(n, names[f"gold-{n}"], [names[c] for c in [f"{r}-{n}" for r in RANKS] + [c for c in names if c.endswith(f"-{n}-to-gold")]])
                                         for n in SIZES])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", nargs="+", default=[str(s) for s in SEEDS])
    p.add_argument("--conditions", nargs="+", default=CONDITIONS, choices=CONDITIONS)
    a = p.parse_args()
    t0, done, gold = time.time(), {}, {(s.source, s.sent_id): s for s in data.recorded_llm_labels()}
    relabel = ("--strategies", "power_decay", "--trust", "relabel")
    steps = [("sweep", "gold", "--strategies", "gold"), ("sweep", "none", *relabel)]
    for c in a.conditions:       # rank-size: reviewed in place; rank-size-to-gold: the same reviews join the gold pool
        kind, n, *to_gold = c.split("-")
        if kind == "gold": continue
        steps += [lambda k=kind, n=int(n): done.setdefault(f"{k}-{n}", reviews(k, n, [int(s) for s in a.seeds], gold)),
                  ("sweep", c, *relabel, "--param", f"distilled={'reviewed-gold' if to_gold else 'reviewed'}:{STUDY / 'reviews' / f'{kind}-{n}'}-s{{seed}}")]
    extra = [str(1000 + int(c.split("-")[1])) for c in a.conditions if c.startswith("gold-")]
    STUDY.mkdir(parents=True, exist_ok=True)
    run_steps(STUDY, steps + ([("sweep", "extra-gold", *relabel, "--gold-sizes", *extra)] if extra else []), a.seeds,
              [f"steps={STEPS}", "dev_size=1000", "gold_run={gold_run}"])
    names = {"gold": "gold only", "none": "no review", **{f"{r}-{n}": f"review {n} @ {r}" for r in RANKS for n in SIZES},
             **{f"gold-{n}": f"{1000 + n} gold (+{n} from scratch)" for n in SIZES},
             **{f"{r}-500-to-gold": f"review 500 @ {r}, to the gold pool" for r in ("disagreement", "random")}}
    folders = ("gold", "none", *[c for c in CONDITIONS if not c.startswith("gold-")], "extra-gold")   # those that ran
    ok = study.named_runs({STUDY / f: names.get(f) for f in folders}, keep_method=False)
    extra_gold = ok.sweep == "extra-gold"
    ok.loc[extra_gold, "method"] = [f"{g} gold (+{int(g) - 1000} from scratch)" for g in ok[extra_gold].gold]
    report(ok, names, done, time.time() - t0)


def verdict(cmp, head, head_gold) -> str:
    "The goal (500 sentences by disagreement: >= +1.5 F1 over no review, and above 500 random ones), as measured."
    line = study.comparison_line
    return "; ".join([line(cmp, "review 500 @ disagreement", "in place, against no review"),
                      line(cmp, "review 500 @ disagreement, to the gold pool", "joining the gold pool, against no review"),
                      line(head, "review 500 @ disagreement", "in place, against 500 random ones"),
                      line(head_gold, "review 500 @ disagreement, to the gold pool", "joining the gold pool, against 500 random ones joining it")])


def report(ok, names, done, secs):
    cmp = sweep_tables.comparisons(ok, "no review")
    h2h = sweep_tables.comparisons(ok[ok.method.isin(["review 500 @ disagreement", "review 500 @ random"])], "review 500 @ random")
    gold_pool = ["review 500 @ disagreement, to the gold pool", "review 500 @ random, to the gold pool"]
    head_gold = sweep_tables.comparisons(ok[ok.method.isin(gold_pool)], gold_pool[1])
    quality = study.review_quality({names[c]: v for c, v in done.items()})
    inplace = ok[ok.method.str.startswith("review ") & ~ok.method.str.contains("gold pool")]
    at = {n: inplace[inplace.method.str.startswith(f"review {n} @")] for n in SIZES}
    modes = ok[ok.method.str.startswith("review 500 @ disagreement")]   # where the reviews go
    print(write_section("review", head=head(ok, secs),
                        steps=STEPS, base_f1=100 * study.read_quality("recorded")["f1"],
                        quality=sweep_tables.to_markdown(quality, "(no review written in this call)"),
                        figure=f"![review]({plot(ok, 'review')})", tables=sweep_tables.tables_markdown(ok, "no review"),
                        head_to_head=sweep_tables.to_markdown(pd.concat([h2h, head_gold]), "(not run)"),
                        per_sentence=sweep_tables.to_markdown(per_sentence(cmp, names)),
                        choices="\n\n".join(f"At {n} sentences, in place: {chosen_markdown(runs)}" for n, runs in at.items() if len(runs)) or "-",
                        mode=chosen_markdown(modes) if modes.method.nunique() > 1 else "(not run)",
                        verdict=verdict(cmp, h2h, head_gold), x=study.pool_draws(5873, "power_decay", STEPS, 32, (1000, 1500))))


if __name__ == "__main__":
    main()
