#!/usr/bin/env bash
# Shared first-run set-up for ./run and ./test: a virtual environment in .venv with the locked
# Python packages (uv.lock), and the locked front-end packages (package-lock.json) in node_modules.
# Safe to run again: each step is skipped when its lock file has not changed since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."

export UV_PYTHON_DOWNLOADS=never   # use the machine's Python; never fetch one
export UV_PROJECT_ENVIRONMENT=.venv
UV_VERSION=0.13.9

need_python() {
  python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || {
    echo "OrthoLens needs Python 3.11 or newer as python3." >&2; exit 1; }
}

stamp_ok() {  # stamp_ok NAME FILE...: true when FILE contents match the stamp recorded last time
  local name=$1; shift
  [ -f ".venv/.stamp-$name" ] && [ "$(cat "$@" | sha256sum)" = "$(cat ".venv/.stamp-$name")" ]
}
stamp_write() { local name=$1; shift; cat "$@" | sha256sum > ".venv/.stamp-$name"; }

need_python
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  python3 -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  echo "==> installing uv $UV_VERSION into .venv"
  .venv/bin/python -m pip install --quiet "uv==$UV_VERSION"
fi
if ! stamp_ok python uv.lock pyproject.toml; then
  echo "==> installing Python packages from uv.lock"
  # --inexact keeps uv itself, which lives in the same environment.
  .venv/bin/uv sync --frozen --inexact --quiet
  stamp_write python uv.lock pyproject.toml
fi
if ! stamp_ok npm package-lock.json; then
  command -v npm >/dev/null || { echo "OrthoLens needs Node.js and npm for its web assets." >&2; exit 1; }
  echo "==> installing front-end packages from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  stamp_write npm package-lock.json
fi
