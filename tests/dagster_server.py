"""A real `dagster dev` (webserver + daemon + every code location of workspace.yaml) for end-to-end tests.

    with dagster_server(tmp_dir) as server:      # seeds the tiny world's history, starts the server, waits for it
        server.graphql("{ version }")

Test modules share one server per pytest session with ``pytest_plugins = ["dagster_server"]``, which registers the
session-scoped fixture ``dagster_dev`` below (importing the fixture into two modules would start two servers).

The server gets a fresh DAGSTER_HOME (a copy of the repository's dagster.yaml, so pools and the run queue are the real
ones), a fresh FEEDTRAIN_HOME, the ``tiny`` simulated world and a FEEDTRAIN_START_DATE ``START_DAYS_AGO`` days before
today (UTC), which leaves a handful of model partitions. Before it starts, ``python -m realgraph_assets.demo seed
--model-days 1`` records real runs in that instance and leaves the newest model day unmaterialised.

The server runs in its own session (setsid(2) via ``start_new_session``) under ``env --default-signal=INT,TERM``
(dagster dev started from a background job ignores SIGINT/SIGTERM otherwise), so stopping it is SIGTERM to the whole
process group, then SIGKILL if anything is left after a timeout.

PYTEST_DONT_REWRITE (the test modules import this before pytest_plugins registers it; it has no asserts to rewrite)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
# First simulated day, in days before today (UTC): few partitions, but enough for 4+ model days per location.
# Real Graph models start 36 days after the events and end 3 days before today: 45 days leave 7 model days.
# Recap models start 70 days after the events and end 2 days before today: 80 days leave 9.
START_DAYS_AGO = {"realgraph_assets": 45, "recap_assets": 80}
LOAD_TIMEOUT_S = 180
SEED_TIMEOUT_S = 600  # the seed takes ~1 minute alone, several on a loaded 2-core machine

TERMINAL_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}
TERMINAL_BACKFILL_STATUSES = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
BACKFILL_SUCCESS_STATUSES = {"COMPLETED", "COMPLETED_SUCCESS"}  # COMPLETED is the pre-1.9 name of COMPLETED_SUCCESS

WORKSPACE_QUERY = """{ workspaceOrError { __typename
  ... on Workspace { locationEntries { name loadStatus
      locationOrLoadError { __typename ... on PythonError { message stack } } } }
  ... on PythonError { message } } }"""

RUN_FIELDS = "runId status jobName startTime endTime creationTime tags { key value } assetSelection { path }"


class ServerError(RuntimeError):
    pass


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workspace_modules(workspace: Path = REPO / "workspace.yaml") -> dict[str, str | None]:
    """{location name: its python module (None if it is not a python_module entry)} of workspace.yaml."""
    doc = yaml.safe_load(workspace.read_text()) or {}
    modules = {}
    for entry in doc.get("load_from") or []:
        ((kind, spec),) = entry.items()
        name = spec.get("location_name") or spec.get("module_name") or spec.get("python_file")
        modules[name] = spec.get("module_name") if kind == "python_module" else None
    return modules


def workspace_locations(workspace: Path = REPO / "workspace.yaml") -> list[str]:
    """Location names declared in workspace.yaml."""
    return list(workspace_modules(workspace))


class DagsterServer:
    """A running `dagster dev` and small GraphQL helpers around it."""

    def __init__(self, root: Path, port: int | None = None, start_date: dt.date | None = None):
        self.root = Path(root)
        self.dagster_home = self.root / "dagster_home"
        self.feedtrain_home = self.root / "feedtrain_home"
        self.log_path = self.root / "dagster_dev.log"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.locations = workspace_locations()
        days_ago = max(START_DAYS_AGO.get(name, START_DAYS_AGO["recap_assets"]) for name in self.locations)
        self.start_date = start_date or utc_today() - dt.timedelta(days=days_ago)
        self.proc: subprocess.Popen | None = None
        self.seed_seconds = self.start_seconds = 0.0
        self.env = {
            **os.environ,
            "DAGSTER_HOME": str(self.dagster_home),
            "FEEDTRAIN_HOME": str(self.feedtrain_home),
            "FEEDTRAIN_WORLD": "tiny",
            "FEEDTRAIN_START_DATE": self.start_date.isoformat(),
            "PYTHONUNBUFFERED": "1",
        }

    # -- lifecycle ----------------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        self.feedtrain_home.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "dagster.yaml", self.dagster_home / "dagster.yaml")

    def seed(self) -> None:
        """Materialise the tiny world's history through the real assets into this instance (all but the newest
        model day's models)."""
        started = time.monotonic()
        cmd = [sys.executable, "-m", "realgraph_assets.demo", "seed", "--model-days", "1"]
        try:
            out = subprocess.run(cmd, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=SEED_TIMEOUT_S,
                                 check=False)
        except subprocess.TimeoutExpired as e:
            raise ServerError(f"{' '.join(cmd)} timed out after {SEED_TIMEOUT_S}s:\n{tail(e.stdout)}\n{tail(e.stderr)}")
        self.seed_seconds = time.monotonic() - started
        summary = [line for line in out.stdout.splitlines() if line.startswith(("  ", "seeded"))]
        if out.returncode != 0 or any("FAILED" in line for line in summary):
            raise ServerError(f"{' '.join(cmd)} failed (exit {out.returncode}):\n{tail(out.stdout)}\n{tail(out.stderr)}")

    def start(self) -> None:
        started = time.monotonic()
        cmd = ["env", "--default-signal=INT,TERM", "dagster", "dev", "-w", str(REPO / "workspace.yaml"),
               "-h", "127.0.0.1", "-p", str(self.port)]
        log = open(self.log_path, "wb")
        try:
            # start_new_session: setsid(2) in the child, so its pid is the process group of the whole tree.
            self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()
        self.wait_loaded()
        self.start_seconds = time.monotonic() - started

    def wait_loaded(self, timeout: float = LOAD_TIMEOUT_S) -> list[dict]:
        """Until GraphQL answers and every location of workspace.yaml is LOADED without error."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        checked_instance = False
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServerError(f"dagster dev exited with {self.proc.returncode} before loading\n{self.log_tail()}")
            try:
                data = self.graphql(WORKSPACE_QUERY, timeout=10)
            except (OSError, ServerError) as e:  # not listening yet, or still starting
                last = repr(e)
                time.sleep(1)
                continue
            ws = data["workspaceOrError"]
            if not checked_instance:  # another server on this port would answer too: is this one ours?
                info = self.graphql("{ instance { info } }")["instance"]["info"] or ""
                if f"base_dir: {self.dagster_home}" not in info:
                    raise ServerError(f"the server on port {self.port} is not ours (its instance: {info[:300]})"
                                      f"\n{self.log_tail()}")
                checked_instance = True
            if ws["__typename"] != "Workspace":
                raise ServerError(f"workspace failed to load: {ws.get('message')}\n{self.log_tail()}")
            entries = {e["name"]: e for e in ws["locationEntries"]}
            for name, e in entries.items():
                err = e.get("locationOrLoadError") or {}
                if err.get("__typename") == "PythonError":
                    raise ServerError(f"code location {name} failed to load: {err['message']}\n{err.get('stack')}"
                                      f"\n{self.log_tail()}")
            if all(n in entries and entries[n]["loadStatus"] == "LOADED" and entries[n]["locationOrLoadError"]
                   for n in self.locations):
                return list(entries.values())
            last = json.dumps(ws["locationEntries"])
            time.sleep(1)
        raise ServerError(f"dagster dev did not load {self.locations} within {timeout}s (last: {last})\n{self.log_tail()}")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM to the process group, SIGKILL to whatever is left after ``timeout``."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and group_alive(pgid):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=0.5)
        if group_alive(pgid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self.proc = None

    def log_tail(self, chars: int = 8000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return f"--- dagster dev log ({self.log_path}), last {chars} chars ---\n{text[-chars:]}"

    # -- GraphQL ------------------------------------------------------------------------------------------------------
    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                doc = json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise ServerError(f"GraphQL HTTP {e.code}: {e.read()[:2000]!r}") from e
        if doc.get("errors"):
            raise ServerError(f"GraphQL errors: {json.dumps(doc['errors'])[:4000]}")
        return doc["data"]

    def runs(self, tags: dict[str, str] | None = None, statuses: list[str] | None = None, limit: int = 1000) -> list[dict]:
        flt: dict[str, Any] = {}
        if tags:
            flt["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        if statuses:
            flt["statuses"] = statuses
        data = self.graphql(
            f"""query($filter: RunsFilter, $limit: Int) {{ runsOrError(filter: $filter, limit: $limit) {{ __typename
                ... on Runs {{ results {{ {RUN_FIELDS} }} }} ... on PythonError {{ message }} }} }}""",
            {"filter": flt, "limit": limit})["runsOrError"]
        if data["__typename"] != "Runs":
            raise ServerError(f"runsOrError: {data}")
        return data["results"]

    def run(self, run_id: str) -> dict:
        data = self.graphql(f"""query($id: ID!) {{ runOrError(runId: $id) {{ __typename
            ... on Run {{ {RUN_FIELDS} }} ... on RunNotFoundError {{ message }} ... on PythonError {{ message }} }} }}""",
                            {"id": run_id})["runOrError"]
        if data["__typename"] != "Run":
            raise ServerError(f"runOrError({run_id}): {data}")
        return data

    def wait_run(self, run_id: str, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run["status"] in TERMINAL_RUN_STATUSES:
                return run
            if time.monotonic() > deadline:
                raise ServerError(f"run {run_id} still {run['status']} after {timeout}s\n{self.log_tail()}")
            time.sleep(1)

    def wait_for_run(self, predicate, timeout: float = 60) -> dict:
        """The newest run for which ``predicate(run)`` holds, once one exists (e.g. the run a UI click launched)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.runs(limit=50) if predicate(r)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise ServerError(f"no matching run appeared within {timeout}s")
            time.sleep(1)

    def launch_backfill(self, params: dict) -> str:
        """``launchPartitionBackfill`` with LaunchBackfillParams ``params``; returns the backfill id."""
        data = self.graphql("""mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
            __typename ... on LaunchBackfillSuccess { backfillId } ... on Error { message }
            ... on PythonError { stack } } }""", {"p": params})["launchPartitionBackfill"]
        if data["__typename"] != "LaunchBackfillSuccess":
            raise ServerError(f"launchPartitionBackfill: {json.dumps(data)[:4000]}")
        return data["backfillId"]

    def backfill(self, backfill_id: str) -> dict:
        data = self.graphql("""query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename
            ... on PartitionBackfill { id status numPartitions title isAssetBackfill timestamp endTimestamp
                assetSelection { path } error { message stack } }
            ... on Error { message } } }""", {"id": backfill_id})["partitionBackfillOrError"]
        if data["__typename"] != "PartitionBackfill":
            raise ServerError(f"partitionBackfillOrError({backfill_id}): {data}")
        return data

    def backfills(self, limit: int = 20) -> list[dict]:
        data = self.graphql("""query($limit: Int) { partitionBackfillsOrError(limit: $limit) { __typename
            ... on PartitionBackfills { results { id status title timestamp numPartitions
                assetSelection { path } } } ... on PythonError { message } } }""", {"limit": limit})
        return data["partitionBackfillsOrError"].get("results") or []

    def backfill_runs(self, backfill_id: str) -> list[dict]:
        return self.runs(tags={"dagster/backfill": backfill_id})

    def wait_backfill(self, backfill_id: str, timeout: float = 480) -> dict:
        """Until the backfill is terminal and none of its runs is still going; returns the backfill."""
        deadline = time.monotonic() + timeout
        while True:
            bf = self.backfill(backfill_id)
            if bf["status"] in TERMINAL_BACKFILL_STATUSES:
                runs = self.backfill_runs(backfill_id)
                if all(r["status"] in TERMINAL_RUN_STATUSES for r in runs):
                    return bf
            if time.monotonic() > deadline:
                runs = self.backfill_runs(backfill_id)
                raise ServerError(
                    f"backfill {backfill_id} still {bf['status']} after {timeout}s; runs: "
                    f"{[(r['runId'][:8], r['status'], [('/'.join(a['path'])) for a in r['assetSelection'] or []]) for r in runs]}"
                    f"\n{self.log_tail()}")
            time.sleep(2)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def tail(text, chars: int = 6000) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return (text or "")[-chars:]


