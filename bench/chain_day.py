"""One day of the Real Graph chain (and of Recap's) through the assets vs hand-written DuckDB SQL, pandas and PySpark.

    python bench/chain_day.py [--home /tmp/chain_bench] [--world bench] [--repeats 3] [--only dagster duckdb ...]
    python bench/chain_day.py --home /tmp/chain_college --logs ./college_logs [--day 2004-06-01]   # your own log

1. Setup (skipped when ``--home`` already holds it): simulates the world into the raw tables and builds, through the
   real assets, every upstream day the bench day T needs (interaction_days over the 91-day histories of T-6..T, from
   the first event day on; the days [T-6, T-1] of the layers above), then exports the inputs of day T to Parquet for
   the pandas and PySpark jobs (not timed). With a Spark-engine alternative, also the Spark-engine world beside the
   DuckDB one, ``<home>/spark_engine`` (once per home, in a process of its own, not timed): the stored days the timed
   day reads (``reads``; Recap's ``recap_day.reads``) and, of each table it builds, the 14 days before (the checks'
   trailing windows), loaded from the DuckDB warehouse through the Spark engine's ``load_days``
   (``recording.load_world``).
2. Timing: each alternative is one fresh process, run in turn (A B C D A B C D ...) ``--repeats`` times. Each computes
   the same day: interaction_days of T+1, tweeting_follows, candidates, candidates_sampled, labeled_candidates[_explicit]
   and train[_explicit] of T. Wall time and peak RSS come from the OS (wait4) for the whole process; each process
   reports when its imports were done and per-step times.
3. Checks: after every run, the row count and an order-free content hash of each output over the columns of
   ``COLUMNS`` must equal the assets' (the run fails loudly otherwise).

Alternatives: ``dagster`` (the assets through ``feedtrain.driver`` on DuckDB), ``duckdb``
(bench/alt/realgraph_duckdb.py), ``pandas`` (bench/alt/realgraph_pandas.py), ``pyspark``
(bench/alt/realgraph_pyspark.py, local[*]); for Recap ``recap_dagster``, ``recap_duckdb`` (bench/alt/recap_day.py),
``recap_pandas`` and ``recap_pyspark``. Every alternative computes every column the assets store and is checked on
all of them. Outputs and worlds stay under ``--home`` (/tmp).

``--logs DIR`` times Real Graph on a folder of your own input files (docs/own_logs.md; e.g. the output of
``realgraph_assets.from_events``) instead of a simulated world: the setup loads them through the files source,
the partitions start at the folder's first day, and T defaults to the busiest day that has its 31-day look-back,
six earlier labeled days and the next day (``logs_day``). The hand-written jobs read the same exported inputs, so
the comparison holds on any log.

Not in the default lists, ``--only`` them: ``spark_engine`` and ``recap_spark_engine``, the same assets and runs as
``dagster`` / ``recap_dagster`` on feedtrain's own Spark engine (``Warehouse(engine="spark")``, local[2], the JVM
heap ``SPARK_DRIVER_MEMORY``) over the Spark-engine world; their outputs are read from the engine's day partitions
(Parquet) and checked like the others'. Local Spark runs every statement as a job: a day takes minutes.
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
# The alternatives that run the assets themselves, and the engine of their warehouse: the DuckDB world the setup builds,
# or the Spark-engine world beside it (``<home>/SPARK_WORLD``). The Spark engine's two are not in the default lists
# (``--only`` them): local Spark pays a job per statement, a bench-size day takes minutes.
ASSETS = {"dagster": "duckdb", "spark_engine": "spark", "recap_dagster": "duckdb", "recap_spark_engine": "spark"}
SPARK_WORLD = "spark_engine"
# The heap of every Spark JVM of the bench (the hand-written jobs' spark.driver.memory; the Spark engine's through the
# launcher's SPARK_DRIVER_MEMORY, unless set): Spark's default 1 GiB runs out loading a small world's 50 days of Recap
# impressions (java.lang.OutOfMemoryError), and a bench-size day's Arrow hand-offs are larger.
SPARK_DRIVER_MEMORY = "4g"
# The look-back of the checks of a day the chain builds: the drift check's 7 trailing days (feedtrain/quality.py
# DRIFT_DAYS) and the label-rate band's 14 (realgraph_assets/labeled_candidates.py LabelsConfig.trailing_days).
CHECK_DAYS = 14


def day_of(table: str, day: dt.date) -> dt.date:
    """The day of ``table`` that bench day T's chain builds: the newest event day T+1 for interaction_days."""
    return day + dt.timedelta(days=1) if table == "interaction_days" else day


