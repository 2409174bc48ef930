"""The runtime's word splitter (`infer.split_words`): spaCy's English tokenizer ported without spaCy, its
rules read from `en_word_rules.json`; hyphenated words split (spaCy) or kept whole (CoNLL-2003)."""
import json
import re
import shutil
import subprocess
import sys
import textwrap
from difflib import SequenceMatcher

import pytest

from ner_distill import data, infer


def words(text, **kw):
    ws = infer.split_words(text, **kw)
    assert all(text[a:b] == w for w, a, b in ws), ws                  # offsets always point back into the text
    return [w for w, _, _ in ws]


@pytest.fixture(scope="module")
def spacy_tok():
    import spacy
    return spacy.blank("en").tokenizer


def spacy_words(tok, text):
    return [t.text for t in tok(text) if not t.is_space]


@pytest.mark.parametrize("text, want", [
    ("Labour's plan", ["Labour", "'s", "plan"]),
    ("Clark's", ["Clark", "'s"]),
    ("He's here", ["He", "'s", "here"]),
    ("don't", ["do", "n't"]),
    ("Don't!", ["Do", "n't", "!"]),
    ("can't", ["ca", "n't"]),
    ("I'm sure they'll", ["I", "'m", "sure", "they", "'ll"]),
    ("the players' union", ["the", "players", "'", "union"]),
    ("Labour’s", ["Labour", "’s"]),                                  # a typographic apostrophe too
])
def test_clitics(text, want):
    assert words(text) == want


@pytest.mark.parametrize("text, want", [
    ("3,000 jobs", ["3,000", "jobs"]),
    ("$5.50", ["$", "5.50"]),
    ("£1.2bn", ["£", "1.2bn"]),
    ("up 4.5%.", ["up", "4.5", "%", "."]),
    ("at 10am", ["at", "10", "am"]),
    ("(1,200)", ["(", "1,200", ")"]),
])
def test_numbers(text, want):
    assert words(text) == want


@pytest.mark.parametrize("text, want", [
    ("the U.S. economy", ["the", "U.S.", "economy"]),
    ("in the U.S.", ["in", "the", "U.S."]),
    ("Mr. Blair and Dr. Reid", ["Mr.", "Blair", "and", "Dr.", "Reid"]),
    ("Mr Blair.", ["Mr", "Blair", "."]),
    ("e.g. this", ["e.g.", "this"]),
])
def test_abbreviations(text, want):
    assert words(text) == want


@pytest.mark.parametrize("text, want", [
    ("See http://news.bbc.co.uk/1/hi/4063567.stm.", ["See", "http://news.bbc.co.uk/1/hi/4063567.stm", "."]),
    ("at www.bbc.co.uk/news,", ["at", "www.bbc.co.uk/news", ","]),
    ("mail bob.smith@example.com!", ["mail", "bob.smith@example.com", "!"]),
    ("(see bbc.co.uk)", ["(", "see", "bbc.co.uk", ")"]),
])
def test_urls_and_emails(text, want):
    assert words(text) == want


@pytest.mark.parametrize("text, want", [
    ('"It is over," he said.', ['"', "It", "is", "over", ",", '"', "he", "said", "."]),
    ("“Quoted” words", ["“", "Quoted", "”", "words"]),
    ("'single' quotes", ["'", "single", "'", "quotes"]),
    ("(the BBC) [sic] {x}", ["(", "the", "BBC", ")", "[", "sic", "]", "{", "x", "}"]),
    ("wait... what?!", ["wait", "...", "what", "?", "!"]),
    ("Yes:no;maybe", ["Yes", ":", "no;maybe"]),
])
def test_quotes_brackets_punctuation(text, want, spacy_tok):
    assert words(text) == want == spacy_words(spacy_tok, text)


@pytest.mark.parametrize("text", [
    "EU\trejects  German\n\ncall ,\r\nsays\u00a0U.S.\u2009officials\u3000here.",
    "  leading and trailing  \n",
    "\u00a0\u00a0",
    "",
    "tab\tseparated\tvalues\tand\u2028line\u2029separators\x0bvt\x0cff\x1cfs",
])
def test_exact_offsets_on_odd_whitespace(text, spacy_tok):
    for mode in infer.HYPHENS:
        ws = infer.split_words(text, hyphens=mode)
        assert all(text[a:b] == w for w, a, b in ws)
        assert all(not w.isspace() and w.strip() == w for w, _, _ in ws)           # no word is or holds whitespace
        assert "".join(w for w, _, _ in ws) == re.sub(r"\s+", "", text)            # every other character, once, in order
    assert [w for w, _, _ in infer.split_words(text, hyphens="split")] == spacy_words(spacy_tok, text)


def test_hyphen_conventions(spacy_tok):
    text = "A pro-European, well-known MP won 2-1 on 1996-08-22 -- or so -based U.K.-based."
    split = words(text, hyphens="split")
    assert split == spacy_words(spacy_tok, text)
    assert split[:8] == ["A", "pro", "-", "European", ",", "well", "-", "known"]
    keep = words(text, hyphens="keep")
    assert keep == ["A", "pro-European", ",", "well-known", "MP", "won", "2-1", "on", "1996-08-22", "--", "or", "so",
                    "-based", "U.K.-based", "."]
    assert words(text) == keep                                       # the default: CoNLL-2003's convention
    assert infer.DEFAULT_HYPHENS == "keep"
    with pytest.raises(ValueError, match="hyphens"):
        infer.split_words(text, hyphens="join")


