#!/usr/bin/env bash
# Set up the test environment and run the whole suite: lint, types, unit,
# property, doctests, notebooks. Exits non-zero on any failure, including
# "pytest collected no tests" (exit code 5).
#
# Extra arguments go to pytest, e.g. `make test ARGS="-k book -x"`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/venv.sh test
bash scripts/system-deps.sh

py=.venv/bin/python

echo "==> ruff format --check"
"$py" -m ruff format --check .
echo "==> ruff check"
"$py" -m ruff check .
echo "==> mypy (strict on clobkit/book, clobkit/storage, clobkit/replication)"
"$py" -m mypy

echo "==> pytest"
exec bash scripts/pytest.sh "$@"
