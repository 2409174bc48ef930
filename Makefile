# Two commands on a fresh machine: `make test` and `make demo`. Each builds .venv when it is missing
# or when settings.ini/setup.py changed, installing torch==2.13.0 first (the CPU wheel on disk: a plain
# `torch` would pull a multi-GB CUDA build), then the pinned package with its dev extras.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ner-distill-installed
DOCS_STAMP := $(VENV)/.ner-distill-docs-installed
# JupyterLab settings of this venv only (never ~/.jupyter): no "get notified about official Jupyter news?" prompt
# and no update check, so `make lab` opens without reaching for the network.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONHASHSEED := 0

.PHONY: install test test-fast export-check nbtest nbtest-fast pytest pytest-fast demo lab clean-nbs lock-runtime word-rules docs docs-test llm-env

install: $(STAMP) $(LAB_OVERRIDES)

$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "torch==2.13.0"
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[dev]"
	touch $@

# A file target of its own, so that a venv installed before it existed gets it too; rewriting it changes nothing.
$(LAB_OVERRIDES): Makefile | $(STAMP)
	mkdir -p $(@D)
	echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > $@

# The package is generated from the notebooks: exporting must change nothing that is committed.
export-check: $(STAMP)
	@rm -rf /tmp/ner-distill-export-check && cp -r ner_distill /tmp/ner-distill-export-check
	$(BIN)/nbdev_export
	@if ! diff -r -x __pycache__ /tmp/ner-distill-export-check ner_distill; then \
	  echo "nbdev_export changed ner_distill/: edit the notebooks, export, and commit both." >&2; exit 1; fi

# Every cell of every notebook, `#| slow` ones included (training, export), by nbdev's runner. Not part of `make test`:
# there tests/test_notebooks.py already runs each notebook once, every cell, as JupyterLab's Run All does.
nbtest: $(STAMP)
	$(BIN)/nbdev_test --do_print --timing --flags slow

# Every test, the slow ones included (they train, export, run a notebook or start a server); the 30 slowest are listed.
# Two workers (pytest-xdist), one per core, each with one thread (OMP_NUM_THREADS=1, inherited by the training
# subprocesses and notebook kernels it starts): most tests wait on a subprocess, a kernel or a server part of the time.
# tests/docs/ (the site and the quick start) run in `make docs-test`, not here.
pytest: $(STAMP) $(LAB_OVERRIDES)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=30 --ignore=tests/docs tests/

# Each notebook runs once (about 10 minutes on 2 cores).
test: export-check pytest

# Quick checks while editing (a few minutes): notebooks without their `#| slow` cells, tests not marked slow.
nbtest-fast: $(STAMP)
	$(BIN)/nbdev_test --timing

pytest-fast: $(STAMP) $(LAB_OVERRIDES)
	$(BIN)/python -m pytest -q -m "not slow" --durations=10 --ignore=tests/docs tests/

test-fast: export-check nbtest-fast pytest-fast

# The main job on the embedded default (about 15 minutes on 2 cores from a fresh clone; safe to rerun: finished
# runs are skipped): data -> spaCy labels for a BBC sample (the annotation step) -> the `demo` sweep: the student
# (MiniLM-L6) on 1,000 gold sentences alone, and the same student taught by a teacher five times its size (mpnet,
# trained on the same gold; its per-word distributions over the other 13,041 train sentences, recorded by
# `ner-distill record-targets` and shipped in the package; concat, T = 2), both to their dev plateau within 600 steps -> report -> bundle of the
# best student by dev F1, its test F1 on the full CoNLL-2003 test -> two sentences labelled by the bundle.
DEMO ?= runs/demo
EXPORT ?= export
demo: $(STAMP)
	$(BIN)/ner-distill data stats
	$(BIN)/ner-distill annotate --source bbc --limit 300 --teacher spacy --quiet --out $(DEMO)/bbc-spacy
	$(BIN)/ner-distill sweep --profile demo --quiet --out $(DEMO)/sweep
	test -f $(EXPORT)/demo/manifest.json || $(BIN)/ner-distill export --run $(DEMO)/sweep --name demo --out $(EXPORT)
	printf 'Peter Blackburn met European Commission officials in Brussels on Monday.\nShares in Time Warner rose 2%% in New York after the AOL deal.\n' \
	  | $(BIN)/python $(EXPORT)/demo/ner_distill_infer.py --bundle $(EXPORT)/demo
	@$(BIN)/python -c "import json; from ner_distill import infer; m = json.load(open('$(EXPORT)/demo/manifest.json')); v, why = infer.bundle_variant(m, None); \
	  print(f\"\nbundle $(EXPORT)/demo/: the best demo student by dev F1 ({m['source_run']}); this CPU ({infer.cpu_class()}) loads {v}: test F1 {100 * m['variants'][v]['test_f1']:.1f} ({m['evaluated_on']}); {why}\")"
	@$(BIN)/python -c "from pathlib import Path; from ner_distill import runs; R = lambda g: next(runs.RunFolder(p) for p in sorted(Path('$(DEMO)/sweep/runs').glob(g))); \
	  g, d = R('gold-*').metrics(), R('*-teacher*'); m = d.metrics(); \
	  print(f'the taught student learned from {d.config().teacher} (all-mpnet-base-v2 on the same 1,000 gold, T = {d.config().temperature}): ' \
	        f'{100 * (m.dev_f1 - g.dev_f1):+.1f} F1 on dev and {100 * (m.test_f1 - g.test_f1):+.1f} on test over the gold-only student ({100 * g.dev_f1:.1f} / {100 * g.test_f1:.1f})')"
	@echo "report: $(DEMO)/sweep/report.html"; echo "bundle: $(EXPORT)/demo/ (archive $(EXPORT)/demo.tar.gz)"

