#!/usr/bin/env bash
# Set up feedtrain and open the Dagster UI on the embedded default (simulated worlds, DuckDB files in ./data).
#   ./run.sh            install, seed simulated history (first time only), start the UI on http://127.0.0.1:3000
# Environment: FEEDTRAIN_HOME (warehouse + models, default ./data), FEEDTRAIN_WORLD (tiny|small|default|bench),
# FEEDTRAIN_SEED_RECAP=1 (also seed the recap location's history: ~5 more minutes),
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
  if [ "${FEEDTRAIN_SEED_RECAP:-0}" = 1 ]; then  # ~5 minutes: 72 simulated days of home timelines, 20 models
    python3 -m recap_assets.report --home "$FEEDTRAIN_HOME" --preset "${FEEDTRAIN_WORLD:-default}" --record-in-instance
  fi
  touch "$FEEDTRAIN_HOME/.seeded"
fi
exec dagster dev -w workspace.yaml -h "${FEEDTRAIN_HOST:-127.0.0.1}" -p "${FEEDTRAIN_PORT:-3000}"
