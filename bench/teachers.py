"""Label quality and speed of the offline teachers against CoNLL-2003 gold, through `annotate` (what `ner-distill
annotate` runs): `recorded`, the shipped gpt-3.5 labels replayed over CoNLL-2003 train; `spacy`, en_core_web_sm 3.8
with OntoNotes types mapped, on the whole CoNLL-2003 test set.

    python bench/teachers.py
"""
from _common import ROOT, command, machine, write_section
from ner_distill import study, sweep_tables
from ner_distill.annotate.run import annotate

reports, speed = {}, []
for teacher, source in (("recorded", "conll-train"), ("spacy", "conll-test")):
    r = annotate(source, teacher, out=str(ROOT / "runs" / "teachers" / f"{teacher}-{source}"), progress=False)
    reports[f"`{teacher}` on {source}"] = r["quality"]
    speed.append(f"{r['parse']['sentences_per_s']:,.0f}")
table = study.label_quality(reports, ("PER", "ORG", "LOC", "MISC"), detail=True).drop(columns="seeds").assign(**{"sentences/s (recorded: a replay)": speed})
print(write_section("teachers", head=f"`{command()}` on {machine()}", table=sweep_tables.to_markdown(table)))