def test_whole_chunk_specials_and_retokenised_specials(spacy_tok):
    for text in ["x:)", "(:", "<3", "'em", "o'clock", "rock'n'roll", "10a.m.", "Dr.No", "(U.S.)", "'s", "y'all",
                 "gonna", "Let's", "ain't", "'Cause", ":-)", "U.S.A.", "a.m.,", "No.1"]:
        for t in (text, f"({text})", f'"{text},"', f"x{text}"):
            assert words(t, hyphens="split") == spacy_words(spacy_tok, t), t


def test_cache_gives_the_same_words():
    s = infer.WordSplitter(json.loads(infer.word_rules_path().read_text(encoding="utf-8")), "split", cache_size=3)
    text = "Labour's 3,000 pro-European U.S. officials (and Mr. Blair) said so. " * 3
    first = s(text)
    assert s(text) == first and len(s._cache) <= 3
    assert [w for w, _, _ in first] == words(text, hyphens="split")


@pytest.fixture(scope="module")
def bbc_paragraphs():
    arts = data.bbc()[::7][:60]                                      # articles from every category
    paras = [q.strip() for a in arts for q in [a.title, *re.split(r"\n\s*\n", a.text)] if q.strip()]
    return paras[:400]


def test_agrees_with_spacy_on_bbc(bbc_paragraphs, spacy_tok):
    "At least 99.5 % of spaCy's words on a few hundred BBC paragraphs, aligned paragraph by paragraph."
    total = matched = 0
    for p in bbc_paragraphs:
        sp, ours = spacy_words(spacy_tok, p), words(p, hyphens="split")
        total += len(sp)
        matched += sum(b.size for b in SequenceMatcher(None, sp, ours, autojunk=False).get_matching_blocks())
    assert len(bbc_paragraphs) >= 300 and total > 10_000
    assert matched / total >= 0.995, f"{matched / total:.4f}"


def test_keep_differs_from_spacy_only_at_hyphens(bbc_paragraphs, spacy_tok):
    for p in bbc_paragraphs:
        sp, ours = spacy_words(spacy_tok, p), words(p, hyphens="keep")
        for op, i1, i2, j1, j2 in SequenceMatcher(None, sp, ours, autojunk=False).get_opcodes():
            if op != "equal":
                assert "".join(sp[i1:i2]) == "".join(ours[j1:j2]) and all("-" in w for w in ours[j1:j2]), (sp[i1:i2], ours[j1:j2])


def test_bbc_sentences_are_the_runtime_words():
    "Training sentences hold exactly the runtime's words of each paragraph, cut into sentences."
    for a in data.bbc()[::300]:
        paras = [a.title, *re.split(r"\n\s*\n", a.text)]
        want = [w for q in paras for w, _, _ in infer.split_words(q.strip())]
        sents = list(data._article_sentences(a))
        assert len(sents) > 1 and [w for s in sents for w in s] == want
    s = data.bbc_sentences(200, seed=3)
    assert any(re.fullmatch(r"\w+-\w+", w) for x in s for w in x.tokens)     # hyphenated words kept whole


def test_runtime_finds_its_table_beside_it_alone(tmp_path):
    "A bundle's runtime: infer.py copied with the table into an empty folder, imported from elsewhere in isolated mode."
    folder = tmp_path / "bundle"
    folder.mkdir()
    shutil.copy(infer.__file__, folder / "ner_distill_infer.py")
    shutil.copy(infer.word_rules_path(), folder / infer.WORD_RULES)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(folder)!r})
        import ner_distill_infer as rt
        assert 'ner_distill' not in sys.modules
        print(rt.word_rules_path())
        print(rt.split_words("Labour's 3,000 pro-European MPs don't agree."))
    """)
    r = subprocess.run([sys.executable, "-I", "-c", code], cwd=elsewhere, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    path, ws = r.stdout.strip().splitlines()
    assert path == str(folder / infer.WORD_RULES)
    assert [w for w, *_ in eval(ws)] == ["Labour", "'s", "3,000", "pro-European", "MPs", "do", "n't", "agree", "."]
    (folder / infer.WORD_RULES).unlink()                                # without it: a clear error, not a silent fallback
    r = subprocess.run([sys.executable, "-I", "-c", code], cwd=elsewhere, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and infer.WORD_RULES in r.stderr


def test_rules_table_names_its_source():
    rules = json.loads(infer.word_rules_path().read_text(encoding="utf-8"))
    assert "MIT" in rules["about"] and "spaCy" in rules["about"]
    for s, pieces in rules["special"].items():
        assert "".join(pieces) == s
    assert infer.splitter_version().startswith(f"words{infer.SPLITTER_VERSION}-{infer.DEFAULT_HYPHENS}-")
