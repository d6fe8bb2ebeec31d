# nncli: `make demo` and `make test` work on a fresh clone with only python3 and make.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NNCLI := $(VENV)/bin/nncli

.PHONY: demo test bench clean

$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

demo: $(VENV)/.base
	$(NNCLI) train configs/xor.yaml
	$(NNCLI) predict runs/xor datasets/xor.csv

test: $(VENV)/.test
	$(PY) -m pytest

# Benchmark peers are optional: scikit-learn and pandas come with the bench extra; for PyTorch install
# the CPU build by hand: $(PY) -m pip install torch==2.13.0
# Options go through BENCH_ARGS, e.g. make bench BENCH_ARGS='--e2e-only --quick' (see benchmarks/README.md).
BENCH_ARGS ?=
bench: $(VENV)/.base
	$(PY) -m pip install -q --disable-pip-version-check -e '.[bench]'
	$(PY) -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf runs .pytest_cache