def realgraph_runs(day: dt.date) -> list[tuple]:
    """The timed day's runs as (schema, tables, first day, last day): one run per partitions definition (Dagster runs
    assets of one partitioning together), as a daily schedule would."""
    return [("realgraph", names, day_of(names[0], day), day_of(names[0], day)) for names in
            [["interaction_days"], ["tweeting_follows"], ["candidates", "candidates_sampled"],
             ["labeled_candidates", "labeled_candidates_explicit"], ["train", "train_explicit"]]]


def reads(day: dt.date, lookback: int) -> dict[str, tuple[str, dt.date, dt.date]]:
    """What bench day T's chain reads of each stored table: (columns, first day, last day)."""
    from realgraph_assets.windows import HISTORY_DAYS

    d = lambda n: dt.timedelta(days=n)  # noqa: E731
    return {
        "interaction_graph_labels_daily": ("source_id, destination_id, labels, ds", day + d(1), day + d(1)),
        # the 31-day window and, for long_num_days, the pair's longer history (from the first event day on)
        "interaction_days": ("*", day - d(max(lookback, HISTORY_DAYS) - 1), day),
        "valid_user_follows": ("*", day, day),
        "public_tweets": ("user_id, ds", day - d(3), day),
        "interaction_graph_agg_negative_edge_snapshot": ("source_id, destination_id, ds", day, day + d(1)),
        "labeled_candidates": ("*", day - d(6), day - d(1)),
        "labeled_candidates_explicit": ("*", day - d(6), day - d(1)),
    }


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


def log_days(logs: Path) -> dict[dt.date, Path]:
    """The days of a folder of Real Graph input files (docs/own_logs.md): {day: its ds=YYYY-MM-DD file or folder}."""
    entries = {dt.date.fromisoformat(p.name[3:13]): p for p in (logs / "interaction_graph_labels_daily").iterdir()
               if p.name.startswith("ds=")}
    if not entries:
        sys.exit(f"{logs}/interaction_graph_labels_daily holds no ds=YYYY-MM-DD day (docs/own_logs.md)")
    return dict(sorted(entries.items()))


def use_logs(logs: Path) -> list[dt.date]:
    """Point this process (and the children it starts) at a folder of Real Graph input files; returns its days."""
    days = list(log_days(logs))
    os.environ.update(FEEDTRAIN_REALGRAPH_SOURCE="files", FEEDTRAIN_REALGRAPH_FILES=str(logs.resolve()),
                      FEEDTRAIN_START_DATE=days[0].isoformat(), FEEDTRAIN_WORLD=f"logs {logs.resolve().name}")
    return days


def logs_day(logs: Path, lookback: int = 31) -> dt.date:
    """The bench day of a log: among the days with a full look-back, six labeled days before them and the next day
    (labels read T+1), the one whose look-back window holds the most interaction bytes (the biggest candidates day)."""
    def size(p: Path) -> int:
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else p.stat().st_size

    by_day = {day: size(p) for day, p in log_days(logs).items()}
    days = list(by_day)
    eligible = [d for d in days if d - dt.timedelta(days=lookback - 1 + 6) >= days[0]
                and d + dt.timedelta(days=1) in by_day]
    if not eligible:
        sys.exit(f"{logs}: {len(days)} days ({days[0]}..{days[-1]}) are too few for a bench day: it needs "
                 f"{lookback - 1 + 6} days before it (the look-back of its first labeled day, six days earlier) and "
                 "the day after")
    window = lambda d: sum(by_day.get(d - dt.timedelta(days=i), 0) for i in range(lookback))  # noqa: E731
    return max(eligible, key=lambda d: (window(d), d))


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

    out = home / "inputs"
    out.mkdir(exist_ok=True)
    con = duckdb.connect(str(home / "realgraph_warehouse.duckdb"), read_only=True)
    for table, (cols, a, b) in reads(day, lookback).items():
        con.execute(f"COPY (SELECT {cols} FROM realgraph.{table} WHERE ds BETWEEN DATE '{a}' AND DATE '{b}') "
                    f"TO '{out / table}.parquet' (FORMAT parquet)")
    con.close()


def setup_spark_engine(home: Path, schema: str, runs: list[tuple], read: dict[str, tuple[dt.date, dt.date]]) -> None:
    """The Spark-engine world beside the DuckDB one (``home/SPARK_WORLD``; once, not timed): of the DuckDB warehouse's
    stored days, those the timed ``runs`` read (``read``: {table: (first, last)}) and, of each table they build, the
    CHECK_DAYS before the built day (the checks' trailing windows), loaded through the Spark engine's ``load_days``
    (``recording.load_world``, which skips the days the runs build)."""
    from feedtrain.engine import recording

    started = time.time()
    needed = {t: {a + dt.timedelta(days=i) for i in range((b - a).days + 1)} for t, (a, b) in read.items()}
    for table, days in recording.built_days(runs, schema).items():
        needed.setdefault(table, set()).update(d - dt.timedelta(days=i) for d in days for i in range(1, CHECK_DAYS + 1))
    recording.load_world({schema: recording.warehouses(home, "duckdb")[schema]},
                         recording.warehouses(home / SPARK_WORLD, "spark"), runs,
                         lambda line: print(line, flush=True), only={schema: needed})
    (home / SPARK_WORLD / "setup.json").write_text(json.dumps({"seconds": round(time.time() - started)}))


