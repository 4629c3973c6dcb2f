#!/usr/bin/env bash
# Set up the environment and open the clobkit course in JupyterLab.
#
#   make lab                          # or: bash scripts/lab.sh [extra jupyter lab options]
#
# JupyterLab listens on 127.0.0.1 only, with token authentication left on. The URL it prints
# (with its token) opens the tour, notebooks/00_tour.ipynb, and the file browser's root is
# notebooks/ (not the repository with build/ and *.egg-info). scripts/lab-settings/ holds the
# course's default JupyterLab settings (no "Jupyter news?" toast over the dashboard, no update
# check); a learner's own settings still win over them.
#
# Extra arguments go to `jupyter lab` (tests/browser/test_lab_tour.py passes --port and a
# token). CLOBKIT_PYTHON=/path/to/python skips the .venv setup and uses that interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${CLOBKIT_PYTHON:-}" ]; then
  python="$CLOBKIT_PYTHON"
else
  bash scripts/venv.sh notebooks
  python=.venv/bin/python
fi
root="$PWD/notebooks"
tour=00_tour.ipynb
extra=()
[ "$(id -u)" = "0" ] && extra+=(--allow-root)
echo "==> opening notebooks/$tour (Ctrl+C twice to stop)"
exec "$python" -m jupyter lab --ip=127.0.0.1 --no-browser "${extra[@]}" \
  --ServerApp.root_dir="$root" \
  --LabApp.default_url="/lab/tree/$tour" \
  --LabApp.app_settings_dir="$PWD/scripts/lab-settings" \
  --LabApp.news_url=None \
  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
  "$@"
