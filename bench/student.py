"""The student that sees capital letters: word shape on and off in one sweep, Viterbi against argmax, all gold, the
4-layer student, and what word shape and Viterbi cost the runtime. Run it alone on an idle machine.

    python bench/student.py run       # the `student` sweep (gold, power_decay + relabel, Simple Mix, power_decay; shape on/off;
                                      # 3 seeds), all-gold and 4-layer runs; resumable
    python bench/student.py speed     # words/s of the bundles with and without word shape, Viterbi and argmax, spaCy
    python bench/student.py report    # the "student" section of BENCHMARKS.md

Every comparison is the sweep's: a paired bootstrap over test sentences pooled over seeds, with per-seed differences.
"""
import json
import os
import statistics
import sys
import time

from _common import ROOT, cli, command, machine, plot, write_section

from ner_distill import data, infer, study, sweep

STUDY = ROOT / "runs" / "student"
EXTRA = ROOT / "runs" / "student-extra"        # all-gold and 4-layer runs, one seed
SPEED = ROOT / "runs" / "student-speed.json"
ALL_GOLD_EPOCHS = (1, 2, 3)                     # candidates for the all-gold run, chosen on dev with word shape on
SHAPES = ("on", "off")


def extra_runs(epochs=None) -> dict:
    """The single runs beside the sweep, {folder name: train flags}, in training order: all gold for each candidate
    number of epochs with word shape, the old student at the epochs chosen, and the 4-layer student (gold, then
    power_decay + relabel reading the 4-layer gold run of its own word shape)."""
    def all_gold(cf, e): return ["--strategy", "gold", "--gold-size", "all", "--distilled", "none", "--epochs-gold", e, "--case-features", cf]
    runs = {f"all-gold-on-e{e}": all_gold("on", e) for e in ALL_GOLD_EPOCHS}
    if epochs: runs[f"all-gold-off-e{epochs}"] = all_gold("off", epochs)
    runs.update({f"gold-4layers-{cf}": ["--strategy", "gold", "--layers", 4, "--case-features", cf] for cf in SHAPES})
    runs.update({f"power_decay-relabel-4layers-{cf}": ["--strategy", "power_decay", "--trust", "relabel", "--layers", 4,
                                                       "--trust-student", EXTRA / f"gold-4layers-{cf}", "--case-features", cf]
                 for cf in SHAPES})
    return {k: [*v, "--dev-size", 1000] for k, v in runs.items()}


def best_all_gold_epochs():
    "The epochs of the all-gold run with word shape with the best dev F1 (None before they ran)."
    done = {e: json.loads(p.read_text())["dev"]["f1"] for e in ALL_GOLD_EPOCHS
            if (p := EXTRA / f"all-gold-on-e{e}" / "metrics.json").exists()}
    return max(done, key=done.get) if len(done) == len(ALL_GOLD_EPOCHS) else None


def run():
    cli("sweep", "--profile", "student", "--engine", "python", "--out", STUDY, check=False)
    EXTRA.mkdir(parents=True, exist_ok=True)
    for stage in (extra_runs(), extra_runs(best_all_gold_epochs())):   # the old student at the epochs chosen for the new one
        for name, flags in stage.items():
            if not (EXTRA / name / "metrics.json").exists():
                with open(EXTRA / f"{name}.log", "w") as log: cli("train", *flags, "--out", EXTRA / name, log=log)


def wps(fn, sents, n, repeats):
    "Words/s of each pass."
    out = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(sents); out.append(n / (time.perf_counter() - t))
    return out


