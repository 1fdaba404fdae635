"""Both locations' whole chains on DuckDB and on local Spark, through the real assets, and every table compared.

    python bench/spark_chain.py [--home /tmp/spark_chain] [--engines duckdb spark] [--location realgraph recap]
                                [--from-run N] [--compare-only]

Builds ``feedtrain.engine.recording.CHAIN_RUNS`` (the tiny worlds, from the raw logs to the champions: Real Graph's
candidates with their 31-day look-back, samples, labels, train sets, the four models of two days, the champions;
Recap's features over 50 days, labels, the ten heads' training sets, the twenty models of a day, the evaluations, the
champion) into ``<home>/duckdb`` and ``<home>/spark``, one run per layer as a single-run backfill would, printing the
seconds of each; then asserts that every table of every day is equal on both engines (``recording.compare_worlds``:
the ledger's tables and the evaluation / champion tables; floats within a relative 1e-9; the columns holding
per-engine ledger versions skipped) and prints what it compared. ``--from-run N`` resumes a home at the N-th run
(0-based, of the selected locations). Too slow for CI on 2 cores (local Spark runs every statement as a job): CI's
``tests/test_engine_spark.py`` builds one day of every layer on Spark (``recording.SPARK_RUNS``) and loads the rest of
the windows from the DuckDB world.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/spark_chain"))
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"], choices=["duckdb", "spark"])
    parser.add_argument("--location", nargs="+", default=["realgraph", "recap"], choices=["realgraph", "recap"])
    parser.add_argument("--from-run", type=int, default=0)
    parser.add_argument("--compare-only", action="store_true")
    args = parser.parse_args()

    import dagster as dg

    from feedtrain.engine import recording

    runs = [r for r in recording.CHAIN_RUNS if r[0] in args.location]
    stores = {}
    for engine in args.engines:
        home = args.home / engine
        home.mkdir(parents=True, exist_ok=True)
        os.environ["FEEDTRAIN_HOME"] = str(home)
        todo = [] if args.compare_only else runs[args.from_run:]
        started = time.perf_counter()
        stores[engine] = recording.build_world(home, engine, todo, dg.DagsterInstance.ephemeral(),
                                               log=lambda line: print(line, flush=True))
        if todo:
            print(f"{engine}: {len(todo)} runs in {time.perf_counter() - started:.0f} s", flush=True)
    if set(stores) == {"duckdb", "spark"}:
        duck = {s: w for s, w in stores["duckdb"].items() if s in args.location}
        spark = {s: w for s, w in stores["spark"].items() if s in args.location}
        compared = recording.compare_worlds(duck, spark)
        print("\n| location | table | days | rows | DuckDB = Spark |\n|---|---|---|---|---|")
        for schema, table, days, rows in compared:
            print(f"| {schema} | {table} | {days} | {rows} | equal |")


if __name__ == "__main__":
    main()
