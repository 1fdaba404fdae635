"""Content digests of a whole build, to show two fresh builds are byte-identical: every table of the warehouse (an
order-independent hash of its rows) and every file under models/ (a
manifest's wall-clock ``created_at`` aside)."""

import hashlib
import json
from pathlib import Path

import duckdb

WALL_CLOCK = {("feedtrain_ledger", "committed_at")}  # when a day was committed: the only column allowed to differ


def table_digests(database: Path, schema: str) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as conn:
        tables = [t for (t,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = ? "
                                             "ORDER BY ALL", [schema]).fetchall()]
        out = {}
        for table in tables:
            cols = [c for (c,) in conn.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND "
                                               "table_name = ? ORDER BY column_index", [schema, table]).fetchall()
                    if (table, c) not in WALL_CLOCK]
            listed = ", ".join(f'"{c}"' for c in cols)
            # order-independent (so equal to hashing the sorted rows): count and sum of DuckDB's row hashes, which
            # hash a DOUBLE by its bits, so a 1-ULP difference shows
            out[table] = conn.execute(f"SELECT count(*) || '-' || coalesce(sum(hash(({listed}))::HUGEINT), 0) "
                                      f"FROM {schema}.{table}").fetchone()[0]
    return out


WALL_CLOCK_KEYS = {"created_at", "committed_at"}  # when a model was written: allowed to differ between builds


def file_digests(root: Path) -> dict[str, str]:
    """sha256 of every file's bytes; a JSON manifest's wall-clock keys (top level) are left out first."""
    def content(p: Path) -> bytes:
        if p.suffix != ".json":
            return p.read_bytes()
        manifest = json.loads(p.read_text())
        return json.dumps({k: v for k, v in manifest.items() if k not in WALL_CLOCK_KEYS}, sort_keys=True).encode()
    return {str(p.relative_to(root)): hashlib.sha256(content(p)).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def differences(a: dict, b: dict) -> list[str]:
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
