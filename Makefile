# Arborist: the two commands of a fresh machine are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck bench clean

# One virtual environment with everything (bot, generation, training, dev tools) and, as its own
# distribution, the sandbox (demo, stand-ins, fakes) that `pip install .` leaves out.
# constraints.txt pins torch to the local CPU wheel; llama-cpp-python compiles once (~4 min) and pip caches it.
$(STAMP): pyproject.toml sandbox/pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[all,dev]' -e ./sandbox
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/arborist demo

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check bot ci lab schemas sandbox tests benchmarks
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml .github/taxonomy-workflows/*.yml
	$(VENV)/bin/mypy  # strict on the seams: [[tool.mypy.overrides]] in pyproject.toml

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Each benchmark runs its baseline and ours side by side and prints medians and ratios;
# figures and the exact commands are in docs/benchmarks.md.
bench: $(STAMP)
	$(PY) benchmarks/validate_corpus.py
	$(PY) benchmarks/webhook_intake.py
	$(PY) benchmarks/webhook_e2e.py
	$(PY) benchmarks/jobstore_throughput.py
	$(PY) benchmarks/generate_bench.py
	$(PY) benchmarks/train_packing.py
	$(PY) benchmarks/publish_bench.py
	$(PY) benchmarks/ray_overhead.py

clean:
	rm -rf $(VENV) build *.egg-info
