"""Label quality and speed of the offline teachers, against CoNLL-2003 gold, through
`ner_distill.annotate.annotate` (what `ner-distill annotate` runs):

- `recorded`: the shipped gpt-3.5 labels replayed over CoNLL-2003 train (5,873 labelled sentences);
- `spacy`: en_core_web_sm 3.8 with OntoNotes types mapped, on the whole CoNLL-2003 test set.

    python bench/teachers.py
"""
import time

from _common import ROOT, command, machine, write_section
from ner_distill.annotate.run import annotate

rows = []
for teacher, source in (("recorded", "conll-train"), ("spacy", "conll-test")):
    t0 = time.time()
    r = annotate(source, teacher, out=str(ROOT / "runs" / "teachers" / f"{teacher}-{source}"), progress=False)
    q, p = r["quality"], r["parse"]
    rows.append(f"| `{teacher}` | {source} | {q['sentences']:,} | {q['precision']:.3f} | {q['recall']:.3f} | **{q['f1']:.3f}** | "
                + " / ".join(f"{q['per_type'][t]['f1']:.3f}" for t in ("PER", "ORG", "LOC", "MISC"))
                + f" | {q['errors'].get('type_error', 0):,} / {q['errors'].get('boundary_error', 0):,} | "
                + (f"{p['sentences_per_s']:,.0f}" if teacher == "spacy" else "replay") + " |")
    print(rows[-1])
write_section("teachers", f"""## Offline teachers against gold (`bench/teachers.py`)

`{command()}` on {machine()}. seqeval entity-level scores of the teacher's labels against CoNLL-2003 gold.

| teacher | source | sentences | precision | recall | F1 | F1 PER / ORG / LOC / MISC | type / boundary errors | sentences/s |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

The recorded labels reproduce their published F1 (0.554); spaCy's small English model, types mapped,
lands near the 59.5 measured for it on the pre-tokenised CoNLL-2003 test set.""")