# -- the children: one process per timed run ------------------------------------------------------------------------

def run_assets(home: Path, runs: list[tuple], engine: str) -> dict:
    """The timed day through the real assets (``feedtrain.driver.materialize_days``, one run per (schema, tables,
    first, last) of ``runs``, one ephemeral instance), on the DuckDB warehouse under ``home`` or, engine "spark", the
    Spark-engine world beside it; per-step seconds from the instance. With Spark, the CPU of the engine's local JVM
    too, which this process never reaps (``jvm_cpu_seconds``)."""
    import importlib

    import dagster as dg

    from feedtrain.driver import materialize_days

    defs = {schema: importlib.import_module(f"{schema}_assets.definitions").defs for schema, *_ in runs}
    if engine == "spark":
        from feedtrain.engine.recording import warehouses
        from feedtrain.engine.spark import session
    imported = time.time()
    instance, steps = dg.DagsterInstance.ephemeral(), {}
    stores = warehouses(home / SPARK_WORLD, engine) if engine == "spark" else {}
    for schema, names, first, last in runs:
        resources = {**defs[schema].resources, "warehouse": stores[schema]} if stores else None
        result = materialize_days(defs[schema], schema, names, first, last, instance=instance, resources=resources)
        for s in instance.get_run_step_stats(result.run_id):
            steps[s.step_key.removeprefix(f"{schema}__")] = s.end_time - s.start_time
    report = {"imported": imported, "steps": steps}
    if engine == "spark":
        report["jvm_cpu"] = jvm_cpu_seconds(session())  # the engine's session of the runs (one per process)
    return report


def child(args) -> None:
    """Runs one alternative (or, ``<alternative>_setup``, the Spark-engine world's setup); prints one JSON line with
    its timestamps and per-step seconds."""
    home, day, out = Path(args.home), dt.date.fromisoformat(args.day), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT / "bench" / "alt"))
    alt = args.child.removesuffix("_setup")
    if alt in ASSETS:
        import recap_day

        recap = alt.startswith("recap")
        schema, runs = ("recap", recap_day.runs(day)) if recap else ("realgraph", realgraph_runs(day))
        if args.child.endswith("_setup"):
            lookback = None if recap else json.loads((home / "setup.json").read_text())["lookback"]
            read = recap_day.reads(day) if recap else {t: (a, b) for t, (_, a, b) in reads(day, lookback).items()}
            return setup_spark_engine(home, schema, runs, read)
        report = run_assets(home, runs, ASSETS[alt])
    else:
        module = {"duckdb": "realgraph_duckdb", "pandas": "realgraph_pandas", "pyspark": "realgraph_pyspark",
                  "recap_duckdb": "recap_day", "recap_pandas": "recap_pandas", "recap_pyspark": "recap_pyspark"}[alt]
        report = __import__(module).run(home, day, out, alt)
    report["finished"] = time.time()
    print("BENCH " + json.dumps(report), flush=True)


# -- the harness ----------------------------------------------------------------------------------------------------

def jvm_cpu_seconds(spark) -> float:
    """User + system CPU seconds of a local Spark session's JVM so far: the harness's wait4 misses it (the child
    process never reaps the JVM, which PySpark launches as a child)."""
    fields = Path(f"/proc/{spark.sparkContext._gateway.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime, stime, cutime, cstime


class TreeRss(threading.Thread):
    """Samples the summed RSS of a process and all its descendants (a Spark JVM is not reaped by its Python) every
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


def child_command(args, alt: str, out: Path) -> list[str]:
    return [sys.executable, __file__, "--child", alt, "--home", args.home, "--day", args.day, "--out", str(out),
            "--world", args.world] + (["--users", str(args.users)] if args.users else []) + (
                ["--logs", str(args.logs)] if getattr(args, "logs", None) else [])


def spark_world(args, alternatives: list[str]) -> None:
    """The Spark-engine world's setup if ``alternatives`` (one location's) hold its Spark-engine alternative, in a
    process of its own (its JVM must not idle beside the timed runs); skipped when present."""
    world = Path(args.home) / SPARK_WORLD
    alt = next((a for a in alternatives if ASSETS.get(a) == "spark"), None)
    if alt and not (world / "setup.json").exists():
        started = time.time()
        subprocess.run(child_command(args, f"{alt}_setup", world), cwd=ROOT, check=True)
        print(f"setup {alt}: {time.time() - started:.0f}s", flush=True)


def run_child(args, alt: str, out: Path) -> dict:
    """One fresh process; wall and CPU time from wait4, peak RSS sampled over its process tree (wait4's maxrss would
    include this harness's own RSS, copied at fork)."""
    cmd = child_command(args, alt, out)
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
    # CPU of the process and the children it reaped, plus what a child reports it ran outside them (Spark's JVM)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime + report.get("jvm_cpu", 0.0),
            "startup": report["imported"] - started,
            "steps": report["steps"], "rss_gib": tree.peak / 2**30}


