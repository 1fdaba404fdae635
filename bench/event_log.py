"""From a plain event log to Real Graph models, on a log shaped unlike the simulator; prints the model table.

    python bench/event_log.py [--home /tmp/event_log] [--users 4000] [--days 45]

1. Writes a Twitter-activity-like event log (``userA,userB,timestamp,interaction`` with RT / MT / RE, as in SNAP's
   higgs-activity_time): heavy-tailed activity and popularity, each user's few favourite targets, a six-fold burst on
   two days and one day with no events at all. NumPy with a fixed seed, not feedtrain's simulator.
2. Converts it with ``python -m realgraph_assets.from_events`` and points the location at the files
   (``FEEDTRAIN_REALGRAPH_SOURCE=files``), as docs/own_logs.md says.
3. Materialises every asset one model day needs (``realgraph_assets.demo.steps``) through the door, the checks and
   the models, and prints each model's and baseline's AUC on the holdout day.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

FIRST = dt.date(2026, 6, 1)
T0 = int(dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc).timestamp())


def write_log(path: Path, users: int, days: int, seed: int = 3) -> int:
    rng = np.random.default_rng(seed)
    act = rng.pareto(1.2, users) + 1
    pop = rng.pareto(1.0, users) + 1
    act, pop = act / act.sum(), pop / pop.sum()
    favourites = rng.choice(users, size=(users, 5), p=pop)
    parts = []
    for d in range(days):
        n = 0 if d == days - 12 else int(rng.normal(3000, 400) * (6 if d in (20, 21) else 1))
        a = rng.choice(users, size=n, p=act)
        b = np.where(rng.random(n) < 0.6, favourites[a, rng.integers(0, 5, n)], rng.choice(users, size=n, p=pop))
        parts.append(pa.table({"userA": a + 1, "userB": b + 1, "timestamp": T0 + d * 86_400 + rng.integers(0, 86_400, n),
                               "interaction": rng.choice(["RT", "MT", "RE"], size=n, p=[0.6, 0.3, 0.1])}))
    table = pa.concat_tables(parts)
    pacsv.write_csv(table, path)
    return table.num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/event_log"))
    parser.add_argument("--users", type=int, default=4000)
    parser.add_argument("--days", type=int, default=45)
    args = parser.parse_args()
    args.home.mkdir(parents=True, exist_ok=True)
    events = args.home / "events.csv"
    print(f"{write_log(events, args.users, args.days):,} events in {events}")
    subprocess.run([sys.executable, "-m", "realgraph_assets.from_events", str(events), str(args.home / "logs"),
                    "--source", "userA", "--destination", "userB", "--time", "timestamp", "--type", "interaction",
                    "--labels", "RT=num_retweets,MT=num_mentions,RE=num_replies"], check=True)
    os.environ.update(FEEDTRAIN_HOME=str(args.home / "home"), FEEDTRAIN_REALGRAPH_SOURCE="files",
                      FEEDTRAIN_REALGRAPH_FILES=str(args.home / "logs"), FEEDTRAIN_START_DATE=FIRST.isoformat())

    import dagster as dg
    import duckdb

    from feedtrain.driver import materialize_days
    from realgraph_assets.definitions import defs
    from realgraph_assets.demo import steps

    model_day = FIRST + dt.timedelta(days=args.days - 3)  # its holdout (T+1) and the holdout's labels (T+2) exist
    instance = dg.DagsterInstance.ephemeral()
    for names, first, last in steps(model_day, model_day):
        started = time.time()
        materialize_days(defs, "realgraph", names, first, last, instance=instance)
        print(f"{','.join(names)} {first}..{last}: {time.time() - started:.0f} s", flush=True)
    with duckdb.connect(str(args.home / "home" / "realgraph_warehouse.duckdb"), read_only=True) as conn:
        print(conn.sql("SELECT model, rows, round(positive_rate, 4) AS positive_rate, round(auc, 4) AS auc, "
                       "round(pr_auc, 4) AS pr_auc, round(ece, 4) AS ece FROM realgraph.model_evaluations "
                       f"WHERE ds = DATE '{model_day}' AND variant = 'prod' ORDER BY auc DESC"))


if __name__ == "__main__":
    main()
