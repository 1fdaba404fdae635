"""Shared test harness: real DuckDB files under tmp_path, real assets run through Dagster's materialize."""

import datetime as dt

import dagster as dg
import pytest

from feedtrain.driver import materialize_days
from feedtrain.logsource import LogSource
from feedtrain.partitions import EVENTS_START
from feedtrain.modelstore import ModelStore
from feedtrain.warehouse import Warehouse

D = lambda offset: EVENTS_START + dt.timedelta(days=offset)  # noqa: E731  day `offset` of the simulated history


class Harness:
    """Runs a location's assets for a day range against a warehouse in ``home``."""

    def __init__(self, home, defs, schema: str, ddl_path: str, extra_resources: dict):
        self.home, self.defs, self.schema = home, defs, schema
        self.warehouse = Warehouse(database=str(home / f"{schema}_warehouse.duckdb"), schema_name=schema, ddl_path=ddl_path)
        self.store = ModelStore(location=schema, root=str(home / "models"))
        self.resources = {"warehouse": self.warehouse, "model_store": self.store, **extra_resources}
        self.instance = dg.DagsterInstance.ephemeral()

    def materialize(self, selection, first: dt.date, last: dt.date | None = None, config: dict | None = None,
                    raise_on_error: bool = True):
        return materialize_days(self.defs, self.schema, selection, first, last, instance=self.instance,
                                resources=self.resources, config=config, raise_on_error=raise_on_error)

    def sql(self, query: str, params=None):
        with self.warehouse.connect() as conn:
            return conn.rows(query, params or [])

    def frame(self, query: str, params=None):
        with self.warehouse.connect() as conn:
            return conn.polars(query, params or [])

    def write_days(self, table: str, frame) -> None:
        """Commit each day of ``frame`` (Arrow or polars, with a ``ds`` column) into ``table`` the way assets and
        ingestion do: staged, then the day replaced with its ledger row."""
        with self.warehouse.connect() as conn:
            conn.register("frame_to_write", frame)
            for (day,) in conn.rows("SELECT DISTINCT ds FROM frame_to_write ORDER BY ds"):
                conn.stage("staged_frame", "SELECT * FROM frame_to_write WHERE ds = ?", [day])
                conn.replace_days(day, {table: "staged_frame"})

    def execute(self, query: str, params=None):
        with self.warehouse.connect() as conn:
            conn.execute(query, params or [])


@pytest.fixture
def feedtrain_home(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDTRAIN_HOME", str(tmp_path))
    return tmp_path


def realgraph_harness(home) -> Harness:
    """The Real Graph location on the tiny world (seed 7), its warehouse and models under ``home``."""
    from realgraph_assets.definitions import defs
    from realgraph_assets.resources import SQL_DIR, RealGraphSimulator

    return Harness(home, defs, "realgraph", str(SQL_DIR / "schema.sql"),
                   {"simulator": RealGraphSimulator(preset="tiny", seed=7), "log_source": LogSource()})


@pytest.fixture
def realgraph(feedtrain_home):
    return realgraph_harness(feedtrain_home)
