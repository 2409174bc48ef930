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
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, command, machine, write_section

from ner_distill import data, infer, metrics, sweep
from ner_distill.student import Student, decode_tags

STUDY = ROOT / "runs" / "student"
EXTRA = ROOT / "runs" / "student-extra"        # all-gold and 4-layer runs, one seed
SPEED = ROOT / "runs" / "student-speed.json"
env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
ALL_GOLD_EPOCHS = (1, 2, 3)                     # candidates for the all-gold run, chosen on dev with word shape on
FOUR_LAYERS = {f"gold-4layers-{cf}": ["--strategy", "gold", "--layers", "4", "--case-features", cf, "--dev-size", "1000"]
               for cf in ("on", "off")}


def all_gold_flags(cf, epochs):
    return ["--strategy", "gold", "--gold-size", "all", "--distilled", "none", "--epochs-gold", str(epochs),
            "--case-features", cf, "--dev-size", "1000"]


def best_all_gold_epochs():
    "The epochs of the all-gold run with word shape with the best dev F1 (None before they ran)."
    done = {e: json.loads(p.read_text())["dev"]["f1"] for e in ALL_GOLD_EPOCHS
            if (p := EXTRA / f"all-gold-on-e{e}" / "metrics.json").exists()}
    return max(done, key=done.get) if len(done) == len(ALL_GOLD_EPOCHS) else None


def train(name, flags):
    EXTRA.mkdir(parents=True, exist_ok=True)
    out = EXTRA / name
    if not (out / "metrics.json").exists():
        subprocess.run([sys.executable, "-m", "ner_distill.cli", "train", *flags, "--out", str(out)], env=env, check=True,
                       stdout=open(EXTRA / f"{name}.log", "w"), stderr=subprocess.STDOUT)
    return out


def run():
    subprocess.run([sys.executable, "-m", "ner_distill.cli", "sweep", "--profile", "student", "--engine", "python", "--out", str(STUDY)],
                   env=env, check=False)
    for e in ALL_GOLD_EPOCHS: train(f"all-gold-on-e{e}", all_gold_flags("on", e))
    e = best_all_gold_epochs()
    train(f"all-gold-off-e{e}", all_gold_flags("off", e))      # the old student at the epochs chosen for the new one
    for name, flags in FOUR_LAYERS.items(): train(name, flags)
    for cf in ("on", "off"):   # the 4-layer power_decay + relabel reads the 4-layer gold run of its student
        train(f"power_decay-relabel-4layers-{cf}", ["--strategy", "power_decay", "--trust", "relabel", "--layers", "4",
                                                     "--trust-student", str(EXTRA / f"gold-4layers-{cf}"), "--case-features", cf,
                                                     "--dev-size", "1000"])


def wps(fn, sents, n, repeats):
    "Words/s of each pass."
    out = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(sents); out.append(n / (time.perf_counter() - t))
    return out


