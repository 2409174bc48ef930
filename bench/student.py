"""The student that sees capital letters: word shape on and off in one sweep, Viterbi against argmax, all gold, the
4-layer student, and what word shape and Viterbi cost the runtime. Run it alone on an idle machine.

    python bench/student.py run       # the `student` sweep, all-gold and 4-layer runs; resumable
    python bench/student.py speed     # words/s of the bundles with and without word shape, Viterbi and argmax, spaCy
    python bench/student.py report    # the "student" section of BENCHMARKS.md
"""
import json
import os
import sys

from _common import ROOT, cli, command, machine, plot, render, train_once, write_section

from ner_distill import data, infer, runs as runfolders, speed as speedlib, study, sweep_tables

STUDY = ROOT / "runs" / "student"
EXTRA = ROOT / "runs" / "student-extra"        # all-gold and 4-layer runs, one seed
SPEED = ROOT / "runs" / "student-speed.json"
ALL_GOLD_EPOCHS = (1, 2, 3)                     # candidates for the all-gold run, chosen on dev with word shape on
SHAPES = ("on", "off")
SPACY = "spaCy en_core_web_sm (tok2vec + ner, batch 256)"


def extra_runs(epochs=None) -> dict:
    """The single runs beside the sweep, {folder name: train flags}, in training order: all gold for each candidate
    number of epochs with word shape, the old student at the epochs chosen, and the 4-layer student (gold, then
    power_decay + relabel reading the 4-layer gold run of its own word shape)."""
    def all_gold(cf, e): return ["--strategy", "gold", "--gold-size", "all", "--distilled", "none", "--epochs-gold", e, "--case-features", cf]
    runs = {f"all-gold-on-e{e}": all_gold("on", e) for e in ALL_GOLD_EPOCHS}
    if epochs: runs[f"all-gold-off-e{epochs}"] = all_gold("off", epochs)
    runs.update({f"gold-4layers-{cf}": ["--strategy", "gold", "--layers", 4, "--case-features", cf] for cf in SHAPES})
    runs.update({f"power_decay-relabel-4layers-{cf}": ["--strategy", "power_decay", "--trust", "relabel", "--layers", 4,
                                                       "--gold-run", EXTRA / f"gold-4layers-{cf}", "--case-features", cf]
                 for cf in SHAPES})
    return {k: [*v, "--dev-size", 1000] for k, v in runs.items()}


def best_all_gold_epochs():
    "The epochs of the all-gold run with word shape with the best dev F1 (None before they ran)."
    done = {e: r.metrics().dev_f1 for e in ALL_GOLD_EPOCHS if (r := runfolders.RunFolder(EXTRA / f"all-gold-on-e{e}")).status == "done"}
    return max(done, key=done.get) if len(done) == len(ALL_GOLD_EPOCHS) else None


def run():
    cli("sweep", "--profile", "student", "--engine", "python", "--out", STUDY, check=False)
    for stage in (extra_runs(), extra_runs(best_all_gold_epochs())):   # the old student at the epochs chosen for the new one
        for name, flags in stage.items(): train_once(EXTRA / name, *flags)


