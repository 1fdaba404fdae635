"""Resources of the realgraph location: its warehouse and the embedded simulator."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from feedtrain.simulate import SimulatorResource
from feedtrain.warehouse import Warehouse, home

from .simulator import World, world

SQL_DIR = Path(__file__).parent / "sql"
SCHEMA = "realgraph"


class RealGraphSimulator(SimulatorResource):
    """The embedded default data source: a seeded social network (realgraph_assets/simulator.py)."""

    def world(self) -> World:
        return world(self.preset, self.seed)


def realgraph_warehouse(home_dir: str | dg.EnvVar | None = None) -> Warehouse:
    """The realgraph DuckDB file under ``home_dir`` (the definitions pass ``dg.EnvVar("FEEDTRAIN_HOME")``; scripts
    that open the warehouse outside a run get FEEDTRAIN_HOME's value)."""
    return Warehouse(home=home_dir or str(home()), schema_name=SCHEMA, ddl_path=str(SQL_DIR / "schema.sql"))
