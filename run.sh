#!/usr/bin/env bash
# Set up feedtrain and open the Dagster UI on the embedded default (simulated worlds, DuckDB files in ./data).
#   ./run.sh            install, seed simulated history (first time only), start the UI on http://127.0.0.1:3000
# Environment: FEEDTRAIN_HOME (warehouse + models, default ./data), FEEDTRAIN_WORLD (tiny|small|default|bench),
# FEEDTRAIN_HOST (default 127.0.0.1: the UI is not exposed unless you say so), FEEDTRAIN_PORT (default 3000).
set -euo pipefail
cd "$(dirname "$0")"
python3 -m pip install --quiet -e .
export DAGSTER_HOME="$PWD"
export FEEDTRAIN_HOME="${FEEDTRAIN_HOME:-$PWD/data}"
mkdir -p "$FEEDTRAIN_HOME"
if [ ! -e "$FEEDTRAIN_HOME/.seeded" ]; then
  echo "Seeding simulated history into $FEEDTRAIN_HOME (about a minute, once)..."
  python3 -m realgraph_assets.demo seed
  if python3 -c "import recap_assets.demo" 2>/dev/null; then python3 -m recap_assets.demo seed; fi
  touch "$FEEDTRAIN_HOME/.seeded"
fi
exec dagster dev -w workspace.yaml -h "${FEEDTRAIN_HOST:-127.0.0.1}" -p "${FEEDTRAIN_PORT:-3000}"
