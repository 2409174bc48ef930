# Two commands on a fresh machine: `make test` and `make demo`. Each builds .venv when it is missing
# or when settings.ini/setup.py changed, installing torch==2.13.0 first (the CPU wheel on disk: a plain
# `torch` would pull a multi-GB CUDA build), then the pinned package with its dev extras.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ner-distill-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONHASHSEED := 0

.PHONY: install test export-check nbtest pytest demo lab clean-nbs

install: $(STAMP)

$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "torch==2.13.0"
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[dev]"
	touch $@

# The package is generated from the notebooks: exporting must change nothing that is committed.
export-check: $(STAMP)
	@rm -rf /tmp/ner-distill-export-check && cp -r ner_distill /tmp/ner-distill-export-check
	$(BIN)/nbdev_export
	@if ! diff -r -x __pycache__ /tmp/ner-distill-export-check ner_distill; then \
	  echo "nbdev_export changed ner_distill/: edit the notebooks, export, and commit both." >&2; exit 1; fi

nbtest: $(STAMP)
	$(BIN)/nbdev_test --do_print --timing

pytest: $(STAMP)
	$(BIN)/python -m pytest -q tests/

test: export-check nbtest pytest

demo: $(STAMP)
	$(BIN)/ner-distill data stats

lab: $(STAMP)
	$(BIN)/jupyter lab --ip 127.0.0.1 --no-browser --allow-root --notebook-dir nbs

clean-nbs: $(STAMP)
	$(BIN)/nbdev_clean
