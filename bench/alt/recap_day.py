"""One day of Recap's chain (impressions_labeled, impression_features, the ten train_<head> sets): the days it reads,
the assets' runs (``recap_dagster`` and ``recap_spark_engine`` run them through bench/chain_day.py), and the day as
one DuckDB script (``recap_duckdb``). The script runs the assets' SQL files (they are the hand-written SQL of this
chain; a second copy of a 200-line feature query would prove nothing) without Dagster, checks or ledger, and the
per-head downsampling as SQL with the project's fingerprint UDF. It has no stored rollup: the assets' ``user_days``
is a view over the 50 raw days there, re-read every day as a team's scheduled SQL does."""

import datetime as dt
import json
import time
from pathlib import Path

EVENTS_START = dt.date(2026, 6, 1)
BENCH_DAY = EVENTS_START + dt.timedelta(days=50)  # the first day with 50 feature days before it
SQL = Path(__file__).resolve().parents[2] / "recap_assets" / "sql"
# recap_assets.features.feature_params and LabelsConfig defaults (the assets' own values; the harness checks outputs)
FEATURE_PARAMS = {"window_days": 50, "realtime_hours": 24, "realgraph_days": 31, "decay": 0.955, "candidate_days": 2}
LABEL_PARAMS = {"window_minutes": 180, "label_delay_days": 1}


def columns() -> dict[str, list[str]]:
    from recap_assets.features import FEATURES
    from recap_assets.heads import HEADS, LABEL_COLUMNS

    return {"impressions_labeled": ["impression_id", *LABEL_COLUMNS],
            "impression_features": ["impression_id", *FEATURES],
            **{f"train_{h}": ["impression_id", "label", "weight", *FEATURES] for h in HEADS}}


def setup(home: Path) -> None:
    """The raw Recap logs of [EVENTS_START, T+1] through the simulator asset, and their daily rollup user_days."""
    if (home / "recap_setup.json").exists():
        return
    import dagster as dg

    from feedtrain.driver import materialize_days
    from recap_assets.definitions import defs

    started = time.time()
    materialize_days(defs, "recap", ["group:recap_sources", "user_days"], EVENTS_START,
                     BENCH_DAY + dt.timedelta(days=1), instance=dg.DagsterInstance.ephemeral())
    export_inputs(home, BENCH_DAY)
    print(f"recap setup: {time.time() - started:.0f}s", flush=True)
    (home / "recap_setup.json").write_text(json.dumps({"day": BENCH_DAY.isoformat()}))


def reads(day: dt.date) -> dict[str, tuple[dt.date, dt.date]]:
    """The stored days the chain of ``day`` reads, per table: (first, last). All are raw logs except the assets' daily
    rollup ``user_days`` (the hand-written jobs compute the same sums from the raw days)."""
    d = lambda n: dt.timedelta(days=n)  # noqa: E731
    first = day - d(FEATURE_PARAMS["window_days"])
    return {"impressions": (first, day), "engagements": (first, day + d(LABEL_PARAMS["label_delay_days"])),
            "follows": (EVENTS_START, day), "tweets": (day - d(FEATURE_PARAMS["candidate_days"]), day),
            "users": (day, day), "user_days": (first, day - d(1))}


def rollup_window(day: dt.date) -> dict[str, dt.date]:
    """The ``user_days`` days the features of ``day`` read, as the rollup query's ``$first`` / ``$last``: the
    hand-written jobs compute them from the raw days in a view."""
    first, last = reads(day)["user_days"]
    return {"first": first, "last": last}


def runs(day: dt.date) -> list[tuple]:
    """The assets' runs of the day as (schema, tables, first, last): the daily rollup of the newest day the features
    read (a schedule builds it when that day's logs land: one rollup day per day), the features, then the labels and
    the ten train sets (which read both)."""
    from recap_assets.heads import HEADS

    return [("recap", ["user_days"], day - dt.timedelta(days=1), day - dt.timedelta(days=1)),
            ("recap", ["impression_features"], day, day),
            ("recap", ["impressions_labeled", *[f"train_{h}" for h in HEADS]], day, day)]


