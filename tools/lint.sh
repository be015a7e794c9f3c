#!/usr/bin/env bash
# Lint the repository with the configuration in setup.cfg (flake8, isort; line length 100).
#   .venv/bin/pip install -r requirements/lint.txt   # once
#   bash tools/lint.sh          # check
#   bash tools/lint.sh --fix    # sort the imports in place, then check
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LINT_BIN:-.venv/bin}
PATHS=(unimedi tools tests configs projects setup.py)
if [ "${1:-}" = "--fix" ]; then
  "$BIN/isort" "${PATHS[@]}"
fi
"$BIN/isort" --check-only "${PATHS[@]}"
"$BIN/flake8" "${PATHS[@]}"
echo "lint: clean"
