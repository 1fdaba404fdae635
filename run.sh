#!/usr/bin/env bash
# feedtrain on the embedded default (simulated worlds, DuckDB files in ./data), in the Dagster UI.
#   ./run.sh                     first start: install, seed both locations (every offered day), then `dg dev`;
#                                later starts: `dg dev` on what is there. Stop with Ctrl-C (or SIGTERM): everything stops.
#   ./run.sh seed [realgraph|recap]   (re)fill every offered day of one location, or both (stop the UI first:
#                                one writer per DuckDB file)
#   ./run.sh reset               delete the warehouses, models and the Dagster instance's history (the next start seeds
#                                afresh, with history ending yesterday)
# Environment: FEEDTRAIN_HOME (warehouses + models, default ./data), FEEDTRAIN_WORLD (Real Graph's world: tiny, small,
# default, bench; default `default`), FEEDTRAIN_RECAP_WORLD (Recap's world, default `tiny`: a few minutes to seed),
# FEEDTRAIN_START_DATE (first raw day of both locations; default: each location's history starts where its seed fills
# every offered day), FEEDTRAIN_HOST (default 127.0.0.1: the UI is not exposed unless you say so), FEEDTRAIN_PORT
# (default 3000), FEEDTRAIN_DAGSTER_HOME (the Dagster instance, default this directory, using ./dagster.yaml).
set -euo pipefail
cd "$(dirname "$0")"
export DAGSTER_HOME="${FEEDTRAIN_DAGSTER_HOME:-$PWD}"
# This checkout's packages first, in every process dg starts (its code servers run in projects/<name>/).
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export FEEDTRAIN_HOME="${FEEDTRAIN_HOME:-$PWD/data}"
export FEEDTRAIN_WORLD="${FEEDTRAIN_WORLD:-default}"
export FEEDTRAIN_RECAP_WORLD="${FEEDTRAIN_RECAP_WORLD:-tiny}"
START_DATES="$FEEDTRAIN_HOME/start_dates.env"
# Days of history each location's seed builds: Real Graph's 4 model days need 42 raw days (31-day candidate window,
# 7 labeled days per train set, labels from T+1, holdout T+1); Recap's first model day needs 72 (50-day feature
# window, 14 training + 7 validation days, labels from T+1).
REALGRAPH_HISTORY_DAYS=42
RECAP_HISTORY_DAYS=72

run() {  # a child that stops on Ctrl-C / SIGTERM even when this script runs in the background (where SIGINT is ignored)
  env --default-signal=INT,TERM "$@" &
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' INT TERM
  wait "$child"
  trap - INT TERM
}

seed() {
  python3 -c "import feedtrain" 2>/dev/null || python3 -m pip install --quiet -e .
  for location in "$@"; do
    run python3 -m feedtrain.seed "$location"
    touch "$FEEDTRAIN_HOME/.seeded_$location"
  done
}

case "${1:-start}" in
  reset)
    echo "Removing $FEEDTRAIN_HOME and the Dagster instance's storage under $DAGSTER_HOME"
    rm -rf "$FEEDTRAIN_HOME" "$DAGSTER_HOME"/{storage,history,logs,schedules,.logs_queue,.nux,.telemetry}
    exit 0 ;;
  seed)
    [ -e "$START_DATES" ] && { set -a; . "$START_DATES"; set +a; }
    if [ $# -gt 1 ]; then seed "$2"; else seed realgraph recap; fi
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|seed [realgraph|recap]|reset]" >&2; exit 2 ;;
esac

python3 -c "import feedtrain, dagster_dg_cli" 2>/dev/null || python3 -m pip install --quiet -e .
mkdir -p "$FEEDTRAIN_HOME"
if [ ! -e "$START_DATES" ] && [ -z "${FEEDTRAIN_START_DATE:-}" ]; then
  # Partitions are fixed when a location loads, so each location's first day is chosen once, here, and kept.
  python3 - "$START_DATES" "$REALGRAPH_HISTORY_DAYS" "$RECAP_HISTORY_DAYS" <<'EOF'
import datetime as dt, sys
today = dt.datetime.now(dt.timezone.utc).date()
with open(sys.argv[1], "w") as f:
    f.write(f"FEEDTRAIN_REALGRAPH_START_DATE={today - dt.timedelta(days=int(sys.argv[2]))}\n")
    f.write(f"FEEDTRAIN_RECAP_START_DATE={today - dt.timedelta(days=int(sys.argv[3]))}\n")
EOF
fi
[ -e "$START_DATES" ] && { set -a; . "$START_DATES"; set +a; }
for location in realgraph recap; do
  if [ ! -e "$FEEDTRAIN_HOME/.seeded_$location" ]; then
    echo "Seeding $location into $FEEDTRAIN_HOME (once; progress per layer below)"
    seed "$location"
  fi
done
# `env --default-signal`: dagster handles SIGINT/SIGTERM by stopping its webserver, daemon and code servers, but a
# script started in the background inherits SIGINT ignored; exec so that a signal to this script reaches dagster.
exec env --default-signal=INT,TERM dg dev --use-active-venv -h "${FEEDTRAIN_HOST:-127.0.0.1}" -p "${FEEDTRAIN_PORT:-3000}"
