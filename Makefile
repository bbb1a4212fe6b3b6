# SAR Change Toolkit: `make demo`, `make test`. Uses Debian's /usr/bin/python3 (it has qgis and osgeo).
PY := /usr/bin/python3
VENV := .venv
PLUGIN := sar_change
VERSION := $(shell sed -n 's/^version=//p' metadata.txt)

.PHONY: deps demo test test-core test-qgis lint format package screenshots model clean

deps:
	bash scripts/install_deps.sh

demo: deps
	bash scripts/demo.sh demo-output

test: deps lint
	$(PY) -m pytest -ra tests

test-core: deps
	$(PY) -m pytest -ra -p no:cacheprovider tests/unit

test-qgis: deps
	$(PY) -m pytest -ra tests/qgis

# ruff from PyPI in a venv that also sees the system packages; skipped with a note when PyPI is unreachable.
$(VENV)/bin/ruff:
	$(PY) -m venv --system-site-packages $(VENV) && $(VENV)/bin/pip install -q ruff || rm -rf $(VENV)

lint: $(VENV)/bin/ruff
	@if [ -x $(VENV)/bin/ruff ]; then $(VENV)/bin/ruff check . ; else echo "lint: ruff could not be installed, skipped"; fi

format: $(VENV)/bin/ruff
	$(VENV)/bin/ruff format .

screenshots: deps
	bash scripts/screenshots.sh docs/screenshots

model:
	$(PY) scripts/build_model.py

package:
	rm -rf dist && mkdir -p dist
	git archive --format=zip --prefix=$(PLUGIN)/ -o dist/$(PLUGIN)-$(VERSION).zip HEAD
	@echo "dist/$(PLUGIN)-$(VERSION).zip (from the last commit; install with Plugins > Install from ZIP)"

clean:
	rm -rf demo-output dist .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
