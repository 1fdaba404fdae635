"""Where model artifacts live, and how a model day is published: its files, its evaluation rows and the versions of
the inputs it was trained on become visible together or not at all.

Layout under ``root`` (``$FEEDTRAIN_HOME/models`` by default), per location and model:

    <location>/<model>/<day>                       symlink to .versions/<day>.<sha256[:16]>, swapped atomically
    <location>/<model>/.versions/<day>.<sha16>/    the published files: manifest.json (+ LightGBM's model.txt)
    <location>/<model>/.staging/<day>.<random>/    being written; never read, removed by the next stage of that day
    <location>/<model>/CHAMPION                    the promoted day, for a serving system (written atomically)

``publish`` is the one write path for a model day:

1. every artifact of the day was written to a staging directory and hashed (``stage``: sha256 over file names and
   bytes, fsynced);
2. the evaluation rows, each carrying its artifact's sha256 and the ledger versions of its inputs, replace the day's
   rows in one transaction (``Engine.replace_rows``): the commit point;
3. each staged directory is renamed to its versioned name and the day's symlink is swapped to it (both atomic
   renames); older versions of that day are removed.

A crash before 2 leaves the previous model day as it was (plus an ignored staging directory). A crash after 2 leaves
rows whose recorded sha256 the files on disk do not match: ``verify`` says so, the champion never compares against such
a model, and re-running the day repairs it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import importlib.metadata
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from .warehouse import home

# The evaluation table's columns that make it the artifact registry (added to warehouses created before them).
REGISTRY_COLUMNS = {"artifact_sha256": "the sha256 of the model's files (NULL for baselines)",
                    "inputs": "JSON {table: {day: ledger version}} of the days the model was trained and evaluated on"}
PACKAGES = ("feedtrain", "lightgbm", "scikit-learn", "numpy", "polars", "pyarrow", "duckdb", "dagster")


@dataclasses.dataclass(frozen=True)
class Artifact:
    """A model day's files, written and hashed in a staging directory, not yet visible."""

    model: str
    day: dt.date
    staging: Path
    sha256: str


