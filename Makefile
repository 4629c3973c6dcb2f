# The two commands README.md documents. Both are idempotent: a second run
# reuses .venv. Everything else lives in scripts/.
.PHONY: lab test demo bench clean

# Set up the environment and open the course in JupyterLab (127.0.0.1, token on).
lab:
	bash scripts/lab.sh

# Set up the test environment and run the whole suite (lint, types, tests, notebooks).
test:
	bash scripts/test.sh $(ARGS)

# The headless sibling of `make lab`: a narrated scenario in the terminal.
demo:
	bash scripts/venv.sh notebooks && .venv/bin/python -m clobkit demo

# Every benchmark, quick mode.
bench:
	bash scripts/venv.sh bench && for b in benchmarks/bench_*.py; do .venv/bin/python $$b --quick || exit 1; done

clean:
	rm -rf .venv build dist site *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
