"""Validation at the door: each kind of bad input gets its own clear message (file or table, column, day, an
offending value or row, what was expected) and nothing of the day is written. docs/bad_input.md lists them."""

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import D
from feedtrain import ingest
from feedtrain.export import export
from feedtrain.partitions import EVENTS_START
from feedtrain.warehouse import Warehouse
from realgraph_assets.contract import CONTRACT as REALGRAPH
from realgraph_assets.resources import SQL_DIR as REALGRAPH_SQL
from recap_assets.contract import CONTRACT as RECAP
from recap_assets.resources import SQL_DIR as RECAP_SQL

DAY = D(0)
LAST = D(60)
LABELS, NEGATIVE, FOLLOWS, TWEETS = ("interaction_graph_labels_daily", "interaction_graph_agg_negative_edge_snapshot",
                                     "valid_user_follows", "public_tweets")


@pytest.fixture(scope="module")
def realgraph_files(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("realgraph_logs")
    export("realgraph", root, [DAY])
    return root


@pytest.fixture(scope="module")
def recap_files(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("recap_logs")
    export("recap", root, [D(0), D(1), D(2)])
    return root


def rewrite(path: Path, select: str, fmt: str = "parquet") -> Path:
    """Replace a delivered file by ``select`` over its rows (relation ``t``), written as ``fmt``."""
    conn = duckdb.connect()
    conn.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{path}')")
    path.unlink()
    out = path.with_suffix(f".{fmt}")
    conn.execute(f"COPY ({select}) TO '{out}' (FORMAT {fmt})")
    return out


def warehouse(home: Path, schema: str, sql_dir: Path) -> Warehouse:
    return Warehouse(database=str(home / f"{schema}.duckdb"), schema_name=schema, ddl_path=str(sql_dir / "schema.sql"))


def written(wh: Warehouse, contract, day: dt.date) -> int:
    """Ledger rows plus stored rows of ``day`` over the contract's tables."""
    with wh.connect() as conn:
        n = conn.scalar("SELECT count(*) FROM feedtrain_ledger WHERE ds = ?", [day])
        for t in contract.tables:
            if conn.table_columns(t.name):
                n += conn.scalar(f"SELECT count(*) FROM {t.name} WHERE ds = ?", [day])
    return n


def load(wh: Warehouse, contract, root: Path, day: dt.date, limits=ingest.Limits()) -> dict:
    with wh.connect() as conn:
        return ingest.load_files(conn, contract, str(root), day, EVENTS_START, LAST, limits)


def f(root: Path, table: str, day: dt.date = DAY) -> Path:
    return root / table / f"ds={day}.parquet"


# (kind, how the delivery is broken, what the message must say). Each break returns nothing; it edits the files.
def _csv_bad(root, text: bytes):
    f(root, TWEETS).unlink()
    (root / TWEETS / f"ds={DAY}.csv").write_bytes(text)


REALGRAPH_CASES = {
    "missing column": (lambda r: rewrite(f(r, LABELS), "SELECT * EXCLUDE (destination_id) FROM t"),
                       ["interaction_graph_labels_daily", "missing column(s) ['destination_id']"]),
    "extra column": (lambda r: rewrite(f(r, LABELS), "SELECT *, 1 AS weight_v2 FROM t"),
                     ["unexpected column(s) ['weight_v2']"]),
    "renamed column": (lambda r: rewrite(f(r, LABELS), "SELECT * RENAME (destination_id AS dst_id) FROM t"),
                       ["missing and ['dst_id'] unexpected: renamed?", "'dst_id' -> 'destination_id'"]),
    "differently-cased column": (lambda r: rewrite(f(r, LABELS), "SELECT * RENAME (source_id AS Source_id) FROM t"),
                                 ["column source_id", "'Source_id'", "case-sensitive"]),
    "id stored as VARCHAR": (lambda r: rewrite(f(r, LABELS), "SELECT * REPLACE (source_id::VARCHAR AS source_id) FROM t"),
                             ["column source_id", "column has type VARCHAR", "expected BIGINT"]),
    "ds stored as TIMESTAMP": (lambda r: rewrite(f(r, LABELS), "SELECT * REPLACE (ds::TIMESTAMP AS ds) FROM t"),
                               ["column ds", "column has type TIMESTAMP", "expected DATE"]),
    "unparsable timestamp": (lambda r: _csv_bad(r, b"user_id,tweet_id,ts\n1,2,yesterday\n"),
                             ["public_tweets/ds=2026-06-01.csv", "column ts", "unparsable or out-of-range value",
                              "'yesterday'", "a TIMESTAMP value"]),
    "id out of BIGINT range": (lambda r: _csv_bad(r, b"user_id,tweet_id,ts\n1,99999999999999999999,2026-06-01 10:00:00\n"),
                               ["column tweet_id", "unparsable or out-of-range", "'99999999999999999999'", "BIGINT"]),
    "tweet outside the day": (lambda r: rewrite(f(r, TWEETS), "SELECT * REPLACE (ts + INTERVAL 10 DAY AS ts) FROM t"),
                              ["public_tweets", "column ts", "timestamp outside the day", "a time on 2026-06-01"]),
    "ds not the file's day": (lambda r: rewrite(f(r, FOLLOWS), "SELECT * REPLACE (ds + 1 AS ds) FROM t"),
                              ["valid_user_follows", "column ds", "does not match the file's day",
                               "datetime.date(2026, 6, 2)", "expected 2026-06-01"]),
    "dateHour not the file's day": (lambda r: rewrite(f(r, LABELS),
                                                      "SELECT * REPLACE (dateHour + INTERVAL 1 DAY AS dateHour) FROM t"),
                                    ["column dateHour", "not 00:00 of the file's day", "2026-06-01 00:00:00"]),
    "NULL id": (lambda r: rewrite(f(r, LABELS), "SELECT * REPLACE (CASE WHEN source_id = (SELECT min(source_id) FROM t) "
                                  "THEN NULL ELSE destination_id END AS destination_id) FROM t"),
                ["column destination_id", "NULL value", "not nullable"]),
    "NULL label set": (lambda r: rewrite(f(r, LABELS), "SELECT * REPLACE (NULL::VARCHAR[] AS labels) FROM t"),
                       ["column labels", "NULL value"]),
    "negative id": (lambda r: rewrite(f(r, LABELS), "SELECT * REPLACE (-source_id - 1 AS source_id) FROM t"),
                    ["column source_id", "negative id", "an id >= 0"]),
    "self-follow": (lambda r: rewrite(f(r, FOLLOWS), "SELECT * REPLACE (source_id AS destination_id) FROM t"),
                    ["valid_user_follows", "self_edge", "source_id <> destination_id"]),
    "self negative edge": (lambda r: rewrite(f(r, NEGATIVE), "SELECT * REPLACE (source_id AS destination_id) FROM t"),
                           ["interaction_graph_agg_negative_edge_snapshot", "self_edge"]),
    "unknown label name": (lambda r: rewrite(f(r, LABELS), "SELECT * REPLACE (['num_likes'] AS labels) FROM t"),
                           ["column labels", "unknown name", "num_likes", "num_favorites"]),
    "differently-cased label name": (lambda r: rewrite(f(r, LABELS), "SELECT * REPLACE (['NUM_FAVORITES'] AS labels) FROM t"),
                                     ["column labels", "differently-cased name", "NUM_FAVORITES", "exact spelling"]),
    "empty label set": (lambda r: rewrite(f(r, LABELS), "SELECT * REPLACE ([]::VARCHAR[] AS labels) FROM t"),
                        ["empty_label_set", "a non-empty set of label names"]),
    "duplicate key": (lambda r: rewrite(f(r, LABELS), "SELECT * FROM t UNION ALL (SELECT * FROM t LIMIT 1)"),
                      ["duplicate key: (source_id, destination_id) =", "occurs 2 times", "unique within the day"]),
    "duplicate tweet": (lambda r: rewrite(f(r, TWEETS), "SELECT * FROM t UNION ALL (SELECT * FROM t LIMIT 3)"),
                        ["public_tweets", "duplicate key: (tweet_id)", "3 duplicated key(s)"]),
    "unknown negative type": (lambda r: rewrite(f(r, NEGATIVE), "SELECT * REPLACE ('num_hugs' AS negative_type) FROM t"),
                              ["column negative_type", "unknown name", "'num_hugs'", "num_blocks"]),
    "impossible negative-edge age": (lambda r: rewrite(f(r, NEGATIVE), "SELECT * REPLACE (-3 AS age_days) FROM t"),
                                     ["column age_days", "value below the minimum", "a value >= 0"]),
    "non-zero negative-edge weight": (lambda r: rewrite(f(r, NEGATIVE), "SELECT * REPLACE (1.5 AS weight) FROM t"),
                                      ["column weight", "value above the maximum", "a value <= 0"]),
    "empty file": (lambda r: f(r, LABELS).write_bytes(b""), ["the file is empty (0 bytes)"]),
    "empty day folder": (lambda r: (f(r, LABELS).unlink(), (r / LABELS / f"ds={DAY}").mkdir()),
                         ["holds no .parquet or .csv file", "a file with the columns and no rows"]),
    "truncated Parquet": (lambda r: f(r, LABELS).write_bytes(f(r, LABELS).read_bytes()[:200]),
                          ["not a readable Parquet file", "expected a complete Parquet file"]),
    "corrupt Parquet": (lambda r: f(r, LABELS).write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1"),
                        ["not a readable Parquet file"]),
    "CSV with bad encoding": (lambda r: _csv_bad(r, b"user_id,tweet_id,ts\n1,2,2026-06-01 10:00:00\xff\xfe\n"),
                              ["not a readable CSV file", "not utf-8", "UTF-8"]),
    "CSV with ragged rows": (lambda r: _csv_bad(r, b"user_id,tweet_id,ts\n1,2,2026-06-01 10:00:00\n3,4\n"),
                             ["not a readable CSV file", "Expected Number of Columns: 3 Found: 2"]),
    "day far outside the partitions": (lambda r: shutil.copy(f(r, LABELS), r / LABELS / "ds=2099-01-01.parquet"),
                                       ["ds=2099-01-01", "far outside the partitions", "[2026-06-01, 2026-07-31]"]),
    "partition name not a day": (lambda r: shutil.copy(f(r, LABELS), r / LABELS / "ds=2026-13-45.parquet"),
                                 ["'ds=2026-13-45.parquet' is not a day", "ds=YYYY-MM-DD"]),
    "required table not delivered": (lambda r: f(r, LABELS).unlink(),
                                     ["required table(s) ['interaction_graph_labels_daily'] not delivered"]),
}


@pytest.mark.parametrize("kind", list(REALGRAPH_CASES))
def test_bad_realgraph_input_is_rejected_with_a_clear_message_and_nothing_written(kind, realgraph_files, tmp_path):
    root = tmp_path / "logs"
    shutil.copytree(realgraph_files, root)
    break_it, expected = REALGRAPH_CASES[kind]
    break_it(root)
    wh = warehouse(tmp_path, "realgraph", REALGRAPH_SQL)
    with pytest.raises(ingest.BadInput) as err:
        load(wh, REALGRAPH, root, DAY)
    message = str(err.value)
    for part in expected:
        assert part in message, f"{kind}: {part!r} not in {message!r}"
    assert "day 2026-06-01" in message or "ds=2" in message  # names the day
    assert written(wh, REALGRAPH, DAY) == 0


def test_a_day_too_big_fails_before_it_is_loaded(realgraph_files, tmp_path):
    wh = warehouse(tmp_path, "realgraph", REALGRAPH_SQL)
    with pytest.raises(ingest.BadInput, match=r"rows, more than the limit of 10 rows per day"):
        load(wh, REALGRAPH, realgraph_files, DAY, ingest.Limits(max_rows=10))
    with pytest.raises(ingest.BadInput, match=r"bytes, more than the limit of 1,000"):
        load(wh, REALGRAPH, realgraph_files, DAY, ingest.Limits(max_bytes=1000))
    assert written(wh, REALGRAPH, DAY) == 0


def test_rows_dropped_by_the_spec_filters_are_counted(realgraph_files, tmp_path):
    """Self-interactions (docs/realgraph.md §2.1) and unfollows 90+ days old (docs/realgraph.md §2.2) are dropped, and say so."""
    root = tmp_path / "logs"
    shutil.copytree(realgraph_files, root)
    rewrite(f(root, LABELS), "SELECT * REPLACE (CASE WHEN source_id % 7 = 0 AND row_number() OVER (PARTITION BY "
                             "source_id ORDER BY destination_id) = 1 THEN source_id ELSE destination_id END "
                             "AS destination_id) FROM t")
    rewrite(f(root, NEGATIVE), "SELECT * REPLACE ('num_unfollows' AS negative_type, 120 AS age_days) FROM t")
    wh = warehouse(tmp_path, "realgraph", REALGRAPH_SQL)
    stats = load(wh, REALGRAPH, root, DAY)
    with wh.connect() as conn:
        selfs = conn.scalar(f"SELECT count(*) FROM read_parquet('{f(root, LABELS)}') WHERE source_id = destination_id")
        assert conn.scalar(f"SELECT count(*) FROM {LABELS} WHERE source_id = destination_id") == 0
        assert conn.scalar(f"SELECT count(*) FROM {NEGATIVE}") == 0
    assert selfs > 0 and stats[LABELS]["dropped"] == {"self_edge: source_id <> destination_id (no self-edges)": selfs}
    assert list(stats[NEGATIVE]["dropped"].values()) == [20]


def test_an_interactions_only_day_with_zero_events_is_present(realgraph_files, tmp_path):
    """Optional tables absent = empty; a file with the columns and no rows is a delivered, present day."""
    root = tmp_path / "logs"
    shutil.copytree(realgraph_files, root)
    for t in (NEGATIVE, FOLLOWS, TWEETS):
        shutil.rmtree(root / t)
    rewrite(f(root, LABELS), "SELECT * FROM t WHERE false")
    wh = warehouse(tmp_path, "realgraph", REALGRAPH_SQL)
    stats = load(wh, REALGRAPH, root, DAY)
    assert {t: s["rows"] for t, s in stats.items()} == {t.name: 0 for t in REALGRAPH.tables}
    with wh.connect() as conn:
        assert all(conn.present_days(t.name, [DAY]) == {DAY} for t in REALGRAPH.tables)
        assert conn.present_days(LABELS, [D(1)]) == set()  # never delivered: missing


def _recap_prefix(root: Path, wh: Warehouse) -> None:
    """Days 0 and 1 load cleanly, so day 2's engagements can be checked against their impressions."""
    for day in (D(0), D(1)):
        load(wh, RECAP, root, day)


RECAP_CASES = {
    "engagement before its impression": (
        "engagements", "SELECT * REPLACE (CASE WHEN engagement_type = 'favorite' THEN date_trunc('day', ts) ELSE ts END "
                       "AS ts) FROM t",
        ["engagements", "before_impression", "at or after an impression of the same viewer and tweet"]),
    "engagement for an unknown impression": (
        "engagements", "SELECT * REPLACE (tweet_id + 1 AS tweet_id) FROM t",
        ["unknown_impression", "an impression of the same viewer and tweet on this or the 2 previous days"]),
    "unknown engagement type": (
        "engagements", "SELECT * REPLACE (CASE WHEN engagement_type = 'favorite' THEN 'like' ELSE engagement_type END "
                       "AS engagement_type) FROM t",
        ["column engagement_type", "unknown name", "'like'", "'favorite'"]),
    "tweet outside the day": (
        "tweets", "SELECT * REPLACE (ts - INTERVAL 10 DAY AS ts) FROM t",
        ["tweets/ds=2026-06-03.parquet", "column ts", "timestamp outside the day"]),
    "impression position below zero": (
        "impressions", "SELECT * REPLACE (position - 1 AS position) FROM t", ["column position", "value below the minimum"]),
}


@pytest.mark.parametrize("kind", list(RECAP_CASES))
def test_bad_recap_input_is_rejected_with_a_clear_message_and_nothing_written(kind, recap_files, tmp_path):
    root = tmp_path / "logs"
    shutil.copytree(recap_files, root)
    wh = warehouse(tmp_path, "recap", RECAP_SQL)
    _recap_prefix(root, wh)
    table, select, expected = RECAP_CASES[kind]
    rewrite(f(root, table, D(2)), select)
    with pytest.raises(ingest.BadInput) as err:
        load(wh, RECAP, root, D(2))
    for part in expected:
        assert part in str(err.value), f"{kind}: {part!r} not in {err.value}"
    assert written(wh, RECAP, D(2)) == 0


def test_timestamps_with_a_time_zone_are_read_as_utc(recap_files, tmp_path):
    root = tmp_path / "logs"
    shutil.copytree(recap_files, root)
    wh = warehouse(tmp_path, "recap", RECAP_SQL)
    _recap_prefix(root, wh)
    rewrite(f(root, "tweets", D(2)), "SELECT * REPLACE (timezone('UTC', ts) AS ts) FROM t")  # TIMESTAMPTZ
    load(wh, RECAP, root, D(2))
    with wh.connect() as conn:
        got = conn.scalar("SELECT min(ts) FROM tweets WHERE ds = ?", [D(2)])
        want = conn.scalar(f"SELECT min(ts) FROM read_parquet('{f(recap_files, 'tweets', D(2))}')")
    assert got == want


def test_csv_and_parquet_deliveries_of_a_day_load_the_same_rows(realgraph_files, tmp_path):
    export("realgraph", tmp_path / "csv", [DAY], fmt="csv")
    from_csv = load(warehouse(tmp_path, "csv", REALGRAPH_SQL), REALGRAPH, tmp_path / "csv", DAY)
    from_parquet = load(warehouse(tmp_path, "parquet", REALGRAPH_SQL), REALGRAPH, realgraph_files, DAY)
    assert {t: s["version"] for t, s in from_csv.items()} == {t: s["version"] for t, s in from_parquet.items()}
    assert from_csv[LABELS]["rows"] > 0