@contextlib.contextmanager
def dagster_server(root: Path | None = None, seed: bool = True) -> Iterator[DagsterServer]:
    """Seed, start and wait for a `dagster dev`; always stops its process group. ``root`` defaults to a temp dir
    (removed afterwards unless the server failed, so its log can be read)."""
    own_root = root is None
    root = Path(tempfile.mkdtemp(prefix="feedtrain_dagster_")) if own_root else Path(root)
    server = DagsterServer(root)
    ok = False
    try:
        server.prepare()
        if seed:
            server.seed()
        server.start()
        yield server
        ok = True
    finally:
        server.stop()
        if ARTIFACTS.exists() or not ok:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                shutil.copy(server.log_path, ARTIFACTS / "dagster_dev.log")
        if own_root and ok:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dagster_dev(tmp_path_factory) -> Iterator[DagsterServer]:
    """One seeded `dagster dev` for the whole test session (see the module docstring)."""
    with dagster_server(tmp_path_factory.mktemp("dagster_dev")) as server:
        print(f"\ndagster dev on {server.url}: seeded in {server.seed_seconds:.0f}s, loaded "
              f"{server.locations} in {server.start_seconds:.0f}s (DAGSTER_HOME={server.dagster_home})")
        yield server


# -- backfill planning ------------------------------------------------------------------------------------------------
def plan_backfill(server: DagsterServer, module: str, model_days: int, skip_newest: int = 0) -> dict:
    """Per-asset partition ranges for a backfill of every asset of the code location ``module`` (its ``defs``):
    the last ``model_days`` partitions (``skip_newest`` newest ones left out) of every partitioned asset with no
    partitioned child (the models), and every upstream partition those need, by the assets' own partition mappings.

    Computed by Dagster's asset graph in a subprocess with the server's environment (the partitions depend on
    FEEDTRAIN_START_DATE, read at import). Returns {"partitions_by_assets": [PartitionsByAssetSelector, ...],
    "ranges": {"a/b": [[first, last], ...]}, "partitions": {"a/b": [key, ...]}, "unpartitioned": [...],
    "leaves": {...}, "unreached": [...], "all_assets": [...]}."""
    env = {**server.env, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), server.env.get("PYTHONPATH")) if p)}
    out = subprocess.run([sys.executable, __file__, "plan", module, str(model_days), str(skip_newest)], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=180, check=False)
    if out.returncode != 0:
        raise ServerError(f"planning the {module} backfill failed:\n{tail(out.stdout)}\n{tail(out.stderr)}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _plan(module: str, model_days: int, skip_newest: int) -> dict:
    import importlib
    from collections import defaultdict

    defs = importlib.import_module(module).defs
    graph = defs.resolve_asset_graph()
    now = dt.datetime.now(dt.UTC)
    keys = {n.key for n in graph.asset_nodes if n.is_materializable}
    pdef = {k: graph.get(k).partitions_def for k in keys}
    partitioned = {k for k in keys if pdef[k] is not None}
    all_keys = {k: pdef[k].get_partition_keys(current_time=now) for k in partitioned}
    leaves = sorted((k for k in partitioned if not (graph.get(k).child_keys & partitioned)), key=str)
    required: dict = defaultdict(set)
    for k in leaves:
        pks = all_keys[k][: len(all_keys[k]) - skip_newest] if skip_newest else all_keys[k]
        if len(pks) < model_days:
            raise ValueError(f"{k.to_user_string()} has {len(pks)} partitions, fewer than {model_days}")
        required[k] |= set(pks[-model_days:])
    todo = list(leaves)
    while todo:
        k = todo.pop()
        for parent in graph.get(k).parent_keys:
            if parent not in partitioned:
                continue
            result = graph.get_partition_mapping(k, parent).get_upstream_mapped_partitions_result_for_partitions(
                pdef[k].subset_with_partition_keys(required[k]), pdef[k], pdef[parent], current_time=now)
            missing = list(result.required_but_nonexistent_subset.get_partition_keys())
            if missing:
                raise ValueError(f"{k.to_user_string()} needs {parent.to_user_string()} partitions that do not exist "
                                 f"(history too short): {missing[:5]}...")
            new = set(result.partitions_subset.get_partition_keys()) - required[parent]
            if new:
                required[parent] |= new
                todo.append(parent)
    for k in list(required):  # a non-subsettable multi-asset runs all its assets over the same partitions
        together = set().union(*(required[m] for m in graph.get(k).execution_set_asset_keys if m in required))
        for m in graph.get(k).execution_set_asset_keys:
            required[m] = together | required[m]
    ranges = {}
    for k, pks in required.items():
        index = sorted(all_keys[k].index(p) for p in pks)
        spans, start = [], index[0]
        for a, b in zip(index, index[1:] + [None]):
            if b != a + 1:
                spans.append([all_keys[k][start], all_keys[k][a]])
                start = b
        ranges[k] = spans
    unpartitioned = sorted((k for k in keys if k not in partitioned), key=str)
    selectors = [{"assetKey": {"path": list(k.path)},
                  "partitions": {"ranges": [{"start": a, "end": b} for a, b in ranges[k]]}}
                 for k in sorted(ranges, key=str)]
    selectors += [{"assetKey": {"path": list(k.path)}, "partitions": None} for k in unpartitioned]
    return {
        "partitions_by_assets": selectors,
        "ranges": {k.to_user_string(): v for k, v in sorted(ranges.items(), key=lambda kv: str(kv[0]))},
        "unpartitioned": [k.to_user_string() for k in unpartitioned],
        "leaves": {k.to_user_string(): sorted(required[k]) for k in leaves},
        "partitions": {k.to_user_string(): sorted(v) for k, v in sorted(required.items(), key=lambda kv: str(kv[0]))},
        "unreached": sorted(k.to_user_string() for k in partitioned if k not in required),
        "all_assets": sorted(k.to_user_string() for k in keys),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["plan"]:
        import logging
        import warnings

        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        print(json.dumps(_plan(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