def speed(repeats=5):
    """Bundles of the seed-0 gold students with and without word shape (6 layers: both variants; 4 layers: the default),
    the 6-layer one with word shape also decoding by argmax, and spaCy, all in this process, in alternating passes."""
    from ner_distill.annotate.teachers import load_spacy, spacy_docs
    from ner_distill.export import export_bundle
    load_before = [round(x, 2) for x in os.getloadavg()]     # 1, 5 and 15 min: near 0 on an idle machine
    test = data.conll2003("test"); sents, n = test.tokens, test.n_tokens
    work = ROOT / "runs" / "student-bundles"
    runs = {"6 layers, shape on": gold_run("on"), "6 layers, shape off": gold_run("off"),
            "4 layers, shape on": EXTRA / "gold-4layers-on", "4 layers, shape off": EXTRA / "gold-4layers-off"}
    systems, f1 = {}, {}
    for k, r in runs.items():
        if not (r / "metrics.json").exists(): continue
        b = work / r.name
        if not (b / "manifest.json").exists(): b = export_bundle(r, work, r.name, wheelhouse=False, pack=False)
        man = json.loads((b / "manifest.json").read_text())
        variants = ("fp32", "int8") if k.startswith("6") else (man["default_variant"],)
        for v in variants:
            name = f"{k}, {v}{' (default)' if v == man['default_variant'] else ''}"
            systems[name] = infer.Bundle(b, v).tagger; f1[name] = man["variants"][v]["test_f1"]
        if k == "6 layers, shape on":
            v = man["default_variant"]
            tg = infer.Bundle(b, v).tagger; tg.decode = "argmax"
            systems[f"{k}, {v} (default), argmax"] = tg; f1[f"{k}, {v} (default), argmax"] = None
    nlp = load_spacy()
    systems["spaCy en_core_web_sm (tok2vec + ner, batch 256)"] = None
    for k, tg in systems.items():
        if tg is not None: tg.tag(sents[:64])
    list(spacy_docs(nlp, sents[:64], 256))
    res = {k: [] for k in systems}
    for _ in range(repeats):       # alternating: each system once per round, so drift hits all alike
        for k, tg in systems.items():
            fn = (lambda x: list(spacy_docs(nlp, x, 256))) if tg is None else (lambda x, tg=tg: tg.tag(x, 32))
            res[k] += wps(fn, sents, n, 1)
    data.write_json(SPEED, dict(machine=machine(), command=command(), load_before=load_before, repeats=repeats, words=n, wps=res, test_f1=f1))
    print(json.dumps({k: round(max(v)) for k, v in res.items()}, indent=1))


def gold_run(cf: str):
    "The seed-0 gold-only run of the sweep with word shape `cf`."
    return study.run_dir(STUDY, strategy="gold", case_features=cf, seed=0)


def decoding(ok) -> list[str]:
    "Dev F1 (the runs' dev scoring set, 1,000 sentences) of the gold and relabel runs' kept models read by argmax and by Viterbi."
    from ner_distill.student import Student, decode_tags
    dev, tags = data.conll2003("dev")[:1000], {}
    for r in ok[(ok.strategy == "gold") | (ok.trust == "relabel")].itertuples():
        st = Student(r.run_dir)
        P = st.predict_probs(dev.tokens)
        tags[f"{r.method}, {r.student}, s{r.seed}"] = {d: decode_tags(P, st.labels, d) for d in ("argmax", "viterbi")}
    d = study.decoding_table(dev.tags, tags)
    mean, runs = d.iloc[-1], d.iloc[:-1]
    return [f"Decoding, dev F1 (first 1,000 dev sentences, the kept models of the runs above): mean over the {len(runs)} runs "
            f"argmax {mean.argmax:.2f}, Viterbi {mean.viterbi:.2f} ({mean['viterbi - argmax']:+.2f}; Viterbi at least as good "
            f"on {(runs['viterbi - argmax'] >= 0).sum()} of {len(runs)}):", "", sweep.to_markdown(d), ""]


