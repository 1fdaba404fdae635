"""Resources of the recap location: its warehouse and the embedded home-timeline simulator."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from feedtrain.simulate import SimulatorResource
from feedtrain.warehouse import Warehouse, engine_settings, home

from .simulator import World, world

SQL_DIR = Path(__file__).parent / "sql"
SCHEMA = "recap"


class RecapSimulator(SimulatorResource):
    """The embedded default data source: a seeded "For You" home timeline (the recap_assets/simulator package)."""

    seed: int = Field(11, description="Seed of the world; the same seed always gives the same logs.")

    def world(self) -> World:
        return world(self.preset, self.seed)


def recap_warehouse(database: str | None = None, home_dir: str | dg.EnvVar | None = None) -> Warehouse:
    """The recap DuckDB file (``recap_warehouse.duckdb`` under FEEDTRAIN_HOME unless given), schema ``recap``."""
    return Warehouse(database=database, home=None if database else home_dir or str(home()),
                     schema_name=SCHEMA, ddl_path=str(SQL_DIR / "schema.sql"), **engine_settings())
