"""feedtrain's settings: environment variables, read by Dagster when a run starts (``dg.EnvVar``), not by our code at
import time. ``./run.sh`` sets them all; each has a default for running the code without it.

| variable | resource field | default |
|---|---|---|
| FEEDTRAIN_HOME | ``Warehouse.home`` (the DuckDB files), model files | ``./data`` |
| FEEDTRAIN_WORLD | ``RealGraphSimulator.preset`` | ``default`` |
| FEEDTRAIN_RECAP_WORLD | ``RecapSimulator.preset`` | ``tiny`` |
| FEEDTRAIN_REALGRAPH_SEED, FEEDTRAIN_RECAP_SEED | the simulators' ``seed`` | 7, 11 |
| FEEDTRAIN_DUCKDB_MEMORY_LIMIT | ``Warehouse.duckdb_memory_limit`` (spill beyond it) | DuckDB's, 80 % of RAM |

Read at import, and why: FEEDTRAIN_START_DATE / FEEDTRAIN_<LOCATION>_START_DATE (``feedtrain/partitions.py``: Dagster
builds the partitions definitions when it loads a location, before any resource exists); and, until the DuckDB IO
manager goes, the IO manager's file path (it is built with the definitions, from FEEDTRAIN_HOME).
"""

from __future__ import annotations

import os

import dagster as dg


def env(name: str, default: str) -> str | dg.EnvVar:
    """``dg.EnvVar(name)`` if the variable is set (the UI shows it as the source; Dagster reads its value when a run
    starts), else ``default``: a definition that needs no environment to load."""
    return dg.EnvVar(name) if name in os.environ else default


def env_int(name: str, default: int) -> int | dg.EnvVar:
    return dg.EnvVar.int(name) if name in os.environ else default
