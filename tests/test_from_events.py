"""A plain event log (who, whom, when, what) becomes Real Graph's daily files, which the door then loads."""

import datetime as dt
import re

import duckdb
import pyarrow as pa
import pytest

from feedtrain import hashing, ingest
from feedtrain.warehouse import Warehouse
from realgraph_assets.contract import CONTRACT
from realgraph_assets.from_events import BadEvents, convert, main
from realgraph_assets.resources import SQL_DIR

DAY0 = dt.date(2026, 6, 1)
T0 = 1_780_272_000  # 2026-06-01 00:00:00 UTC in seconds
EVENTS = [  # (a, b, seconds since DAY0, type)
    (1, 2, 10, "RT"), (1, 2, 20, "MT"), (1, 2, 30, "RT"),  # one pair-day with two names
    (2, 1, 86_399, "RE"),  # the last second of day 0
    (2, 1, 86_400, "RE"),  # the first of day 1
    (3, 3, 100, "RT"),  # a self-interaction: the door drops and counts it
    (4, 5, 3 * 86_400 + 5, "MT"),  # day 3; day 2 has no events
]


def write_events(path, events=EVENTS, unit=1, ids=str):
    path.write_text("userA,userB,timestamp,interaction\n" +
                    "".join(f"{ids(a)},{ids(b)},{(T0 + s) * unit},{t}\n" for a, b, s, t in events))
    return str(path)


def test_an_event_log_becomes_daily_files_the_door_loads(tmp_path):
    events = write_events(tmp_path / "events.csv")
    stats = convert(events, tmp_path / "logs", "userA", "userB", "timestamp", "s", "interaction",
                    {"RT": "num_retweets", "MT": "num_mentions", "RE": "num_replies"})
    assert (stats["events"], stats["days"], stats["empty_days"]) == (7, 4, 1)
    store = Warehouse(database=str(tmp_path / "w.duckdb"), schema_name="realgraph", ddl_path=str(SQL_DIR / "schema.sql"))
    with store.connect() as conn:
        loaded = {DAY0 + dt.timedelta(days=i): ingest.load_files(conn, CONTRACT, str(tmp_path / "logs"),
                                                                 DAY0 + dt.timedelta(days=i), DAY0, DAY0 + dt.timedelta(days=3))
                  for i in range(4)}
        assert [s["interaction_graph_labels_daily"]["rows"] for s in loaded.values()] == [2, 1, 0, 1]
        assert sum(loaded[DAY0]["interaction_graph_labels_daily"]["dropped"].values()) == 1  # the self-interaction
        rows = conn.rows("SELECT ds, source_id, destination_id, labels FROM interaction_graph_labels_daily ORDER BY ALL")
        assert conn.present_days("interaction_graph_labels_daily", list(loaded)) == set(loaded)  # the empty day too
    assert rows == [(DAY0, 1, 2, ["num_mentions", "num_retweets"]), (DAY0, 2, 1, ["num_replies"]),
                    (DAY0 + dt.timedelta(days=1), 2, 1, ["num_replies"]),
                    (DAY0 + dt.timedelta(days=3), 4, 5, ["num_mentions"])]


def test_string_ids_are_hashed_to_the_same_bigint_everywhere_and_milliseconds_work(tmp_path):
    events = write_events(tmp_path / "events.csv", unit=1000, ids=lambda i: f"user_{i:x}")
    convert(events, tmp_path / "logs", "userA", "userB", "timestamp", "ms", label="num_favorites", hash_ids=True)
    got = duckdb.sql(f"SELECT source_id, destination_id, labels, ds FROM read_parquet('{tmp_path}/logs/*/*/*.parquet',"
                     " hive_partitioning = true) ORDER BY ds, source_id").fetchall()
    user = {u: int(h) & (2**63 - 1) for u, h in zip(["user_1", "user_2"],
                                                    hashing.fingerprint64(pa.array(["user_1", "user_2"])))}
    assert (user["user_1"], user["user_2"]) in [(s, d) for s, d, _, _ in got]
    assert all(0 <= s and 0 <= d for s, d, _, _ in got)
    day0 = [(s, d) for s, d, _, ds in got if ds == DAY0]
    day1 = [(s, d) for s, d, _, ds in got if ds == DAY0 + dt.timedelta(days=1)]
    assert len(day0) == 3 and len(day1) == 1 and day1[0] in day0  # user_2 -> user_1 is the same pair on both days
    assert all(labels == ["num_favorites"] for _, _, labels, _ in got)


