#!/usr/bin/env bash
# Run pytest from .venv with the given arguments. pytest's exit code 5 ("no tests
# collected") becomes a failure here: a suite that ran nothing has proved nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
py="${CLOBKIT_PYTHON:-.venv/bin/python}"
"$py" -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
