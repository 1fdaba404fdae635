"""Growth of one Real Graph day with world size and with the look-back length.

    python bench/growth.py --runs small=/tmp/chain_small default=/tmp/growth_default bench=/tmp/chain_bench
    python bench/growth.py --lookback /tmp/chain_bench

``--runs``: LABEL=HOME pairs of finished ``bench/chain_day.py`` runs (each HOME's chain_day.md); prints a table of
users, candidates per day, wall/CPU seconds and peak RSS per alternative, and a text chart of CPU seconds vs users.
``--lookback``: the candidates query of the hand-written DuckDB script over the last L of the 31 exported
interaction_days partitions of HOME (bench/chain_day.py's setup), for L in 1, 7, 14, 21, 31: CPU and wall seconds.
"""

import argparse
import json
import re
import resource
import time
from pathlib import Path

USERS = {"tiny": 300, "small": 3_000, "default": 20_000, "bench": 100_000}


def parse(home: Path) -> dict:
    """Users, candidates/day and the first table of a chain_day.md (alternative -> wall, CPU, peak)."""
    text = (home / "chain_day.md").read_text()
    setup = json.loads((home / "setup.json").read_text())
    world = setup["world"]
    users = int(world.rsplit("_", 1)[1]) if "_" in world else USERS[world]
    rows, header = {}, None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "alternative":
            header = cells
        elif header and len(cells) == len(header) and re.fullmatch(r"[\d.]+", cells[1]):
            row = dict(zip(header, cells))
            rows[cells[0]] = {"wall": float(row["wall (s)"]), "cpu": float(row.get("CPU (s)", "nan")),
                              "rss": float(row["peak RSS (GiB)"])}
        elif header and len(cells) != len(header):
            header = None if cells[0] else header
        if len(cells) == 4 and cells[0] == "candidates":
            candidates = int(cells[1].replace(",", ""))
    return {"users": users, "candidates": candidates, "alts": rows}


def chart(points: list[tuple[str, float]], width: int = 50) -> str:
    top = max(v for _, v in points)
    return "\n".join(f"{label:>24} | {'#' * max(1, round(v / top * width))} {v:.1f}" for label, v in points)


def runs(pairs: list[str]) -> None:
    data = sorted((parse(Path(home)) for _, home in (p.split("=", 1) for p in pairs)), key=lambda d: d["users"])
    alts = sorted({a for d in data for a in d["alts"]}, key=["dagster", "duckdb", "pandas", "pyspark"].index)
    print("| users | candidates / day | " + " | ".join(f"{a} wall (s) | {a} CPU (s) | {a} peak (GiB)" for a in alts)
          + " | dagster CPU / duckdb CPU |")
    print("|---|---|" + "---|---|---|" * len(alts) + "---|")
    for d in data:
        cells = [f"{d['alts'][a]['wall']:.1f} | {d['alts'][a]['cpu']:.1f} | {d['alts'][a]['rss']:.2f}" if a in d["alts"]
                 else " | | " for a in alts]
        ratio = (f"{d['alts']['dagster']['cpu'] / d['alts']['duckdb']['cpu']:.2f}"
                 if {"dagster", "duckdb"} <= d["alts"].keys() else "")
        print(f"| {d['users']:,} | {d['candidates']:,} | " + " | ".join(cells) + f" | {ratio} |")
    for a in alts:
        have = [d for d in data if a in d["alts"]]
        metric = "cpu" if all(d["alts"][a]["cpu"] == d["alts"][a]["cpu"] for d in have) else "wall"  # NaN: no CPU
        print(f"\n{metric} seconds of one day, {a}, by users:\n```\n"
              + chart([(f"{d['users']:,} users", d["alts"][a][metric]) for d in have]) + "\n```")


def lookback(home: Path) -> None:
    import duckdb

    days = home / "inputs" / "interaction_days.parquet"
    print("| look-back days | window rows | candidate pairs | CPU (s) | wall (s) |\n|---|---|---|---|---|")
    for n in [1, 7, 14, 21, 31]:
        con = duckdb.connect()
        cpu, wall = resource.getrusage(resource.RUSAGE_SELF), time.time()
        rows, pairs = con.execute(f"""
            WITH w AS (SELECT * FROM '{days}' WHERE ds > (SELECT max(ds) FROM '{days}') - {n})
            SELECT (SELECT count(*) FROM w), count(*) FROM (
                SELECT source_id, destination_id, count(*) AS num_days,
                       count(*) FILTER (WHERE label_mask & 1 <> 0) AS num_follows, max(ds) AS last_day,
                       bit_count(bit_or(label_mask)) AS label_types
                FROM w GROUP BY source_id, destination_id
                QUALIFY rank() OVER (PARTITION BY source_id ORDER BY num_days DESC) <= 2000)""").fetchone()
        after = resource.getrusage(resource.RUSAGE_SELF)
        print(f"| {n} | {rows:,} | {pairs:,} | {after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime:.2f} | "
              f"{time.time() - wall:.2f} |")
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", default=[])
    parser.add_argument("--lookback", type=Path)
    args = parser.parse_args()
    if args.runs:
        runs(args.runs)
    if args.lookback:
        lookback(args.lookback)


if __name__ == "__main__":
    main()
