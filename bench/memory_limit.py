"""Peak memory and time of Recap's features query under a DuckDB memory_limit (FEEDTRAIN_DUCKDB_MEMORY_LIMIT).

    python bench/memory_limit.py /tmp/rb/recap default 3GB --rounds 2

HOME is a Recap home set up by ``bench/chain_day.py`` (its recap_warehouse.duckdb holds the raw days of the bench day).
Each (round, limit) is a fresh process running impression_features.sql for the bench day into a temp table; it prints
wall and CPU seconds and the process's peak RSS. Spill files go to /tmp/duckdb_spill.
"""

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ALT = Path(__file__).resolve().parent / "alt"


def child(home: str, limit: str) -> None:
    import duckdb

    sys.path.insert(0, str(ALT))
    import recap_day

    con = duckdb.connect(str(Path(home) / "recap_warehouse.duckdb"), read_only=True)
    if limit != "default":
        con.execute(f"SET memory_limit = '{limit}'")
    con.execute("SET temp_directory = '/tmp/duckdb_spill'")
    con.execute("USE recap")
    query = (recap_day.SQL / "impression_features.sql").read_text()
    started, cpu = time.time(), time.process_time()
    con.execute(f"CREATE TEMP TABLE x AS {query}", {"ds": recap_day.BENCH_DAY, **recap_day.FEATURE_PARAMS})
    print(f"| {limit} | {time.time() - started:.1f} | {time.process_time() - cpu:.1f} | "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home")
    parser.add_argument("limits", nargs="+")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.home, args.limits[0])
    print("| memory_limit | wall (s) | CPU (s) | peak RSS (GiB) |\n|---|---|---|---|", flush=True)
    for _ in range(args.rounds):
        for limit in args.limits:
            subprocess.run([sys.executable, __file__, args.home, limit, "--child"], check=True)


if __name__ == "__main__":
    main()
