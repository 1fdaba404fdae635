"""Where a location's raw logs come from: the embedded simulator (default) or a folder of files, switched per location
by environment variables, with no code change:

    FEEDTRAIN_REALGRAPH_SOURCE=files FEEDTRAIN_REALGRAPH_FILES=/data/realgraph_logs   (RECAP likewise)

Both go through the one door (``feedtrain/ingest.py``): the same checks, the same commit. ``raw_logs`` is the shared
body of each location's raw-logs multi-asset; ``new_days_sensor`` (off by default) requests the load of a day whose
files are new or changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterator

import dagster as dg
import pyarrow as pa
from pydantic import Field

from . import ingest
from .contract import Contract
from .daily import record_day, run_data_version
from .partitions import EVENTS_START, partition_days

SIMULATOR, FILES = "simulator", "files"


class LogSource(dg.ConfigurableResource):
    """Where this location's raw logs come from."""

    kind: str = Field(SIMULATOR, description="'simulator' (the embedded seeded world) or 'files' (a folder of "
                      "Parquet/CSV files, one directory per raw table, one ds=YYYY-MM-DD partition per day).")
    path: str = Field("", description="For 'files': the folder (or object-store URL) holding one directory per raw table.")
    max_rows_per_day: int = Field(200_000_000, description="A Parquet day with more rows fails before it is loaded.")
    max_bytes_per_day: int = Field(16 * 2**30, description="A day whose files are larger fails before it is loaded.")

    @property
    def limits(self) -> ingest.Limits:
        return ingest.Limits(self.max_rows_per_day, self.max_bytes_per_day)

    def describe(self) -> str:
        return f"files under {self.path}" if self.kind == FILES else "the embedded simulator"


def log_source(location: str) -> LogSource:
    """The location's source from ``FEEDTRAIN_<LOCATION>_SOURCE`` / ``_FILES`` (read through ``dg.EnvVar``, so the UI
    shows where the value comes from), the simulator when they are unset."""
    prefix = f"FEEDTRAIN_{location.upper()}"
    kind = dg.EnvVar(f"{prefix}_SOURCE") if os.environ.get(f"{prefix}_SOURCE") else SIMULATOR
    path = dg.EnvVar(f"{prefix}_FILES") if os.environ.get(f"{prefix}_FILES") else ""
    return LogSource(kind=kind, path=path)


def last_day() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def raw_logs(context: dg.AssetExecutionContext, conn, contract: Contract, source: LogSource,
             simulate: Callable[[dt.date], dict[str, pa.Table]], key: Callable[[str], dg.AssetKey],
             provenance: str) -> Iterator[dg.MaterializeResult]:
    """Load each day of the run through the door, from ``source``; one MaterializeResult per raw table."""
    if source.kind not in (SIMULATOR, FILES):
        raise dg.Failure(f"log source kind {source.kind!r}: expected '{SIMULATOR}' or '{FILES}'")
    if source.kind == FILES and not source.path:
        raise dg.Failure(f"log source 'files' needs a path (FEEDTRAIN_{contract.location.upper()}_FILES)")
    per_day: dict[str, list[dict]] = {t.name: [] for t in contract.tables}
    try:
        for day in partition_days(context):
            if source.kind == FILES:
                stats = ingest.load_files(conn, contract, source.path, day, EVENTS_START, last_day(), source.limits)
            else:
                stats = ingest.load_arrow(conn, contract, day, simulate(day), EVENTS_START, source.limits)
            for table, s in stats.items():
                per_day[table].append({"ds": day.isoformat(), **s})
                record_day(context, key(table), day, {"dagster/row_count": s["rows"]}, s["version"])
            context.log.info(f"{contract.location} raw logs {day} from {source.describe()}: "
                             + ", ".join(f"{t} {s['rows']}" for t, s in stats.items()))
    except ingest.BadInput as e:
        raise dg.Failure(f"{contract.location} raw logs: the day was not written (earlier days of the run are committed): {e}") from None
    for table, days in per_day.items():
        last = days[-1]
        dropped: dict[str, int] = {}
        for d in days:
            for reason, n in d["dropped"].items():
                dropped[reason] = dropped.get(reason, 0) + n
        versions = {dt.date.fromisoformat(d["ds"]): d["version"] for d in days}
        yield dg.MaterializeResult(asset_key=key(table), data_version=run_data_version(versions), metadata={
            "dagster/row_count": last["rows"], "rows_per_day": [d["rows"] for d in days],
            "source": source.describe() if source.kind == FILES else provenance,
            "contract_version": contract.version,
            "dropped_by_spec_filters": dg.MetadataValue.json(dropped),
            "rules_not_checked": dg.MetadataValue.json({d["ds"]: d["not_checked"] for d in days if d["not_checked"]})})


def new_days_sensor(location: str, contract: Contract, target: list[dg.AssetKey]) -> dg.SensorDefinition:
    """Off by default. With a 'files' source, requests a load of every day whose files appeared or changed (path,
    size and modification time) since the last tick: a late or re-delivered day is re-loaded, gets a new content
    version, and the days built from it become stale."""

    @dg.sensor(name=f"{location}_new_log_days", target=target, minimum_interval_seconds=60,
               default_status=dg.DefaultSensorStatus.STOPPED,
               description=f"Loads each newly landed or re-delivered day of {location}'s log files (a 'files' source).")
    def sensor(context: dg.SensorEvaluationContext, log_source: LogSource):
        if log_source.kind != FILES:
            return dg.SkipReason(f"the {location} log source is {log_source.kind!r}, not 'files'")
        try:
            with ingest.door() as door:
                seen = {t.name: ingest.delivered_days(door, log_source.path, t.name, EVENTS_START, last_day())
                        for t in contract.delivered}
        except ingest.BadInput as e:
            return dg.SkipReason(str(e))
        prints: dict[str, str] = {}
        for day in sorted({d for days in seen.values() for d in days}):
            files = sorted(f for days in seen.values() for f in days.get(day, []))
            prints[day.isoformat()] = hashlib.sha1(json.dumps([_stat(f) for f in files]).encode()).hexdigest()[:16]
        before = json.loads(context.cursor) if context.cursor else {}
        changed = [d for d, p in prints.items() if before.get(d) != p]
        context.update_cursor(json.dumps(prints))
        return [dg.RunRequest(run_key=f"{location}-{d}-{prints[d]}", partition_key=d) for d in changed]

    return sensor


def _stat(path: str) -> list:
    if "://" in path:
        return [path]
    st = os.stat(path)
    return [path, st.st_size, st.st_mtime_ns]
