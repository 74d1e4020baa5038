VENV := .venv
PY := $(VENV)/bin/python
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba_cache
export RAY_AUTH_MODE ?= disabled

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[engines,test]"
	touch $@

.PHONY: demo test bench
demo: $(VENV)/.installed
	$(PY) examples/demo.py

test: $(VENV)/.installed
	$(PY) -m pytest -q

# benchmarks: peers that are absent are skipped with a message; see BENCHMARKS.md for each
# command and how to install its peers (GraphScope, TinkerGraph Gremlin Server, PyG + torch-sparse)
bench: $(VENV)/.installed
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) bench/load.py
	$(PY) bench/analytics.py
	$(PY) bench/algorithms.py
	$(PY) bench/gremlin.py
	$(PY) bench/sampling.py
	$(PY) bench/gnn.py
	$(PY) bench/server.py