def speed(repeats=5):
    """Bundles of the seed-0 gold students with and without word shape (6 layers: both variants; 4 layers: the default),
    the 6-layer one with word shape also decoding by argmax, and spaCy, all in this process, in alternating passes."""
    from ner_distill.annotate import load_spacy, spacy_docs
    from ner_distill.export import export_bundle
    load_before = [round(x, 2) for x in os.getloadavg()]     # 1, 5 and 15 min: near 0 on an idle machine
    test = data.conll2003("test"); sents, n = test.tokens, test.n_tokens
    work = ROOT / "runs" / "student-bundles"
    runs = {"6 layers, shape on": STUDY / "runs" / "gold-case_featureson-g1000-s0", "6 layers, shape off": STUDY / "runs" / "gold-case_featuresoff-g1000-s0",
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


def decode_rows(runs):
    "Dev F1 (the runs' full dev scoring set, 1,000 sentences) of each run's kept model, tags read by argmax and by Viterbi."
    dev = data.conll2003("dev")[:1000]
    rows = []
    for name, r in runs:
        st = Student(r)
        P = st.predict_probs(dev.tokens)
        rows.append(dict(run=name, argmax=metrics.scores(dev.tags, decode_tags(P, st.labels, "argmax"))["f1"],
                         viterbi=metrics.scores(dev.tags, decode_tags(P, st.labels, "viterbi"))["f1"]))
    return rows


def report():
    import pandas as pd
    ok, _ = sweep.load_runs(STUDY)
    ok["student"] = ok["condition"].str.replace("case_features ", "word shape ")
    lines = [f"## The student that sees capital letters (`bench/student.py`)", "",
             f"`python bench/student.py run` then `report`, on {machine()}; F1 figures only, "
             "no timing from training is offered here (tests shared the cores during part of the sweep). Sweep `ner-distill sweep "
             "--profile student --engine python`: the demo's setting (1,000 gold CoNLL-2003 train sentences + the 5,873 recorded "
             "gpt-3.5-labelled ones, 247 steps, lr 4e-4), each method with word shape on and off in the same sweep, 3 seeds; "
             "tags read by Viterbi under IOB2 in both. Test F1 in points, mean ± std over seeds:", "",
             sweep.to_markdown(sweep.results_table(ok)), "", "![student study](bench/results/student.png)", ""]
    import matplotlib
    matplotlib.use("Agg")
    sweep.plot_results(ok, "test_f1").savefig(ROOT / "bench" / "results" / "student.png", dpi=110)
    rows = sweep.condition_comparisons(ok, "case_features on", "case_features off")
    lines += ["Word shape on against off, method by method (paired bootstrap over test sentences pooled over seeds, per-seed "
              "differences):", "", sweep.to_markdown(rows), ""]
    for cf in ("on", "off"):
        cmp = sweep.comparisons(ok[ok.condition.str.endswith(cf)])
        if len(cmp): lines += [f"Each method against `gold` with word shape {cf}:", "", sweep.to_markdown(cmp.drop(columns=["condition"])), ""]
    extra = []
    e = best_all_gold_epochs()
    names = [f"all-gold-on-e{x}" for x in ALL_GOLD_EPOCHS] + [f"all-gold-off-e{e}", *FOUR_LAYERS,
             "power_decay-relabel-4layers-on", "power_decay-relabel-4layers-off"]
    for name in names:
        p = EXTRA / name / "metrics.json"
        if not p.exists(): continue
        m, cfg = json.loads(p.read_text()), json.loads((EXTRA / name / "config.json").read_text())
        extra.append(dict(run=name, steps=m["steps"], layers=cfg.get("layers") or 6, word_shape=cfg.get("word_shapes"),
                          dev_F1=round(100 * m["dev"]["f1"], 1), test_F1=round(100 * m["test"]["f1"], 1)))
    if extra:
        lines += [f"All 14,041 gold sentences for {', '.join(map(str, ALL_GOLD_EPOCHS))} epochs with word shape (the epochs chosen "
                  f"on dev: {e}), the old student at those epochs, and the 4-layer student (layers 0, 2, 3, 5 of 6, `--layers 4`) "
                  "at the sweep's setting; seed 0, the checkpoint of each run chosen on dev (4 evaluations):", "",
                  sweep.to_markdown(pd.DataFrame(extra)), ""]
    dec = decode_rows([(f"{r.method}, {r.student}, s{r.seed}", r.run_dir) for r in ok.itertuples()
                       if r.strategy == "gold" or r.trust == "relabel"])
    d = pd.DataFrame(dec)
    for c in ("argmax", "viterbi"): d[c] = (100 * d[c]).round(2)
    d["viterbi - argmax"] = (d.viterbi - d.argmax).round(2)
    lines += [f"Decoding, dev F1 (first 1,000 dev sentences, the kept models of the runs above): mean over the {len(d)} runs "
              f"argmax {d.argmax.mean():.2f}, Viterbi {d.viterbi.mean():.2f} ({(d.viterbi - d.argmax).mean():+.2f}; "
              f"Viterbi at least as good on {(d.viterbi >= d.argmax).sum()} of {len(d)}):", "", sweep.to_markdown(d), ""]
    if SPEED.exists():
        s = json.loads(SPEED.read_text())
        sp_key = next(k for k in s["wps"] if k.startswith("spaCy"))
        sp = max(s["wps"][sp_key])
        med = {k: statistics.median(v) for k, v in s["wps"].items()}
        rows = [dict(system=k, test_F1="" if s["test_f1"].get(k) is None else f"{100 * s['test_f1'][k]:.1f}",
                     best_words_per_s=f"{max(v):,.0f}", median=f"{med[k]:,.0f}", vs_spaCy=f"{max(v) / sp:.2f}x")
                for k, v in s["wps"].items()]
        best = {k: max(v) for k, v in s["wps"].items()}
        def change(a, b):   # words/s of system a against system b, in % (negative: a is slower), best and median passes
            return f"{100 * (best[a] / best[b] - 1):+.1f} % (best) / {100 * (med[a] / med[b] - 1):+.1f} % (median)"
        key = lambda p: next(k for k in med if k.startswith(p))
        ka = next(k for k in med if k.endswith(", argmax"))
        lines += [f"Runtime speed (`{s['command']}` on {s['machine']}; run alone, nothing else on the two cores, load average "
                  f"{'/'.join(map(str, s.get('load_before', ['not recorded'])))} (1/5/15 min) when it started): bundles of the "
                  f"seed-0 gold students, all {s['words']:,} CoNLL-2003 test words pre-tokenised, batch 32, {s['repeats']} "
                  "alternating passes (each system once per round; best and median pass; the spread between passes on this "
                  "shared machine is several per cent). Words/s with word shape against without, same variant: fp32 "
                  f"{change(key('6 layers, shape on, fp32'), key('6 layers, shape off, fp32'))}, int8 "
                  f"{change(key('6 layers, shape on, int8'), key('6 layers, shape off, int8'))}; Viterbi against argmax "
                  f"(the same session): {change(ka[:-len(', argmax')], ka)}.", "",
                  sweep.to_markdown(pd.DataFrame(rows)), ""]
    write_section("student", "\n".join(lines))


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "report"
    if what == "speed" and len(sys.argv) > 2: speed(int(sys.argv[2]))     # python bench/student.py speed REPEATS
    else: {"run": run, "speed": speed, "report": report}[what]()