def speed_lines() -> list[str]:
    "The runtime speed paragraph and table from the measurement `speed` recorded."
    import pandas as pd
    s = json.loads(SPEED.read_text())
    best, med = ({k: f(v) for k, v in s["wps"].items()} for f in (max, statistics.median))
    sp = best[next(k for k in best if k.startswith("spaCy"))]
    key = lambda p: next(k for k in med if k.startswith(p))
    change = lambda a, b: f"{100 * (best[a] / best[b] - 1):+.1f} % (best) / {100 * (med[a] / med[b] - 1):+.1f} % (median)"
    ka = next(k for k in med if k.endswith(", argmax"))
    rows = [dict(system=k, test_F1="" if s["test_f1"].get(k) is None else f"{100 * s['test_f1'][k]:.1f}",
                 best_words_per_s=f"{best[k]:,.0f}", median=f"{med[k]:,.0f}", vs_spaCy=f"{best[k] / sp:.2f}x") for k in best]
    return [f"Runtime speed (`{s['command']}` on {s['machine']}; run alone, nothing else on the two cores, load average "
            f"{'/'.join(map(str, s.get('load_before', ['not recorded'])))} (1/5/15 min) when it started): bundles of the seed-0 "
            f"gold students, all {s['words']:,} CoNLL-2003 test words pre-tokenised, batch 32, {s['repeats']} alternating passes "
            "(each system once per round; best and median pass; the spread between passes on this shared machine is several "
            "per cent). Words/s with word shape against without, same variant: fp32 "
            f"{change(key('6 layers, shape on, fp32'), key('6 layers, shape off, fp32'))}, int8 "
            f"{change(key('6 layers, shape on, int8'), key('6 layers, shape off, int8'))}; Viterbi against argmax (the same "
            f"session): {change(ka[:-len(', argmax')], ka)}.", "", sweep.to_markdown(pd.DataFrame(rows)), ""]


def report():
    ok = study.load_sweeps(STUDY)
    ok["student"] = ok.condition.str.replace("case_features ", "word shape ")
    lines = ["## The student that sees capital letters (`bench/student.py`)", "",
             f"`python bench/student.py run` then `report`, on {machine()}; F1 figures only, no timing from training is offered "
             "here (tests shared the cores during part of the sweep). Sweep `ner-distill sweep --profile student --engine python`: "
             "the demo's setting (1,000 gold CoNLL-2003 train sentences + the 5,873 recorded gpt-3.5-labelled ones, 247 steps, "
             "lr 4e-4), each method with word shape on and off in the same sweep, 3 seeds; tags read by Viterbi under IOB2 in "
             "both. Test F1 in points, mean ± std over seeds:", "",
             sweep.to_markdown(sweep.results_table(ok)), "", f"![student study]({plot(ok, 'student')})", "",
             "Word shape on against off, method by method (paired bootstrap over test sentences pooled over seeds, per-seed "
             "differences):", "", sweep.to_markdown(sweep.condition_comparisons(ok, "case_features on", "case_features off")), ""]
    for cf in SHAPES:
        cmp = sweep.comparisons(ok[ok.condition == f"case_features {cf}"])
        if len(cmp): lines += [f"Each method against `gold` with word shape {cf}:", "", sweep.to_markdown(cmp.drop(columns=["condition"])), ""]
    e = best_all_gold_epochs()
    extra = study.runs_table([EXTRA / n for n in extra_runs(e)], ["layers", "word_shapes"])
    if len(extra):
        lines += [f"All 14,041 gold sentences for {', '.join(map(str, ALL_GOLD_EPOCHS))} epochs with word shape (the epochs chosen "
                  f"on dev: {e}), the old student at those epochs, and the 4-layer student (layers 0, 2, 3, 5 of 6, `--layers 4`) "
                  "at the sweep's setting; seed 0, the checkpoint of each run chosen on dev (4 evaluations):", "",
                  sweep.to_markdown(extra), ""]
    lines += decoding(ok) + (speed_lines() if SPEED.exists() else [])
    write_section("student", "\n".join(lines))


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "report"
    if what == "speed" and len(sys.argv) > 2: speed(int(sys.argv[2]))     # python bench/student.py speed REPEATS
    else: {"run": run, "speed": speed, "report": report}[what]()
