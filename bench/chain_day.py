"""One day of the Real Graph chain (and of Recap's) through the assets vs hand-written DuckDB SQL, pandas and PySpark.

    python bench/chain_day.py [--home /tmp/chain_bench] [--world bench] [--repeats 3] [--only dagster duckdb ...]

1. Setup (skipped when ``--home`` already holds it): simulates the world into the raw tables and builds, through the
   real assets, every upstream day the bench day T needs (interaction_days [T-30, T], the labeled days [T-6, T-1]),
   then exports the inputs of day T to Parquet for the pandas and PySpark jobs (not timed).
2. Timing: each alternative is one fresh process, run in turn (A B C D A B C D ...) ``--repeats`` times. Each computes
   the same day: interaction_days of T+1, tweeting_follows, candidates, candidates_sampled, labeled_candidates[_explicit]
   and train[_explicit] of T. Wall time and peak RSS come from the OS (wait4) for the whole process; each process
   reports when its imports were done and per-step times.
3. Checks: after every run, the row count and an order-free content hash of each output over the columns of
   ``COLUMNS`` must equal the assets' (the run fails loudly otherwise).

Alternatives: ``dagster`` (the assets through ``feedtrain.driver``), ``duckdb`` (bench/alt/realgraph_day.sql),
``pandas`` (bench/alt/realgraph_pandas.py), ``pyspark`` (bench/alt/realgraph_pyspark.py, local[*]); for Recap
``recap_dagster``, ``recap_duckdb`` (bench/alt/recap_day.py), ``recap_pandas`` and ``recap_pyspark``. Every alternative
computes every column the assets store and is checked on all of them. Outputs and worlds stay under ``--home`` (/tmp).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DAY = dt.date(2026, 7, 10)  # T: 31 event days and 6 earlier labeled days exist after EVENTS_START 2026-06-01

# The compared columns of each output, explicit: every alternative computes every feature the assets compute.
BASIC_FEATURES = ["num_days", "num_tweets", "days_since_last_interaction", "label_types", "num_follows",
                  "num_favorites", "num_tweet_clicks", "num_profile_views"]
PAIR_FEATURES = ["days_since_first_interaction", "decayed_days", "decayed_explicit", "decayed_favorites",
                 "decayed_replies", "decayed_retweets", "decayed_mentions", "decayed_tweet_clicks",
                 "decayed_profile_views", "reciprocal_decayed_days", "source_share", "destination_in_degree",
                 "long_num_days"]


def columns(features: list[str]) -> dict[str, list[str]]:
    pair = ["source_id", "destination_id"]
    return {"interaction_days": pair + ["label_mask"], "tweeting_follows": pair + ["num_tweets", "rn"],
            "candidates": pair + ["rn"] + features, "candidates_sampled": pair + ["rn"] + features,
            **{t: pair + ["label"] + features for t in ("labeled_candidates", "labeled_candidates_explicit")},
            **{t: pair + ["label"] + features + ["label_ds", "weight", "if_eval"] for t in ("train", "train_explicit")}}


COLUMNS = columns(BASIC_FEATURES + PAIR_FEATURES)
REALGRAPH_STEPS = list(COLUMNS)
ALTERNATIVES = ["dagster", "duckdb", "pandas", "pyspark"]
RECAP_ALTERNATIVES = ["recap_dagster", "recap_duckdb", "recap_pandas", "recap_pyspark"]


def day_of(table: str, day: dt.date) -> dt.date:
    """The day of ``table`` that bench day T's chain builds: the newest event day T+1 for interaction_days."""
    return day + dt.timedelta(days=1) if table == "interaction_days" else day


def use_world(world: str, users: int | None) -> str:
    """FEEDTRAIN_WORLD for this process: a preset, or that preset resized to ``users`` (registered in this process)."""
    if users:
        import dataclasses

        from realgraph_assets import simulator

        name = f"{world}_{users}"
        simulator.PRESETS[name] = dataclasses.replace(simulator.PRESETS[world], users=users)
        world = name
    os.environ["FEEDTRAIN_WORLD"] = world
    return world


