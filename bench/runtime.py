"""The runtime on the CPU at hand: per variant of the distilled student's bundle, batch invariance over all CoNLL-2003
test sentences, dev and test F1, words/s against spaCy en_core_web_sm at its best (n_process 1 and 2) in the same
alternating passes, the share of the int8 matrix-multiply ceiling, where the default variant's time goes, and what
the runtime's choice at first load measured. Run it ALONE on an idle machine (it waits for a load average under 0.5).

    python bench/runtime.py [--run runs/distill/s0/concat-T2-long]
"""
import argparse
import json
import os
import time

import pandas as pd

from _common import ROOT, command, machine, write_section
from ner_distill import data, infer, speed, sweep_tables
from ner_distill.annotate.teachers import load_spacy
from ner_distill.export import export_bundle
from ner_distill.runs import RunFolder

OUT = ROOT / "runs" / "runtime"
VARIANTS = ("int8", "int8-reduced", "int8-dynamic")      # made and shipped beside fp32

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--run", default=str(ROOT / "runs" / "distill" / "s0" / "concat-T2-long"))
p.add_argument("--rounds", type=int, default=3)
a = p.parse_args()
bundle = OUT / "bundle"
if not (bundle / "manifest.json").exists():
    export_bundle(a.run, OUT, "bundle", wheelhouse=False, pack=False, candidates=VARIANTS, ship=VARIANTS)
man = json.loads((bundle / "manifest.json").read_text())
waited = time.time()
while os.getloadavg()[0] >= 0.5 and time.time() - waited < 600: time.sleep(10)
load_before, t_start = os.getloadavg(), time.time()
test = data.conll2003("test")
sents, n = test.tokens, test.n_tokens
taggers = {v: infer.Bundle(bundle, v, threads=2, choose=False).tagger for v in ("fp32", *VARIANTS)}

# the runtime's own choice at first load, timed as a user's first load times it (no cache)
t = time.perf_counter(); choice = infer.choose_here(bundle, man, threads=2, cache=False); choice_s = time.perf_counter() - t

# speed: every variant and spaCy at n_process 1 and 2, the same sentences, alternating passes in one process
from spacy.tokens import Doc
nlp = load_spacy()
docs = lambda xs: (Doc(nlp.vocab, words=list(s)) for s in xs)
systems = {f"spaCy en_core_web_sm, n_process {k}": (lambda xs, k=k: list(nlp.pipe(docs(xs), batch_size=256, n_process=k))) for k in (1, 2)}
systems.update({v: (lambda xs, tg=tg: tg.tag(xs, 32)) for v, tg in taggers.items()})
wps = infer.throughput(systems, sents, n, a.rounds)
best = {k: max(v) for k, v in wps.items()}
spacy_best = max((k for k in best if k.startswith("spaCy")), key=best.get)

ceiling = speed.matmul_ceiling(1024, threads=2)
config = RunFolder(a.run).model_config()
rows = speed.variant_rows(man, taggers, wps, sents, config, ceiling, spacy_best, "int8-dynamic")
for k in best:
    if k.startswith("spaCy"): rows.append({"variant": k, "words/s": f"{best[k]:,.0f}", "vs spaCy": f"{best[k] / best[spacy_best]:.2f}x"})
prof = speed.op_profile(taggers[man["default_variant"]], sents)
outside = prof["where"] == "outside the model"
prof = pd.concat([prof[~outside].head(11), prof[outside]]).assign(seconds=lambda d: d.seconds.map("{:.2f}".format),
                                                                   share=lambda d: d.share.map("{:.1%}".format))
(OUT / "runtime.json").write_text(json.dumps(dict(words_per_s=wps, choice=choice, choice_s=choice_s, ceiling=ceiling,
                                                  load_before=load_before, machine=machine()), indent=1))
print(write_section("runtime", head=f"`{command()}` on {machine()}", minutes=(time.time() - t_start) / 60,
                    load=f"{load_before[0]:.2f}", rounds=a.rounds, n_words=n, run=os.path.relpath(a.run, ROOT),
                    ceiling=f"{ceiling['fp32']:,.0f} GFLOP/s fp32, {ceiling['int8']:,.0f} GFLOP/s int8",
                    spacy_best=spacy_best, table=sweep_tables.to_markdown(pd.DataFrame(rows).fillna("")),
                    profile=sweep_tables.to_markdown(prof), default=man["default_variant"],
                    choice=f"`{choice['variant']}` in {choice_s:.1f} s: {choice['reason']}"))
