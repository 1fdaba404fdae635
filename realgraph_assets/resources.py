"""Resources of the realgraph location: its warehouse and the embedded simulator."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from feedtrain.warehouse import Warehouse, database_path

from .simulator import World, world

SQL_DIR = Path(__file__).parent / "sql"
SCHEMA = "realgraph"


class RealGraphSimulator(dg.ConfigurableResource):
    """The embedded default data source: a seeded social network (realgraph_assets/simulator.py)."""

    preset: str = Field(default_factory=lambda: os.environ.get("FEEDTRAIN_WORLD", "default"),
                        description="World size: tiny (tests), small, default (UI demo) or bench.")
    seed: int = Field(7, description="Seed of the world; the same seed always gives the same logs.")

    def world(self) -> World:
        return world(self.preset, self.seed)


def realgraph_warehouse() -> Warehouse:
    return Warehouse(database=database_path(SCHEMA), schema_name=SCHEMA, ddl_path=str(SQL_DIR / "schema.sql"))