# -- setup ----------------------------------------------------------------------------------------------------------

def setup(home: Path, day: dt.date, lookback: int) -> None:
    import dagster as dg

    from feedtrain.driver import materialize_days
    from feedtrain.partitions import EVENTS_START
    from realgraph_assets.definitions import defs
    from realgraph_assets.resources import SCHEMA
    from realgraph_assets.windows import HISTORY_DAYS

    d = lambda n: dt.timedelta(days=n)  # noqa: E731
    instance = dg.DagsterInstance.ephemeral()
    first_label = day - d(6)
    plan = [(["group:realgraph_sources"], EVENTS_START, day + d(1)),
            # candidates read the pairs' long history too (realgraph_assets/windows.py HISTORY_DAYS)
            (["interaction_days"], max(EVENTS_START, first_label - d(max(lookback, HISTORY_DAYS) - 1)), day),
            (["tweeting_follows"], first_label, day - d(1)),
            (["candidates", "candidates_sampled"], first_label, day - d(1)),
            (["labeled_candidates", "labeled_candidates_explicit"], first_label, day - d(1))]
    for names, a, b in plan:
        started = time.time()
        materialize_days(defs, SCHEMA, names, a, b, instance=instance)
        print(f"setup {' '.join(names)} {a}..{b}: {time.time() - started:.0f}s", flush=True)
    export_inputs(home, day, lookback)
    (home / "setup.json").write_text(json.dumps({"day": day.isoformat(), "world": os.environ["FEEDTRAIN_WORLD"],
                                                 "lookback": lookback}))


def export_inputs(home: Path, day: dt.date, lookback: int) -> None:
    """Day T's inputs as Parquet (one file per table) for the pandas and PySpark jobs."""
    import duckdb

    from realgraph_assets.windows import HISTORY_DAYS

    d = lambda n: dt.timedelta(days=n)  # noqa: E731
    out = home / "inputs"
    out.mkdir(exist_ok=True)
    reads = {
        "interaction_graph_labels_daily": ("labels", [day + d(1), day + d(1)]),
        # the 31-day window and, for long_num_days, the pair's longer history (from the first event day on)
        "interaction_days": ("*", [day - d(max(lookback, HISTORY_DAYS) - 1), day]),
        "valid_user_follows": ("*", [day, day]),
        "public_tweets": ("user_id, ds", [day - d(3), day]),
        "interaction_graph_agg_negative_edge_snapshot": ("source_id, destination_id, ds", [day, day + d(1)]),
        "labeled_candidates": ("*", [day - d(6), day - d(1)]),
        "labeled_candidates_explicit": ("*", [day - d(6), day - d(1)]),
    }
    con = duckdb.connect(str(home / "realgraph_warehouse.duckdb"), read_only=True)
    for table, (cols, (a, b)) in reads.items():
        cols = "source_id, destination_id, labels, ds" if cols == "labels" else cols
        con.execute(f"COPY (SELECT {cols} FROM realgraph.{table} WHERE ds BETWEEN DATE '{a}' AND DATE '{b}') "
                    f"TO '{out / table}.parquet' (FORMAT parquet)")
    con.close()


# -- the children: one process per timed run ------------------------------------------------------------------------

def child_dagster(home: Path, day: dt.date, out: Path) -> dict:
    import dagster as dg

    from feedtrain.driver import materialize_days
    from realgraph_assets.definitions import defs
    from realgraph_assets.resources import SCHEMA

    imported = time.time()
    instance = dg.DagsterInstance.ephemeral()
    steps = {}
    # one run per partitions definition (Dagster runs assets of one partitioning together), as a daily schedule would
    for names, d in [(["interaction_days"], day + dt.timedelta(days=1)), (["tweeting_follows"], day),
                     (["candidates", "candidates_sampled"], day),
                     (["labeled_candidates", "labeled_candidates_explicit"], day), (["train", "train_explicit"], day)]:
        result = materialize_days(defs, SCHEMA, names, d, instance=instance)
        for s in instance.get_run_step_stats(result.run_id):
            steps[s.step_key.removeprefix(f"{SCHEMA}__")] = s.end_time - s.start_time
    return {"imported": imported, "steps": steps}


