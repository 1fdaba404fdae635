"""Turn a plain event log (one row per interaction: who, whom, when, what) into Real Graph's daily input files.

Public and in-house interaction logs rarely come as ``interaction_graph_labels_daily`` (one row per pair and UTC day
with the set of interaction names). This writes exactly that, in the layout the door reads (README "Use your own
logs"), with one SQL statement in DuckDB:

    python -m realgraph_assets.from_events events.csv ./my_logs --source userA --destination userB \\
        --time timestamp --time-unit s --type interaction --labels RT=num_retweets,MT=num_mentions,RE=num_replies

gives ``./my_logs/interaction_graph_labels_daily/ds=YYYY-MM-DD/*.parquet`` for every day from the first event to the
last (a folder written before is replaced). A day inside that range with no event gets a file with no rows: it is a day the log covers, with no
interactions, not a missing day. Nothing is filtered here: self-interactions, negative ids and the like are the
door's to count or reject, with its messages.

- ``events``: a CSV or Parquet file, or a glob of them (anything DuckDB's ``read_csv``/``read_parquet`` reads,
  compressed ``.gz`` too). Delimiter and header are detected; a log DuckDB reads as one column is read again as
  whitespace-separated with ``#`` comment lines skipped (SNAP's temporal edge lists: ``SRC DST UNIXTS``).
- ``--columns``: names for the columns of a file without a header row (``--columns src,dst,ts``); without it such a
  file's columns are ``column0``, ``column1``, ...; ``--delimiter`` sets the separator (``space``, ``tab`` or a
  character) when detection gets it wrong.
- ``--time-unit``: ``s``, ``ms`` or ``us`` since the Unix epoch, or ``timestamp`` (a timestamp column, or text
  DuckDB parses as one; without a zone it is taken as UTC). Days are UTC days.
- ``--type`` and ``--labels``: the log's interaction types mapped to Real Graph's names (``realgraph_assets/labels.py``);
  a type the mapping does not name is an error listing the unmapped values. Without ``--type``, every event is
  ``--label`` (default ``num_tweet_clicks``, an implicit interaction).
- ``--hash-ids``: ids that are not integers (user names, hex strings) become non-negative BIGINTs by FarmHash
  Fingerprint64 (the sampling hash), the same id for the same text in every file.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import duckdb

TABLE = "interaction_graph_labels_daily"
EPOCH_UNITS = {"s": 1_000_000, "ms": 1_000, "us": 1}


class BadEvents(ValueError):
    """The event log cannot be turned into daily files as asked."""


DELIMITERS = {"space": " ", "tab": "\t"}


def _reader(events: str, columns: list[str] | None = None, delimiter: str | None = None,
            whitespace: bool = False) -> str:
    if events.endswith(".parquet"):
        return f"read_parquet('{events}')"
    options = []
    if columns:
        options += ["header = false", f"names = {columns!r}"]
    if delimiter or whitespace:
        options.append(f"delim = {DELIMITERS.get(delimiter, delimiter or ' ')!r}")
    if whitespace:
        options.append("comment = '#'")
    return f"read_csv('{events}'{''.join(', ' + o for o in options)})"


def _open(conn, events: str, columns: list[str] | None, delimiter: str | None) -> list[str]:
    """Define the view raw_events over the log; returns its column names. One column with a space in its name means
    the sniffer missed a whitespace-separated log: read it again as one (the first row then decides the header)."""
    fixed = bool(delimiter) or events.endswith(".parquet")
    error = None
    for whitespace in (False,) if fixed else (False, True):
        try:
            conn.execute(f"CREATE OR REPLACE TEMP VIEW raw_events AS "
                         f"SELECT * FROM {_reader(events, columns, delimiter, whitespace)}")
            have = [r[0] for r in conn.execute("SELECT column_name FROM (DESCRIBE raw_events)").fetchall()]
        except duckdb.Error as e:
            error = error or e
            continue
        if fixed or whitespace or not (len(have) == 1 and " " in have[0].strip()):
            return have
    if error:
        raise BadEvents(f"{events}: cannot read the event log ({str(error).splitlines()[0]})")
    return have


def _time(column: str, unit: str) -> str:
    if unit in EPOCH_UNITS:
        return f"make_timestamp(CAST({column} AS BIGINT) * {EPOCH_UNITS[unit]})"
    if unit == "timestamp":
        return f"CAST(CAST({column} AS TIMESTAMPTZ) AS TIMESTAMP)"  # the session zone is UTC
    raise BadEvents(f"--time-unit {unit!r}: expected one of {[*EPOCH_UNITS, 'timestamp']}")


def _id(column: str, hash_ids: bool) -> str:
    return f"(farm_fingerprint(CAST({column} AS VARCHAR)) & 9223372036854775807)" if hash_ids else \
        f"CAST({column} AS BIGINT)"


def convert(events: str, out: Path, source: str, destination: str, time: str, time_unit: str = "s",
            type_column: str | None = None, labels: dict[str, str] | None = None,
            label: str = "num_tweet_clicks", hash_ids: bool = False, columns: list[str] | None = None,
            delimiter: str | None = None) -> dict:
    """Write the daily files; returns {"events", "rows", "days", "first", "last", "empty_days"}."""
    from feedtrain.engine.duckdb import register_functions

    from .labels import ALL_LABELS

    mapping = labels or {}
    unknown = sorted({v for v in [*mapping.values(), label] if v not in ALL_LABELS})
    if unknown:
        raise BadEvents(f"label name(s) {unknown} are not Real Graph interaction names; expected names from "
                        f"realgraph_assets/labels.py, e.g. {list(ALL_LABELS[:4])}")
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    register_functions(conn)
    have = _open(conn, events, columns, delimiter)
    wanted = [c for c in (source, destination, time, type_column) if c]
    missing = [c for c in wanted if c not in have]
    if missing:
        hint = (" (no header row: name them with --columns, e.g. --columns "
                f"{','.join(['src', 'dst', 'ts', 'type'][:len(have)])})" if have[0] == "column0" else "")
        raise BadEvents(f"{events}: column(s) {missing} not found; the log has {have}{hint}")
    if type_column:
        conn.register("label_map", _mapping_table(mapping))
        unmapped = conn.execute(f"SELECT CAST({type_column} AS VARCHAR) AS t, count(*) FROM raw_events "
                                f"WHERE CAST({type_column} AS VARCHAR) NOT IN (SELECT type FROM label_map) "
                                f"OR {type_column} IS NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5").fetchall()
        if unmapped:
            raise BadEvents(f"{events} (column {type_column}): interaction type(s) {unmapped} (value, events) have no "
                            f"Real Graph name; expected --labels to map each, e.g. "
                            f"--labels {unmapped[0][0]}=num_favorites")
        label_expr, join = "m.name", f"JOIN label_map m ON m.type = CAST(e.{type_column} AS VARCHAR)"
    else:
        label_expr, join = f"'{label}'", ""
    try:
        conn.execute(f"""
            CREATE TEMP TABLE events AS
            SELECT {_id('e.' + source, hash_ids)} AS source_id, {_id('e.' + destination, hash_ids)} AS destination_id,
                   CAST({_time('e.' + time, time_unit)} AS DATE) AS ds, {label_expr} AS label
            FROM raw_events e {join}""")
    except duckdb.ConversionException as e:
        hint = "" if hash_ids else "; ids that are not integers need --hash-ids"
        raise BadEvents(f"{events}: {str(e).splitlines()[0]}{hint}") from None
    bad = conn.execute("SELECT count(*) FILTER (WHERE source_id IS NULL OR destination_id IS NULL), "
                       "count(*) FILTER (WHERE ds IS NULL) FROM events").fetchone()
    if any(bad):
        raise BadEvents(f"{events}: {bad[0]} event(s) with a NULL id and {bad[1]} with a NULL time; expected every "
                        f"event to name both users and its time")
    n_events, first, last = conn.execute("SELECT count(*), min(ds), max(ds) FROM events").fetchone()
    if not n_events:
        raise BadEvents(f"{events}: no events; expected at least one day of interactions")
    target = out / TABLE
    target.mkdir(parents=True, exist_ok=True)
    rows = conn.execute(f"""
        COPY (SELECT source_id, destination_id, list(DISTINCT label ORDER BY label) AS labels, ds
              FROM events GROUP BY source_id, destination_id, ds ORDER BY ds, source_id, destination_id)
        TO '{target}' (FORMAT parquet, PARTITION_BY (ds), OVERWRITE)""").fetchone()[0]
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    present = {r[0] for r in conn.execute("SELECT DISTINCT ds FROM events").fetchall()}
    empty = [d for d in days if d not in present]
    for d in empty:
        conn.execute(f"COPY (SELECT CAST(NULL AS BIGINT) AS source_id, CAST(NULL AS BIGINT) AS destination_id, "
                     f"CAST(NULL AS VARCHAR[]) AS labels WHERE false) TO '{target}/ds={d}.parquet' (FORMAT parquet)")
    conn.close()
    return {"events": n_events, "rows": rows, "days": len(days), "first": first, "last": last, "empty_days": len(empty)}


def _mapping_table(mapping: dict[str, str]):
    import pyarrow as pa

    return pa.table({"type": pa.array(list(mapping), pa.string()), "name": pa.array(list(mapping.values()), pa.string())})


def parse_labels(text: str) -> dict[str, str]:
    """``RT=num_retweets,MT=num_mentions`` -> {"RT": "num_retweets", "MT": "num_mentions"}."""
    pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
    if any(len(p) != 2 for p in pairs):
        raise BadEvents(f"--labels {text!r}: expected TYPE=name pairs separated by commas")
    return {k.strip(): v.strip() for k, v in pairs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", help="CSV or Parquet file (or glob) with one row per interaction")
    parser.add_argument("out", type=Path, help="the log folder to write (FEEDTRAIN_REALGRAPH_FILES)")
    parser.add_argument("--source", required=True, help="column of the user who acted (A)")
    parser.add_argument("--destination", required=True, help="column of the user acted on (B)")
    parser.add_argument("--time", required=True, help="column of the event time")
    parser.add_argument("--time-unit", default="s", choices=[*EPOCH_UNITS, "timestamp"])
    parser.add_argument("--type", dest="type_column", help="column of the interaction type")
    parser.add_argument("--labels", type=parse_labels, help="TYPE=name,... mapping each type to a Real Graph name")
    parser.add_argument("--label", default="num_tweet_clicks", help="the name of every event when there is no --type")
    parser.add_argument("--hash-ids", action="store_true", help="map non-integer ids to BIGINTs by FarmHash")
    parser.add_argument("--columns", type=lambda t: [c.strip() for c in t.split(",")],
                        help="names of the columns of a file without a header row, e.g. src,dst,ts")
    parser.add_argument("--delimiter", help="field separator: space, tab or a character (default: detected)")
    args = parser.parse_args(argv)
    try:
        stats = convert(args.events, args.out, args.source, args.destination, args.time, args.time_unit,
                        args.type_column, args.labels, args.label, args.hash_ids, args.columns, args.delimiter)
    except BadEvents as e:
        raise SystemExit(f"error: {e}") from None
    print(f"{stats['events']:,} events -> {stats['rows']:,} pair-days over {stats['days']} days "
          f"({stats['first']} .. {stats['last']}, {stats['empty_days']} without events) in {args.out / TABLE}")
    from .windows import days_needed  # here, not at the top: it loads Dagster, which converting does not need

    print(days_needed(dt.date.fromisoformat(str(stats["first"])), dt.date.fromisoformat(str(stats["last"]))))
    print(f"next: FEEDTRAIN_REALGRAPH_SOURCE=files FEEDTRAIN_REALGRAPH_FILES={args.out.resolve()} "
          f"FEEDTRAIN_START_DATE={stats['first']} (README 'Use your own logs')")


if __name__ == "__main__":
    main()