def content(args, alt: str, out: Path, tables: dict[str, list[str]]) -> dict[str, tuple[int, str]]:
    """(rows, order-free hash over the compared columns) of each output: the assets' from the DuckDB warehouse or
    from the Spark engine's day partitions (Parquet under ``<world>/spark/<schema>/<table>/ds=<day>``,
    feedtrain/engine/spark.py), the others' from their Parquet."""
    import duckdb

    con = duckdb.connect()
    day = dt.date.fromisoformat(args.day)
    engine, schema = ASSETS.get(alt), "recap" if alt.startswith("recap") else "realgraph"
    if engine == "duckdb":
        con.execute(f"ATTACH '{Path(args.home) / schema}_warehouse.duckdb' AS wh (READ_ONLY)")
    result = {}
    for table, cols in tables.items():
        d = day_of(table, day)
        partition = Path(args.home) / SPARK_WORLD / "spark" / schema / table / f"ds={d}"
        files = sorted(str(f) for f in partition.glob("*.parquet")) if engine == "spark" else []
        source = (f"(SELECT * FROM wh.{schema}.{table} WHERE ds = DATE '{d}')" if engine == "duckdb"
                  else f"read_parquet({files})" if files
                  else f"(SELECT NULL AS {', NULL AS '.join(cols)} WHERE false)" if engine == "spark"  # no row, no file
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
             "CPU = user + system seconds of the process and the children it reaped (wait4), plus a Spark JVM's (read "
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
    parser.add_argument("--day", help=f"the bench day T (default {BENCH_DAY}; with --logs, logs_day)")
    parser.add_argument("--logs", type=Path, help="a folder of Real Graph input files to time instead of a "
                        "simulated world (docs/own_logs.md); Real Graph alternatives only")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--recap-world", default="default", help="Recap's world preset")
    parser.add_argument("--only", nargs="+", default=ALTERNATIVES + RECAP_ALTERNATIVES)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    home = Path(args.home)
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(FEEDTRAIN_HOME=str(home), DAGSTER_HOME=str(home / "dagster_home"))
    os.environ.setdefault("SPARK_DRIVER_MEMORY", SPARK_DRIVER_MEMORY)
    sys.path.insert(0, str(ROOT))
    if args.child and args.child.removesuffix("_setup") not in ASSETS:
        # The hand-written jobs use feedtrain's hashing and DuckDB UDFs but not Dagster: load feedtrain's modules
        # without the package __init__, which imports Dagster (~1.5 s of start-up nobody's script would pay).
        import types

        sys.modules["feedtrain"] = types.ModuleType("feedtrain")
        sys.modules["feedtrain"].__path__ = [str(ROOT / "feedtrain")]
        return child(args)
    if args.logs:
        use_logs(args.logs)
        args.day = args.day or logs_day(args.logs, args.lookback).isoformat()
        if any(a.startswith("recap") for a in args.only):
            args.only = [a for a in args.only if not a.startswith("recap")]
            print("--logs: Real Graph only (Recap's inputs are not an interaction log)", flush=True)
    else:
        use_world(args.world, args.users)
    args.day = args.day or BENCH_DAY.isoformat()
    if args.child:
        return child(args)
    if any(not a.startswith("recap") for a in args.only) and not (home / "setup.json").exists():
        started = time.time()
        setup(home, dt.date.fromisoformat(args.day), args.lookback)
        print(f"setup: {time.time() - started:.0f}s", flush=True)
    realgraph = [a for a in args.only if not a.startswith("recap")]
    text = ""
    if realgraph:
        spark_world(args, realgraph)
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
        spark_world(args, recap)
        runs = timed(args, recap, recap_day.columns(), lambda r: (home / "chain_day_recap.md").write_text(
            text + "\n" + report(args, r, recap_day.columns(), f"Recap: one day ({args.day}), world {args.world}")))
        text += "\n" + report(args, runs, recap_day.columns(), f"Recap: one day ({args.day}), world {args.world}")
    print("\n" + text)
    (home / "chain_day.md").write_text(text)


if __name__ == "__main__":
    main()
