"""Fill every partition a location offers, layer by layer, through the real assets (./run.sh on first start, and
``./run.sh seed``): the UI then shows each asset with data on every day it offers.

    python -m feedtrain.seed realgraph recap      # record the runs in the Dagster instance of $DAGSTER_HOME

Each location lists its layers in dependency order (``LAYERS`` in its definitions module): the asset names or groups,
their partitions, and whether a range is one run (every asset today: a single-run backfill) or one run per day (an
asset that can take only one day per run). Unpartitioned assets (the champions) are materialised last, when every
layer before them had a day (a history too short for a model day seeds what it can). Re-seeding
replaces every day with the same data (the simulators are deterministic).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import time
from dataclasses import dataclass

import dagster as dg

from .driver import materialize_days, select


@dataclass(frozen=True)
class Layer:
    names: tuple[str, ...]  # table names or "group:<name>"
    partitions: dg.DailyPartitionsDefinition | None  # None: unpartitioned
    per_day: bool = False


def offered_days(partitions: dg.DailyPartitionsDefinition) -> tuple[dt.date, dt.date] | None:
    keys = partitions.get_partition_keys()
    return (dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1])) if keys else None


def seed(location: str, instance: dg.DagsterInstance | None = None, log=None) -> float:
    """Materialise every offered partition of ``location`` (``realgraph`` or ``recap``); returns the seconds taken."""
    log = log or (lambda message: print(message, flush=True))
    module = importlib.import_module(f"{location}_assets.definitions")
    defs, layers, schema = module.defs, module.LAYERS, module.SCHEMA
    instance = instance or dg.DagsterInstance.get()
    started = time.perf_counter()
    complete = True  # every partitioned layer so far had a day (a short history offers no model day yet)
    for i, layer in enumerate(layers, 1):
        step_started = time.perf_counter()
        what = f"[{location} {i}/{len(layers)}] {', '.join(n.removeprefix('group:') for n in layer.names)}"
        if layer.partitions is None and not complete:
            log(f"{what}: skipped (an earlier layer has no day yet: nothing to decide)")
            continue
        if layer.partitions is None:
            dg.materialize(defs.assets, selection=select(schema, layer.names), instance=instance,
                           resources=defs.resources, run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
            log(f"{what}: done in {time.perf_counter() - step_started:.0f} s")
            continue
        days = offered_days(layer.partitions)
        if days is None:
            log(f"{what}: no day offered yet")
            complete = False
            continue
        first, last = days
        log(f"{what}: {first} .. {last} ({(last - first).days + 1} days) ...")
        ranges = [(d, d) for d in _days(first, last)] if layer.per_day else [(first, last)]
        for a, b in ranges:
            materialize_days(defs, schema, layer.names, a, b, instance=instance, log_level="WARNING")
        log(f"{what}: {first} .. {last} ({(last - first).days + 1} days) done in {time.perf_counter() - step_started:.0f} s")
    return time.perf_counter() - started


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("locations", nargs="+", choices=["realgraph", "recap"])
    args = parser.parse_args(argv)
    for location in args.locations:
        print(f"seeding {location}: every offered partition, layer by layer")
        seconds = seed(location)
        print(f"seeded {location} in {seconds:.0f} s")


if __name__ == "__main__":
    main()