# The documentation site, offline, into build/site/ (open build/site/index.html): README.md, docs/, BENCHMARKS.md, the
# notebooks with their outputs (from `make test`'s run when current, else executed now; the five slow ones without),
# the command line page generated from the parsers. Builds only when a source changed. Needs the docs extra.
$(DOCS_STAMP): settings.ini setup.py | $(STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[dev,docs]"
	touch $@

docs: $(DOCS_STAMP)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python tools/docs.py build

# The site read as a reader would, in headless Chromium (Debian's /usr/bin/chromium; `.ci/run` installs it), and the
# README's quick start run as written on a tiny dataset.
CHROMIUM ?= /usr/bin/chromium
docs-test: docs
	@test -x $(CHROMIUM) || { echo "docs-test needs Chromium at $(CHROMIUM): apt-get install chromium (or CHROMIUM=/path/to/it)" >&2; exit 1; }
	NER_DISTILL_CHROMIUM=$(CHROMIUM) OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -q --durations=10 tests/docs/

lab: $(STAMP) $(LAB_OVERRIDES)
	@token=$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(16))'); \
	echo "JupyterLab: http://127.0.0.1:8888/lab?token=$$token"; \
	$(BIN)/jupyter lab --ip 127.0.0.1 --port 8888 --no-browser --allow-root --IdentityProvider.token=$$token --notebook-dir nbs

clean-nbs: $(STAMP)
	$(BIN)/nbdev_clean

# The bundle runtime's wheels (exact files, sha256, licences, per target platform) are locked in
# ner_distill/resources/runtime-lock.json; exports read it. Update it only on purpose, with this target.
lock-runtime: $(STAMP)
	$(BIN)/python -c "from ner_distill.wheelhouse import lock_runtime; lock = lock_runtime(); print({t: [w['file'] for w in ws] for t, ws in lock['targets'].items()})"

# The runtime's word splitter ports spaCy's English tokenizer; its rules (affix regexes, URL pattern, special
# cases) are generated from the installed spaCy into ner_distill/resources/en_word_rules.json and checked
# against it. Rerun after a spaCy upgrade, then bench/word_split.py.
word-rules: $(STAMP)
	$(BIN)/python tools/gen_word_rules.py

# The local LLM's server (`ner-distill llm serve`): llama-cpp-python[server] in its own environment, .venv-llm, compiled
# from source (about 10 minutes on 2 cores), with the vector extensions this CPU reports named one by one and AMX off
# (`local_llm.cmake_cpu_args`): -march=native turns AMX on wherever a CPU reports it, and a virtual machine that reports
# AMX without granting it kills the server at its first matrix product (SIGILL).
LLAMA_CPP_PYTHON := 0.3.36
llm-env: $(STAMP)
	test -x .venv-llm/bin/python || $(PYTHON) -m venv .venv-llm
	CMAKE_ARGS="$$($(BIN)/python -c 'from ner_distill.annotate.local_llm import cmake_cpu_args; print(" ".join(cmake_cpu_args()))')" \
		.venv-llm/bin/python -m pip install -q "llama-cpp-python[server]==$(LLAMA_CPP_PYTHON)"
