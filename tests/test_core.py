"""The shared core: the vectorised FARM_FINGERPRINT equals BigQuery's (docs/realgraph.md §1.4 vectors) and pyfarmhash; transactions."""

import random
import string

import farmhash
import numpy as np
import pytest

from feedtrain.hashing import fingerprint64, pair_bucket, uniform, user_bucket


@pytest.mark.parametrize("text, expected", [
    ("1footrue", -1541654101129638711), ("2applefalse", 2794438866806483259), ("3true", -4880158226897771312),
    ("alphabet", -2427165924636348523), ("12345_67890", -2343707944651719593), ("1_2", 8542076814483401781),
    ("12345", -1895860319333466888),
])
def test_spec_vectors(text, expected):
    assert fingerprint64([text])[0] == expected


def test_matches_pyfarmhash_for_every_length_up_to_64():
    rng = random.Random(3)
    texts = ["".join(rng.choice(string.printable) for _ in range(n)) for n in range(65) for _ in range(40)]
    ref = [v - 2**64 if v >= 2**63 else v for v in map(farmhash.fingerprint64, texts)]
    assert fingerprint64(texts).tolist() == ref


def test_pair_and_user_buckets_follow_the_sql_rules():
    assert pair_bucket([12345, 1], [67890, 2]).tolist() == [93, 81]  # docs/realgraph.md §1.4 buckets
    assert user_bucket([12345], 10).tolist() == [8]
    ids = np.array([2**62, -5, 0, 987654321987654321])
    ref = [abs(v - 2**64 if v >= 2**63 else v) % 100 for v in (farmhash.fingerprint64(f"{a}_{a + 1}") for a in ids)]
    assert pair_bucket(ids, ids + 1).tolist() == ref


def test_a_query_result_hashes_as_its_values_do():
    # conn.arrow() returns ChunkedArrays (several chunks past ~1M rows, or none for an empty day); they are combined,
    # not converted value by value, and must hash exactly as the plain values do
    import pyarrow as pa

    ids = np.array([2**62, -5, 0, 987654321987654321, 7])
    chunked = pa.chunked_array([pa.array(ids[:2]), pa.array([], pa.int64()), pa.array(ids[2:])])
    assert pair_bucket(chunked, chunked).tolist() == pair_bucket(ids, ids).tolist()
    assert user_bucket(chunked, 10).tolist() == user_bucket(ids, 10).tolist()
    assert uniform(chunked, ids).tolist() == uniform(ids, ids).tolist()
    assert len(uniform(pa.chunked_array([], pa.int64()))) == 0


def test_uniform_is_deterministic_and_uniform():
    a = np.arange(100_000)
    u = uniform(a, a * 7, np.full(len(a), 3))
    assert np.array_equal(u, uniform(a, a * 7, np.full(len(a), 3)))
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert not np.array_equal(u, uniform(a, a * 7, np.full(len(a), 4)))  # the seed changes the draw


def test_transaction_commits_together_or_not_at_all(tmp_path):
    import duckdb

    from feedtrain.engine import DuckDBEngine

    conn = DuckDBEngine(duckdb.connect(str(tmp_path / "t.duckdb")), "main")
    conn.execute("CREATE TABLE t (x INTEGER)")
    with conn.transaction():
        conn.execute("INSERT INTO t VALUES (1)")
    try:
        with conn.transaction():
            conn.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError("fails half-way")
    except RuntimeError:
        pass
    assert conn.scalar("SELECT list(x) FROM t") == [1]


def test_inline_roc_is_short_enough_for_the_ui_to_show_it_inline():
    """Dagster's UI shows a Markdown metadata value inline only below 1,000 characters; a PNG is 20+ KB."""
    import base64
    import re
    import xml.etree.ElementTree as ET

    import numpy as np

    from feedtrain import plots

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 5000)
    md = plots.roc_inline(y, {"boosted_trees": y + rng.normal(0, 1, 5000), "num_days": rng.random(5000),
                              "oracle": y + rng.normal(0, 0.5, 5000)}).value
    assert len(md) < plots.INLINE_LIMIT
    svg = ET.fromstring(base64.b64decode(re.search(r"base64,([^)]+)\)", md).group(1)))
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 3
    first = [tuple(map(int, p.split(","))) for p in lines[0].get("points").split()]
    assert first[0][0] == 0 and first[-1] == (100, 0)  # from FPR 0 to (1, 1); y is drawn downwards
    assert "blue: boosted_trees" in md


def test_label_history_is_an_inline_svg_with_each_series_range_in_its_caption():
    import base64
    import datetime as dt
    import re
    import xml.etree.ElementTree as ET

    from feedtrain import plots

    days = [dt.date(2026, 7, 1) + dt.timedelta(days=i) for i in range(14)]
    md = plots.history(days, {"rows": [40_000 + 37 * i for i in range(14)], "positive rate": [0.02] * 13 + [None]},
                       "labeled_candidates: last 14 days").value
    assert len(md) < plots.INLINE_LIMIT
    svg = ET.fromstring(base64.b64decode(re.search(r"base64,([^)]+)\)", md).group(1)))
    rows = [tuple(map(int, p.split(","))) for p in svg.findall("{http://www.w3.org/2000/svg}polyline")[0].get("points").split()]
    assert rows[0] == (0, 100) and rows[-1] == (100, 0) and len(rows) == 14  # rising: bottom left to top right
    assert "blue: rows 40,000..40,481" in md and "red: positive rate 0.02..0.02" in md and "2026-07-01..2026-07-14" in md


def test_warehouse_memory_limit_is_applied_and_a_bad_size_is_named(tmp_path):
    from feedtrain.warehouse import Warehouse

    kwargs = dict(schema_name="t", ddl_path=str(tmp_path / "ddl.sql"), database=str(tmp_path / "t.duckdb"))
    (tmp_path / "ddl.sql").write_text("CREATE TABLE IF NOT EXISTS x (a INTEGER);")
    with Warehouse(**kwargs, duckdb_memory_limit="512MB").connect() as conn:
        assert conn.scalar("SELECT current_setting('memory_limit')") == "488.2 MiB"  # 512 MB in DuckDB's binary units
    bad = dict(kwargs, database=str(tmp_path / "never.duckdb"))
    with pytest.raises(ValueError, match="'half of it'.*512MB"):
        with Warehouse(**bad, duckdb_memory_limit="half of it").connect():
            pass
    assert not (tmp_path / "never.duckdb").exists()  # refused before a file is made
