#!/usr/bin/env bash
# Check the Binder environment (binder/) the way Binder builds it. Two parts:
#
#   --lint       Render the Dockerfile that repo2docker would build (a dry run: no Docker
#                engine needed) and check that it uses binder/runtime.txt's Python and installs
#                binder/requirements.txt only AFTER the repository is copied in (the file says
#                "-e .", which pip resolves against the current directory). ~1 s.
#                Needs jupyter-repo2docker (pip install jupyter-repo2docker); set R2D to the
#                repo2docker executable to choose one.
#   --notebooks  Emulate Binder's Python side: a fresh venv with runtime.txt's Python,
#                `pip install -r binder/requirements.txt` run FROM THE REPOSITORY ROOT (as
#                repo2docker does), plus only ipykernel (Binder's base environment has it) and
#                nbmake (the runner); then execute every notebooks/*.ipynb. ~1-2 min. With no
#                notebooks it says so and succeeds without creating the venv. BINDER_VENV=DIR
#                reuses (or creates) a venv there instead of a temporary one.
#
# With neither flag both parts run. --repo DIR checks another checkout (the tests use it on
# small fixture repositories). A real Binder build (Docker + conda-forge) cannot run here.
#
#   scripts/binder_check.sh              # both
#   scripts/binder_check.sh --lint       # what tests/docs/test_binder.py runs
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$here"
do_lint=0
do_notebooks=0
while [ $# -gt 0 ]; do
  case "$1" in
    --lint) do_lint=1 ;;
    --notebooks) do_notebooks=1 ;;
    --repo) repo="$(cd "$2" && pwd)"; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "binder_check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$do_lint" = 0 ] && [ "$do_notebooks" = 0 ]; then
  do_lint=1
  do_notebooks=1
fi

runtime="$repo/binder/runtime.txt"
want=""
if [ -f "$runtime" ]; then
  want="$(sed -n 's/^python-\([0-9][0-9.]*\).*/\1/p' "$runtime" | head -n 1)"
fi

lint() {
  local r2d="${R2D:-}"
  if [ -z "$r2d" ]; then
    r2d="$(command -v repo2docker || true)"
  fi
  if [ -z "$r2d" ] || [ ! -x "$r2d" ]; then
    echo "FAIL: repo2docker not found: pip install jupyter-repo2docker (or set R2D)" >&2
    return 1
  fi
  local out
  out="$(mktemp -d)"
  # --no-build --no-run renders the Dockerfile to stdout; --debug logs the buildpack's choices.
  if ! "$r2d" --no-build --debug --no-run --user-id 1000 --user-name jovyan "$repo" \
      >"$out/Dockerfile" 2>"$out/log"; then
    echo "FAIL: repo2docker dry run failed:" >&2
    cat "$out/log" >&2
    rm -rf "$out"
    return 1
  fi
  if [ -z "$want" ]; then
    echo "FAIL: binder/runtime.txt missing or without python-X.Y: repo2docker would use its default Python (3.10), too old for clobkit" >&2
    rm -rf "$out"
    return 1
  fi
  if ! grep -q "Building conda environment for python=$want" "$out/log"; then
    echo "FAIL: runtime.txt python-$want not honoured (is there an environment.yml?)" >&2
    grep -i "python=" "$out/log" >&2 || true
    rm -rf "$out"
    return 1
  fi
  # The repo is copied in by a "COPY --chown=... src/ ..." line; pip must come after it.
  if ! awk '/^COPY --chown=[0-9:]+ src\/ /{c=NR} /pip install .*binder\/requirements.txt/{p=NR}
            END{exit !(c && p && p>c)}' "$out/Dockerfile"; then
    echo "FAIL: binder/requirements.txt is installed before the repository is copied in" >&2
    echo "      (it must reference the repo, e.g. '-e .', with a comment line: see binder/requirements.txt)" >&2
    rm -rf "$out"
    return 1
  fi
  rm -rf "$out"
  echo "binder lint OK (python $want, requirements installed after the repo is copied)"
}

notebooks() {
  shopt -s nullglob
  local nbs=("$repo"/notebooks/*.ipynb)
  shopt -u nullglob
  if [ "${#nbs[@]}" -eq 0 ]; then
    echo "binder notebooks: no notebooks in notebooks/, nothing to run (OK for now)"
    return 0
  fi
  if [ -z "$want" ]; then
    echo "FAIL: binder/runtime.txt missing or without python-X.Y" >&2
    return 1
  fi
  local py="python$want"
  if ! command -v "$py" >/dev/null 2>&1; then
    echo "FAIL: $py (from binder/runtime.txt) is not installed here" >&2
    return 1
  fi
  local venv="${BINDER_VENV:-}"
  local tmp=""
  if [ -z "$venv" ]; then
    tmp="$(mktemp -d)"
    venv="$tmp/venv"
  fi
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  export PIP_DISABLE_PIP_VERSION_CHECK=1
  # From the repo root: pip resolves "-e ." against the current directory, as in repo2docker.
  (cd "$repo" && "$venv/bin/pip" install -q -r binder/requirements.txt)
  "$venv/bin/pip" install -q ipykernel nbmake
  echo "binder notebooks: running ${#nbs[@]} notebook(s) in a fresh venv"
  # Plain tracebacks in logs: IPython's colours survive NO_COLOR, this setting does not.
  local ipython_dir
  ipython_dir="$(mktemp -d)"
  mkdir -p "$ipython_dir/profile_default"
  echo 'c.InteractiveShell.colors = "nocolor"' >"$ipython_dir/profile_default/ipython_kernel_config.py"
  local status=0
  # -o addopts= drops the project's pytest options (doctests, markers) meant for the suite.
  (cd "$repo" && IPYTHONDIR="$ipython_dir" PLOTLY_RENDERER=notebook "$venv/bin/python" -m pytest \
      -o addopts= -p no:cacheprovider --nbmake --nbmake-timeout=300 -q "${nbs[@]}") || status=$?
  rm -rf "$ipython_dir"
  [ -n "$tmp" ] && rm -rf "$tmp"
  return "$status"
}

status=0
if [ "$do_lint" = 1 ]; then lint || status=1; fi
if [ "$do_notebooks" = 1 ]; then notebooks || status=1; fi
exit "$status"
