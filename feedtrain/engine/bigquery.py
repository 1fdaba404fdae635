"""The BigQuery engine: the same assets on BigQuery, through ``dagster_gcp.BigQueryResource``'s client.

- Each location is a dataset (``schema_name``); tables are partitioned by ``ds`` (``PARTITION BY ds``).
- One BigQuery *session* per connection: staged relations are session TEMP tables, and ``replace_days`` /
  ``replace_rows`` run the base class's DELETE + INSERT (+ ledger rows) inside a multi-statement transaction
  (``BEGIN TRANSACTION ... COMMIT TRANSACTION``), so a day is committed whole or not at all, as on DuckDB.
- ``farm_fingerprint`` is BigQuery's native FARM_FINGERPRINT; ``fingerprint_uniform`` is spelled in SQL from it
  (``rewrite_functions``), the same bits feedtrain.hashing uses.

There are no credentials on the machines this project is developed on, so the tests generate and compile every
statement for this dialect; ``python -m feedtrain.engine.bigquery --project P`` dry-runs them against a real project
(README, "Scaling out").
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator, Sequence

import polars as pl
import pyarrow as pa

from .. import ledger
from . import sql
from .base import Engine


def rewrite_functions(statement: sql.exp.Expression) -> sql.exp.Expression:
    """``fingerprint_uniform(x)`` as BigQuery SQL: the top 53 bits of FARM_FINGERPRINT(x) read unsigned, / 2**53."""
    def replace(node):
        if isinstance(node, sql.exp.Anonymous) and node.name.lower() == "fingerprint_uniform":
            arg = node.expressions[0].sql("bigquery")
            return sql.exp.maybe_parse(
                f"((FARM_FINGERPRINT({arg}) >> 11) & 9007199254740991) / 9007199254740992.0", dialect="bigquery")
        return node
    return statement.transform(replace)


def compile_statement(text: str, params: dict | Sequence | None = None) -> list[str]:
    """Every statement of ``text`` (DuckDB dialect) as BigQuery SQL, parameters inlined."""
    problems = sql.lint(text)
    if problems:
        raise sql.NotPortable(f"not portable to bigquery: {'; '.join(problems)}\n{text[:400]}")
    return [rewrite_functions(sql.bind(s, params)).sql("bigquery", unsupported_level=sql.ErrorLevel.RAISE,
                                                       comments=False) for s in sql.parse(text)]


def table_ddl(dataset: str, ddl: str) -> list[str]:
    """The CREATE TABLE statements of a DuckDB DDL file for BigQuery: in ``dataset``, partitioned by ds."""
    out = []
    for create in sql.parse(ddl):
        create = create.copy()
        for table in create.find_all(sql.exp.Table):
            table.set("db", sql.exp.to_identifier(dataset))
        text = create.sql("bigquery", unsupported_level=sql.ErrorLevel.RAISE, comments=False)
        head, sep, tail = text.partition(" AS SELECT ") if create.expression is not None else (text, "", "")
        out.append(f"{head} PARTITION BY ds{sep}{tail}" if sep else f"{text} PARTITION BY ds")
    return out


class BigQueryEngine(Engine):
    dialect = "bigquery"

    def __init__(self, client, dataset: str, ddl: str = "", location: str | None = None):
        self.client, self.schema, self.location = client, dataset, location
        self.session_id = None
        self._query("SELECT 1", create_session=True)
        self.client.create_dataset(dataset, exists_ok=True)
        for statement in table_ddl(dataset, ledger.DDL + ddl):
            self._query(statement)

    def _query(self, text: str, create_session: bool = False):
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(default_dataset=f"{self.client.project}.{self.schema}",
                                         create_session=create_session)
        if self.session_id:
            config.connection_properties = [bigquery.ConnectionProperty("session_id", self.session_id)]
        job = self.client.query(text, job_config=config, location=self.location)
        result = job.result()
        if create_session:
            self.session_id = job.session_info.session_id
        return job, result

    def execute(self, text: str, params: dict | Sequence | None = None) -> None:
        for statement in compile_statement(text, params):
            self._query(statement)

    def arrow(self, text: str, params: dict | Sequence | None = None) -> pa.Table:
        statements = compile_statement(text, params)
        if len(statements) != 1:
            raise ValueError(f"arrow() takes one query: {text[:200]}")
        return self._query(statements[0])[1].to_arrow()

    def register(self, name: str, table: pa.Table | pl.DataFrame) -> None:
        """Loads the frame into a table that expires after a day, then copies it into session TEMP table ``name``."""
        from google.cloud import bigquery

        frame = (table if isinstance(table, pl.DataFrame) else pl.from_arrow(table)).to_pandas()
        loaded = f"{self.client.project}.{self.schema}._register_{name}_{uuid.uuid4().hex[:8]}"
        self.client.load_table_from_dataframe(frame, loaded, job_config=bigquery.LoadJobConfig()).result()
        self.client.update_table(bigquery.Table(loaded, expires=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)),
                                 ["expires"])
        self._query(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM `{loaded}`")

    def table_columns(self, table: str) -> list[tuple[str, str]]:
        try:
            job, result = self._query(f"SELECT * FROM {table} LIMIT 0")
        except Exception:  # noqa: BLE001 - NotFound
            return []
        return [(f.name, f.field_type) for f in result.schema]

    def stage(self, name: str, text: str, params: dict | Sequence | None = None) -> int:
        (query,) = compile_statement(text, params)
        self._query(f"CREATE OR REPLACE TEMP TABLE {name} AS {query}")
        return self.scalar(f"SELECT count(*) FROM {name}")

    def content_hash(self, relation: str) -> str:
        n, h = self._query(f"SELECT count(*), coalesce(sum(CAST(FARM_FINGERPRINT(TO_JSON_STRING(r)) AS BIGNUMERIC)), 0)"
                           f" FROM {relation} r")[1].to_arrow().to_pylist()[0].values()
        return f"{n}-{int(h) % 2**64:016x}"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._query("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self._query("ROLLBACK TRANSACTION")
            raise
        self._query("COMMIT TRANSACTION")


@contextlib.contextmanager
def connect(project: str, location: str, dataset: str, ddl: str) -> Iterator[BigQueryEngine]:
    from dagster_gcp import BigQueryResource

    with BigQueryResource(project=project or None, location=location or None).get_client() as client:
        yield BigQueryEngine(client, dataset, ddl, location or None)


def main() -> None:
    """Dry-run every statement a tiny world issues (recorded on DuckDB) against a BigQuery project."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--project", required=True)
    parser.add_argument("--location", default="US")
    args = parser.parse_args()
    from google.cloud import bigquery

    from .recording import tiny_world_statements

    client = bigquery.Client(project=args.project, location=args.location)
    failures = 0
    for schema, text, params in tiny_world_statements():
        for statement in compile_statement(text, params):
            config = bigquery.QueryJobConfig(dry_run=True, default_dataset=f"{args.project}.{schema}")
            try:
                client.query(statement, job_config=config)
            except Exception as error:  # noqa: BLE001 - report every failing statement, then exit non-zero
                failures += 1
                print(f"FAILED ({schema}): {statement[:300]}\n  {error}")
    print(f"{failures} statement(s) failed the dry run")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