def child(args) -> None:
    """Runs one alternative; prints one JSON line with its timestamps and per-step seconds."""
    home, day, out = Path(args.home), dt.date.fromisoformat(args.day), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.child == "dagster":
        report = child_dagster(home, day, out)
    else:
        sys.path.insert(0, str(ROOT / "bench" / "alt"))
        module = {"duckdb": "realgraph_duckdb", "pandas": "realgraph_pandas", "pyspark": "realgraph_pyspark",
                  "recap_dagster": "recap_day", "recap_duckdb": "recap_day", "recap_pandas": "recap_pandas",
                  "recap_pyspark": "recap_pyspark"}[args.child]
        report = __import__(module).run(home, day, out, args.child)
    report["finished"] = time.time()
    print("BENCH " + json.dumps(report), flush=True)


# -- the harness ----------------------------------------------------------------------------------------------------

class TreeRss(threading.Thread):
    """Samples the summed RSS of a process and all its descendants (PySpark's JVM is not reaped by its Python) every
    0.2 s; ``peak`` in bytes."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.start()

    def run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self.done.wait(0.2):
            stats = {}
            for d in os.listdir("/proc"):
                try:
                    fields = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()
                    stats[int(d)] = (int(fields[1]), int(fields[21]) * page)  # ppid, rss
                except (ValueError, OSError, IndexError):
                    continue
            tree, frontier = {self.pid}, [self.pid]
            while frontier:
                parent = frontier.pop()
                kids = [p for p, (pp, _) in stats.items() if pp == parent and p not in tree]
                tree.update(kids)
                frontier += kids
            self.peak = max(self.peak, sum(stats.get(p, (0, 0))[1] for p in tree))

    def stop(self) -> None:
        self.done.set()
        self.join()


def run_child(args, alt: str, out: Path) -> dict:
    """One fresh process; wall and CPU time from wait4, peak RSS sampled over its process tree (wait4's maxrss would
    include this harness's own RSS, copied at fork)."""
    cmd = [sys.executable, __file__, "--child", alt, "--home", args.home, "--day", args.day, "--out", str(out),
           "--world", args.world] + (["--users", str(args.users)] if args.users else [])
    log = out.with_suffix(".log")
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
        tree = TreeRss(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        tree.stop()
    wall = time.time() - started
    text = log.read_text()
    if proc.returncode:
        sys.exit(f"{alt} failed (exit {proc.returncode}), log {log}:\n{text[-4000:]}")
    report = json.loads(next(line for line in text.splitlines() if line.startswith("BENCH "))[6:])
    # CPU of the process and the children it reaped, plus what a child reports it ran outside them (PySpark's JVM)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime + report.get("jvm_cpu", 0.0),
            "startup": report["imported"] - started,
            "steps": report["steps"], "rss_gib": tree.peak / 2**30}


def content(args, alt: str, out: Path, tables: dict[str, list[str]]) -> dict[str, tuple[int, str]]:
    """(rows, order-free hash over the compared columns) of each output: the assets' from the warehouse, the others'
    from their Parquet."""
    import duckdb

    con = duckdb.connect()
    day = dt.date.fromisoformat(args.day)
    if alt.endswith("dagster"):
        schema = "recap" if alt.startswith("recap") else "realgraph"
        con.execute(f"ATTACH '{Path(args.home) / schema}_warehouse.duckdb' AS wh (READ_ONLY)")
    result = {}
    for table, cols in tables.items():
        source = (f"(SELECT * FROM wh.{schema}.{table} WHERE ds = DATE '{day_of(table, day)}')" if alt.endswith("dagster")
                  else f"read_parquet('{out / table}.parquet{'/*.parquet' if (out / f'{table}.parquet').is_dir() else ''}')")
        exprs = ", ".join(f"CAST({c} AS DATE)" if c in ("ds", "label_ds") else f"CAST({c} AS BOOLEAN)" if c == "if_eval"
                          else f"round(CAST({c} AS DOUBLE), 9)" for c in cols)
        n, h = con.execute(f"SELECT count(*), sum(hash({exprs})::HUGEINT) % 18446744073709551616 FROM {source}").fetchone()
        result[table] = (n, f"{int(h or 0):016x}")
    con.close()
    return result


def timed(args, alternatives: list[str], tables: dict[str, list[str]], on_round=None) -> dict[str, list[dict]]:
    """Each alternative in turn, ``--repeats`` rounds; every run's outputs checked against the first alternative's."""
    runs: dict[str, list[dict]] = {alt: [] for alt in alternatives}
    reference = {}  # the first alternative's content
    first = Path(args.home) / "out" / alternatives[0]
    for round_ in range(args.repeats):
        for alt in alternatives:
            out = Path(args.home) / "out" / alt
            run = run_child(args, alt, out)
            got = content(args, alt, out, tables)
            if not reference:
                reference = got if alt == alternatives[0] else content(args, alternatives[0], first, tables)
            mismatched = {t: (got[t], reference[t]) for t in tables if got[t] != reference[t]}
            if mismatched:
                sys.exit(f"{alt} differs from {alternatives[0]} (rows, hash): {mismatched}")
            run["content"] = got
            runs[alt].append(run)
            print(f"round {round_ + 1} {alt}: {run['wall']:.1f}s, cpu {run['cpu']:.1f}s, startup {run['startup']:.1f}s, "
                  f"peak {run['rss_gib']:.2f} GiB", flush=True)
        if on_round:
            on_round(runs)  # the report so far survives a run cut short
    return runs


def report(args, runs: dict[str, list[dict]], tables: dict[str, list[str]], title: str) -> str:
    """Markdown: medians per alternative (wall, start-up, engine steps, peak RSS, ratios) and per-step medians."""
    med = lambda xs: statistics.median(xs)  # noqa: E731
    first = next(iter(runs))
    walls = {alt: med([r["wall"] for r in rs]) for alt, rs in runs.items()}
    lines = [f"### {title}", "",
             f"`{' '.join(['python', 'bench/chain_day.py', *sys.argv[1:]])}`; {args.repeats} rounds, interleaved; "
             f"medians. Machine: {platform.machine()}, {os.cpu_count()} cores, "
             f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, load average "
             f"{os.getloadavg()[1]:.1f} over the last 5 minutes (other work shares the machine: compare ratios "
             "within the table). "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {len(next(iter(runs.values())))} round(s) done. "
             "CPU = user + system seconds of the process and the children it reaped (wait4), plus PySpark's JVM (read "
             "from /proc before the session stops), the figure least moved by the other agents' load; wall and the "
             "per-step times are elapsed time.", "",
             "| alternative | wall (s) | CPU (s) | start-up: imports (s) | steps (s) | rest (s) | peak RSS (GiB) | "
             f"wall: {first} / this | CPU: {first} / this |", "|---|---|---|---|---|---|---|---|---|"]
    cpus = {alt: med([r["cpu"] for r in rs]) for alt, rs in runs.items()}
    for alt, rs in runs.items():
        steps = med([sum(r["steps"].values()) for r in rs])
        startup = med([r["startup"] for r in rs])
        lines.append(f"| {alt} | {walls[alt]:.1f} | {cpus[alt]:.1f} | {startup:.1f} | {steps:.1f} | "
                     f"{walls[alt] - startup - steps:.1f} | {max(r['rss_gib'] for r in rs):.2f} | "
                     f"{walls[first] / walls[alt]:.2f} | {cpus[first] / cpus[alt]:.2f} |")
    names = sorted({s for rs in runs.values() for r in rs for s in r["steps"]},
                   key=lambda s: (list(tables).index(s) if s in tables else -1, s))
    lines += ["", "Per step (median seconds; the assets' step includes its checks and ledger commit; "
              "'rest' above = process and run overhead outside the steps):", "",
              "| step | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    for s in names:
        cells = [f"{med([r['steps'][s] for r in rs]):.2f}" if all(s in r["steps"] for r in rs) else "" for rs in runs.values()]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    got = next(iter(runs.values()))[0]["content"]
    lines += ["", "Outputs (identical in every run of every alternative; hash = sum of DuckDB `hash()` of the compared "
              "columns, order-free):", "", "| table | rows | content hash | compared columns |", "|---|---|---|---|"]
    shown = lambda cols: ", ".join(cols) if len(cols) <= 16 else f"{', '.join(cols[:3])} + {len(cols) - 3} features"  # noqa: E731
    lines += [f"| {t} | {got[t][0]:,} | `{got[t][1]}` | {shown(tables[t])} |" for t in tables]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", default="/tmp/chain_bench")
    parser.add_argument("--world", default="bench")
    parser.add_argument("--users", type=int, help="resize the world preset to this many users")
    parser.add_argument("--lookback", type=int, default=31, help="setup only: event days built before T")
    parser.add_argument("--day", default=BENCH_DAY.isoformat())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--recap-world", default="default", help="Recap's world preset")
    parser.add_argument("--only", nargs="+", default=ALTERNATIVES + RECAP_ALTERNATIVES)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    home = Path(args.home)
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(FEEDTRAIN_HOME=str(home), DAGSTER_HOME=str(home / "dagster_home"))
    sys.path.insert(0, str(ROOT))
    if args.child and not args.child.endswith("dagster"):
        # The hand-written jobs use feedtrain's hashing and DuckDB UDFs but not Dagster: load feedtrain's modules
        # without the package __init__, which imports Dagster (~1.5 s of start-up nobody's script would pay).
        import types

        sys.modules["feedtrain"] = types.ModuleType("feedtrain")
        sys.modules["feedtrain"].__path__ = [str(ROOT / "feedtrain")]
        return child(args)
    use_world(args.world, args.users)
    if args.child:
        return child(args)
    if any(not a.startswith("recap") for a in args.only) and not (home / "setup.json").exists():
        started = time.time()
        setup(home, dt.date.fromisoformat(args.day), args.lookback)
        print(f"setup: {time.time() - started:.0f}s", flush=True)
    realgraph = [a for a in args.only if not a.startswith("recap")]
    text = ""
    if realgraph:
        title = f"Real Graph: one day ({args.day}), world {os.environ['FEEDTRAIN_WORLD']}"
        runs = timed(args, realgraph, COLUMNS,
                     lambda r: (home / "chain_day.md").write_text(report(args, r, COLUMNS, title)))
        text += report(args, runs, COLUMNS, title)
    recap = [a for a in args.only if a.startswith("recap")]
    if recap:  # its own home and world (Recap's bench world is 60k users x 50 impressions a day)
        sys.path.insert(0, str(ROOT / "bench" / "alt"))
        import recap_day

        args.home, args.world, args.users = str(home / "recap"), args.recap_world, None
        os.environ.update(FEEDTRAIN_HOME=args.home, FEEDTRAIN_RECAP_WORLD=args.world)
        Path(args.home).mkdir(exist_ok=True)
        recap_day.setup(Path(args.home))
        args.day = recap_day.BENCH_DAY.isoformat()
        runs = timed(args, recap, recap_day.columns(), lambda r: (home / "chain_day_recap.md").write_text(
            text + "\n" + report(args, r, recap_day.columns(), f"Recap: one day ({args.day}), world {args.world}")))
        text += "\n" + report(args, runs, recap_day.columns(), f"Recap: one day ({args.day}), world {args.world}")
    print("\n" + text)
    (home / "chain_day.md").write_text(text)


if __name__ == "__main__":
    main()