@pytest.mark.parametrize("kwargs, message", [
    ({"type_column": "interaction", "labels": {"RT": "num_retweets"}},
     r"interaction type\(s\) \[\('MT', 2\), \('RE', 2\)\] .* have no Real Graph name"),
    ({"label": "likes"}, r"\['likes'\] are not Real Graph interaction names"),
    ({"source": "user_a"}, r"column\(s\) \['user_a'\] not found; the log has \['userA', 'userB', 'timestamp', "),
])
def test_a_log_that_cannot_be_mapped_is_an_error_naming_what(tmp_path, kwargs, message):
    events = write_events(tmp_path / "events.csv")
    args = {"source": "userA", "destination": "userB", "time": "timestamp", **kwargs}
    with pytest.raises(BadEvents, match=message):
        convert(events, tmp_path / "logs", **args)
    assert not (tmp_path / "logs").exists()


def test_text_ids_without_hash_ids_say_how_to_fix_it(tmp_path, capsys):
    events = write_events(tmp_path / "events.csv", ids=lambda i: f"u{i}")
    with pytest.raises(SystemExit, match="need --hash-ids"):
        main([events, str(tmp_path / "logs"), "--source", "userA", "--destination", "userB", "--time", "timestamp"])


def snap_edge_list(path, comments=True, gzip_it=False):
    """A SNAP temporal edge list (``SRC DST UNIXTS``, space-separated, no header, '#' comment lines)."""
    import gzip

    text = ("# Directed temporal network\n# FromNodeId ToNodeId UnixTime\n" if comments else "") + \
        "".join(f"{a} {b} {T0 + s}\n" for a, b, s, _ in EVENTS)
    if gzip_it:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return str(path)


@pytest.mark.parametrize("comments, gzip_it", [(False, False), (True, False), (False, True)])
def test_a_headerless_whitespace_edge_list_converts_with_named_columns(tmp_path, comments, gzip_it):
    events = snap_edge_list(tmp_path / ("edges.txt.gz" if gzip_it else "edges.txt"), comments, gzip_it)
    stats = convert(events, tmp_path / "logs", "src", "dst", "ts", columns=["src", "dst", "ts"], label="num_replies")
    assert (stats["events"], stats["days"], stats["empty_days"]) == (7, 4, 1)
    got = duckdb.sql(f"SELECT ds, source_id, destination_id, labels FROM read_parquet('{tmp_path}/logs/*/*/*.parquet',"
                     " hive_partitioning = true) ORDER BY ALL").fetchall()
    assert got[:2] == [(DAY0, 1, 2, ["num_replies"]), (DAY0, 2, 1, ["num_replies"])]


def test_a_headerless_log_without_column_names_says_how_to_name_them(tmp_path):
    events = snap_edge_list(tmp_path / "edges.txt", comments=False)
    with pytest.raises(BadEvents, match=r"the log has \['column0', 'column1', 'column2'\].*--columns src,dst,ts"):
        convert(events, tmp_path / "logs", "src", "dst", "ts")
    convert(events, tmp_path / "logs", "column0", "column1", "column2")  # the detected names work as they are


@pytest.mark.parametrize("days, says", [
    (10, r"warning: 10 days are too few for a model: the first model day, 2026-07-07, needs events up to 2026-07-09 .*"
         r"no candidates either \(the first needs events 2026-06-01..2026-07-01\)"),
    (33, r"warning: 33 days are too few for a model.*candidates build from 2026-07-01"),
    (39, r"first candidates day 2026-07-01, first model day 2026-07-07; model days up to 2026-07-07"),
])
def test_the_converter_says_what_the_logs_days_can_build(tmp_path, capsys, days, says):
    events = write_events(tmp_path / "events.csv", [(1, 2, 0, "RT"), (1, 2, (days - 1) * 86_400, "RT")])
    main([events, str(tmp_path / "logs"), "--source", "userA", "--destination", "userB", "--time", "timestamp",
          "--type", "interaction", "--labels", "RT=num_retweets"])
    assert re.search(says, capsys.readouterr().out)
