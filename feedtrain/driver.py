"""One way to materialise a range of days of a location's assets in process: the demo, the benchmark and the tests
all go through ``materialize_days``, so they run the assets exactly as a single-run backfill of that range would."""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Sequence

import dagster as dg

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def group(name: str) -> dg.AssetSelection:
    """The assets of group ``name`` and of the groups nested under it (``recap_models/boosted_trees``: a layer's
    per-head assets, which the UI shows collapsed inside their layer's group)."""
    return dg.AssetSelection.groups(name) | dg.AssetSelection.from_string(f'group:"{name}/*"')


def select(schema: str, names: Sequence[str]) -> dg.AssetSelection:
    """Assets by table name (``candidates``) or by group, nested groups included (``group:realgraph_sources``)."""
    tables = [dg.AssetKey([schema, n]) for n in names if not n.startswith("group:")]
    groups = [group(n.removeprefix("group:")) for n in names if n.startswith("group:")]
    return functools.reduce(operator.or_, groups, dg.AssetSelection.assets(*tables))


def materialize_days(defs: dg.Definitions, schema: str, names: Sequence[str], first: dt.date,
                     last: dt.date | None = None, *, instance: dg.DagsterInstance | None = None, resources: dict | None = None,
                     config: dict | None = None, raise_on_error: bool = True,
                     log_level: str = "DEBUG") -> dg.ExecuteInProcessResult:
    """One run of the named assets over the days [first, last] (``last`` defaults to ``first``).

    ``config`` maps a table name to its asset config (for a multi-asset, any of its tables configures its op); ``resources`` default to the definitions' own; without an
    ``instance`` the run goes to an ephemeral one; ``log_level`` is the console's (the run's events are stored anyway)."""
    last = last or first
    return dg.materialize(
        defs.assets, selection=select(schema, names), instance=instance,
        resources=defs.resources if resources is None else resources,
        tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat()},
        run_config={"ops": {op_name(defs, schema, table): {"config": c} for table, c in (config or {}).items()},
                    "loggers": {"console": {"config": {"log_level": log_level}}}},
        raise_on_error=raise_on_error)


def op_name(defs: dg.Definitions, schema: str, table: str) -> str:
    """The op that computes the asset ``schema/table`` (``realgraph__candidates``; a multi-asset's own name)."""
    asset_key = dg.AssetKey([schema, table])
    for assets_def in defs.assets:
        if isinstance(assets_def, dg.AssetsDefinition) and asset_key in assets_def.keys:
            return assets_def.node_def.name
    return f"{schema}__{table}"