def export_inputs(home: Path, day: dt.date) -> None:
    """Day T's raw inputs as Parquet under ``home/inputs`` (one file per table, the days the chain reads) for the
    pandas and PySpark jobs, which read files as such jobs do, not the DuckDB warehouse."""
    import duckdb

    out = home / "inputs"
    out.mkdir(exist_ok=True)
    con = duckdb.connect(str(home / "recap_warehouse.duckdb"), read_only=True)
    for table, (first, last) in reads(day).items():
        if table == "user_days":  # the assets' rollup; the jobs compute from the raw days
            continue
        con.execute(f"COPY (SELECT * FROM recap.{table} WHERE ds BETWEEN DATE '{first}' AND DATE '{last}') "
                    f"TO '{out / table}.parquet' (FORMAT parquet)")
    con.close()


def run(home: Path, day: dt.date, out: Path, alt: str) -> dict:
    assert alt == "recap_duckdb", alt  # the assets' runs (recap_dagster, recap_spark_engine): chain_day.run_assets
    return run_duckdb(home, day, out)


def inline(query: str, params: dict) -> str:
    """``query`` with its ``$name`` date parameters written in (a view cannot take parameters). Not
    feedtrain.engine.sql.bind: importing the translator (sqlglot) would add 0.2-0.8 s to this yardstick's day."""
    for name, value in params.items():
        query = query.replace(f"${name}", f"DATE '{value}'")
    return query


def run_duckdb(home: Path, day: dt.date, out: Path) -> dict:
    import duckdb

    from feedtrain import hashing
    from feedtrain.engine.duckdb import register_functions
    from recap_assets.heads import HEADS, LABEL_COLUMNS, keep_rates

    imported = time.time()
    con = duckdb.connect()
    register_functions(con)
    con.execute(f"ATTACH '{home / 'recap_warehouse.duckdb'}' AS wh (READ_ONLY)")
    con.execute("USE wh.recap")
    label_sql = (SQL / "impressions_labeled.sql").read_text() \
        .replace("{label_columns}", ", ".join(f"{h.label_sql} AS {h.column}" for h in HEADS.values())) \
        .replace("{label_outputs}", ", ".join(f"coalesce(l.{c}, false)::INTEGER AS {c}" for c in LABEL_COLUMNS))
    steps = {}

    def step(name, query, params=None):
        started = time.time()
        con.execute(f"CREATE TEMP TABLE {name} AS {query}", params)
        con.execute(f"COPY temp.{name} TO '{out / name}.parquet' (FORMAT parquet)")
        # the ten heads' sets under the assets' step name (one multi-asset builds them all)
        step_name = "training_datasets" if name.startswith("train_") else name
        steps[step_name] = steps.get(step_name, 0.0) + time.time() - started

    step("impressions_labeled", label_sql, {"ds": day, **LABEL_PARAMS})
    # A team's daily script has no rollup table: user_days is a view computing the 50 days from the raw logs, with the
    # assets' own rollup query, so the features query re-reads the window as such a script does.
    con.execute("CREATE TEMP VIEW user_days AS " + inline((SQL / "user_days.sql").read_text(), rollup_window(day)))
    step("impression_features", (SQL / "impression_features.sql").read_text(), {"ds": day, **FEATURE_PARAMS})
    for h, head in HEADS.items():
        pos, neg = keep_rates(head)
        salt = int(hashing.fingerprint64([h])[0])
        step(f"train_{h}", f"""
            SELECT f.*, l.{head.column} AS label, l.{head.column} / {pos!r} + (1 - l.{head.column}) / {neg!r} AS weight
            FROM temp.impression_features f JOIN temp.impressions_labeled l USING (impression_id)
            WHERE fingerprint_uniform(concat_ws('_', impression_id, {salt}, 0))
                  < CASE WHEN l.{head.column} = 1 THEN {pos!r} ELSE {neg!r} END""")
    return {"imported": imported, "steps": steps}