def tree_sha256(path: Path) -> str:
    """sha256 over the relative names, sizes and bytes of every file under ``path``, in name order."""
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        data = file.read_bytes()
        digest.update(f"{file.relative_to(path).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def provenance(inputs: dict[str, dict[dt.date, str]], config: dg.Config | dict) -> dict:
    """What a manifest records so that two builds from the same inputs are identical files: the input partitions with
    their ledger versions, the configuration and the package versions (no wall-clock time)."""
    return {"inputs": inputs_json(inputs),
            "config": config.model_dump() if isinstance(config, dg.Config) else config,
            "packages": {p: _version(p) for p in PACKAGES}}


def inputs_json(inputs: dict[str, dict[dt.date, str]]) -> dict[str, dict[str, str]]:
    return {t: {d.isoformat(): v for d, v in sorted(by_day.items())} for t, by_day in sorted(inputs.items())}


@functools.cache  # importlib.metadata scans site-packages on every call: 6 ms, 8 packages, every model of every day
def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ModelStore(dg.ConfigurableResource):
    """A location's model artifacts: where they live, and their publication together with their evaluation rows."""

    location: str = Field(description="The code location, the first directory under the root (realgraph, recap).")
    root: str = Field("", description="Directory holding every location's models; empty: $FEEDTRAIN_HOME/models.")

    def directory(self, model: str) -> Path:
        """Where a model's days (and its CHAMPION pointer) live; ``model`` may hold a slash (``boosted_trees/favorited``)."""
        return (Path(self.root) if self.root else home() / "models") / self.location / model

    def path(self, model: str, day: dt.date) -> Path:
        """The published model of ``day`` (a symlink to its current version)."""
        return self.directory(model) / day.isoformat()

    # -- writing -----------------------------------------------------------------------------------------------------
    def stage(self, model: str, day: dt.date, save: Callable[[Path], object]) -> Artifact:
        """Write a model day's files with ``save(directory)`` into a fresh staging directory, fsync and hash them.
        Leftovers of an earlier crashed attempt at the same model day are removed first."""
        staging_root = self.directory(model) / ".staging"
        for leftover in staging_root.glob(f"{day.isoformat()}.*"):
            shutil.rmtree(leftover, ignore_errors=True)
        staging = staging_root / f"{day.isoformat()}.{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        save(staging)
        for file in staging.rglob("*"):
            if file.is_file():
                _fsync(file)
        return Artifact(model, day, staging, tree_sha256(staging))

    def publish(self, conn, table: str, rows: pl.DataFrame, keys: Sequence[str], artifacts: Sequence[Artifact]) -> None:
        """Commit ``rows`` (which carry the artifacts' sha256) into ``table``, replacing the rows with the same
        ``keys``, in one transaction; then move every artifact into place."""
        self._ensure_registry_columns(conn, table)
        conn.register("model_rows_to_publish", rows.to_arrow())
        conn.stage("model_rows_staged", "SELECT * FROM model_rows_to_publish")
        conn.replace_rows(table, "model_rows_staged", keys)
        for artifact in artifacts:
            self._move_into_place(artifact)
        for artifact in artifacts:
            self._remove_old_versions(artifact)

    def _move_into_place(self, artifact: Artifact) -> None:
        """Rename the staged directory to its versioned name, then point the day's symlink at it: each an atomic
        rename, so a reader sees the old version or the new one, never a mix."""
        directory = self.directory(artifact.model)
        version = directory / ".versions" / f"{artifact.day.isoformat()}.{artifact.sha256[:16]}"
        version.parent.mkdir(exist_ok=True)
        if version.exists():  # the same files were published before (a re-run with the same inputs)
            shutil.rmtree(artifact.staging)
        else:
            artifact.staging.rename(version)
        link = self.path(artifact.model, artifact.day)
        if link.is_dir() and not link.is_symlink():  # a model directory from before the store: move it aside
            link.rename(directory / ".versions" / f"{artifact.day.isoformat()}.unversioned-{uuid.uuid4().hex[:8]}")
        swap = directory / f".{artifact.day.isoformat()}.{uuid.uuid4().hex}.link"
        swap.symlink_to(version.relative_to(directory))
        os.replace(swap, link)
        _fsync(directory)

    def _remove_old_versions(self, artifact: Artifact) -> None:
        current = self.path(artifact.model, artifact.day).resolve()
        for old in (self.directory(artifact.model) / ".versions").glob(f"{artifact.day.isoformat()}.*"):
            if old.resolve() != current:
                shutil.rmtree(old, ignore_errors=True)

    def _ensure_registry_columns(self, conn, table: str) -> None:
        conn.add_columns(table, [(c, "VARCHAR") for c in REGISTRY_COLUMNS])  # a warehouse created before the store

    def write_pointer(self, model: str, name: str, text: str) -> Path:
        """Write a small file such as CHAMPION atomically (write a temporary file, then rename it over the old)."""
        target = self.directory(model) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{name}.{uuid.uuid4().hex}")
        tmp.write_text(text)
        _fsync(tmp)
        os.replace(tmp, target)
        return target

    # -- reading -----------------------------------------------------------------------------------------------------
    def verify(self, model: str, day: dt.date, sha256: str | None) -> str | None:
        """None if the published files of ``model``'s ``day`` are the ones its evaluation recorded, else why not."""
        path = self.path(model, day)
        if sha256 is None:
            return f"{self.location}/{model} {day}: its evaluation records no artifact sha256"
        if not (path / "manifest.json").exists():
            return f"{self.location}/{model} {day}: model files missing at {path}"
        found = tree_sha256(path.resolve())
        if found != sha256:
            return (f"{self.location}/{model} {day}: the files at {path} (sha256 {found[:12]}) are not the evaluated "
                    f"model (sha256 {sha256[:12]})")
        return None