def speed(repeats=5):
    """Bundles of the seed-0 gold students with and without word shape (6 layers: both variants; 4 layers: the default),
    the 6-layer one with word shape also decoding by argmax, and spaCy, all in this process, in alternating passes."""
    from ner_distill.annotate.teachers import load_spacy, spacy_docs
    load_before = [round(x, 2) for x in os.getloadavg()]     # 1, 5 and 15 min: near 0 on an idle machine
    test = data.conll2003("test"); sents, n = test.tokens, test.n_tokens
    work = ROOT / "runs" / "student-bundles"
    runs = {**{f"6 layers, shape {cf}": study.run_dir(STUDY, strategy="gold", case_features=cf, seed=0) for cf in SHAPES},
            **{f"4 layers, shape {cf}": EXTRA / f"gold-4layers-{cf}" for cf in SHAPES}}
    systems, f1 = {}, {}
    for k, r in runs.items():
        if runfolders.RunFolder(r).status != "done": continue
        b, man = speedlib.export_once(r, work)
        for v in ("fp32", "int8") if k.startswith("6") else (man["default_variant"],):
            systems[f"{k}, {speedlib.variant_label(man, v)}"] = infer.Bundle(b, v).tagger
            f1[f"{k}, {speedlib.variant_label(man, v)}"] = man["variants"][v]["test_f1"]
        if k == "6 layers, shape on":     # the default variant again, decoding by argmax
            tagger = infer.Bundle(b, man["default_variant"]).tagger
            tagger.decode = "argmax"
            systems[f"{k}, {speedlib.variant_label(man, man['default_variant'])}, argmax"] = tagger
    nlp = load_spacy()
    fns = {k: (lambda x, tg=tg: tg.tag(x, 32)) for k, tg in systems.items()}
    fns[SPACY] = lambda x: list(spacy_docs(nlp, x, 256))
    res = speedlib.throughput(fns, sents, n, repeats)      # alternating: each system once per round, so drift hits all alike
    data.write_json(SPEED, dict(machine=machine(), command=command(), load_before=load_before, repeats=repeats, words=n, wps=res, test_f1=f1))
    print(json.dumps({k: round(max(v)) for k, v in res.items()}, indent=1))


def decoding(ok):
    "Dev F1 (the runs' dev scoring set, 1,000 sentences) of the gold and relabel runs' kept models read by argmax and by Viterbi."
    runs = ok[(ok.strategy == "gold") | (ok.trust == "relabel")]
    return study.decoding_by_run({f"{r.method}, {r.student}, s{r.seed}": r.run_dir for r in runs.itertuples()}, data.conll2003("dev")[:1000])


def speed_section() -> str:
    "The runtime speed paragraph and table from the measurement `speed` recorded."
    s = json.loads(SPEED.read_text())
    w, key = s["wps"], lambda p: next(k for k in s["wps"] if k.startswith(p))
    ka = next(k for k in w if k.endswith(", argmax"))
    return render("student-speed", s=s, load="/".join(map(str, s.get("load_before", ["not recorded"]))),
                  fp32=speedlib.speed_change(w, key("6 layers, shape on, fp32"), key("6 layers, shape off, fp32")),
                  int8=speedlib.speed_change(w, key("6 layers, shape on, int8"), key("6 layers, shape off, int8")),
                  viterbi=speedlib.speed_change(w, ka[:-len(", argmax")], ka),
                  table=sweep_tables.to_markdown(speedlib.speed_table(w, SPACY, s["test_f1"], "spaCy")))


def report():
    ok = study.load_sweeps(STUDY)
    ok["student"] = ok.condition.str.replace("case_features ", "word shape ")
    vs_gold = {cf: sweep_tables.comparisons(ok[ok.condition == f"case_features {cf}"]).drop(columns=["condition"], errors="ignore")
               for cf in SHAPES}
    e = best_all_gold_epochs()
    dec = decoding(ok)
    write_section("student", machine=machine(), results=sweep_tables.to_markdown(sweep_tables.results_table(ok)), figure=plot(ok, "student"),
                  on_off=sweep_tables.to_markdown(sweep_tables.condition_comparisons(ok, "case_features on", "case_features off")),
                  vs_gold_on=sweep_tables.to_markdown(vs_gold["on"]), vs_gold_off=sweep_tables.to_markdown(vs_gold["off"]),
                  epochs=", ".join(map(str, ALL_GOLD_EPOCHS)), chosen=e,
                  extra=sweep_tables.to_markdown(study.runs_table([EXTRA / n for n in extra_runs(e)], ["layers", "word_shapes"])),
                  n_dec=len(dec) - 1, dec=dec.iloc[-1], dec_ok=(dec.iloc[:-1]["viterbi - argmax"] >= 0).sum(),
                  decoding=sweep_tables.to_markdown(dec), speed=speed_section() if SPEED.exists() else "")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "report"
    if what == "speed" and len(sys.argv) > 2: speed(int(sys.argv[2]))     # python bench/student.py speed REPEATS
    else: {"run": run, "speed": speed, "report": report}[what]()
