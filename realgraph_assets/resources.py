"""Resources of the realgraph location: its warehouse and the embedded simulator."""

from __future__ import annotations

from pathlib import Path

from feedtrain.simulate import SimulatorResource
from feedtrain.warehouse import Warehouse, database_path, engine_settings

from .simulator import World, world

SQL_DIR = Path(__file__).parent / "sql"
SCHEMA = "realgraph"


class RealGraphSimulator(SimulatorResource):
    """The embedded default data source: a seeded social network (realgraph_assets/simulator.py)."""

    def world(self) -> World:
        return world(self.preset, self.seed)


def realgraph_warehouse() -> Warehouse:
    return Warehouse(database=database_path(SCHEMA), schema_name=SCHEMA, ddl_path=str(SQL_DIR / "schema.sql"),
                     **engine_settings())
