"""./run.sh stops cleanly: a signal to the script (as `kill <pid>` or Ctrl-C sends it) stops dagster's webserver,
daemon and code servers, even when the script was started in the background (where SIGINT arrives ignored)."""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_with(marker: str) -> list[int]:
    """Pids of every process whose environment holds ``marker`` (children that left the process group included)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                pass
    return found


def ignore_sigint():  # what a shell does to a job started with `&`
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_sh_stops_everything_on_a_signal(tmp_path, sig):
    home, dagster_home = tmp_path / "data", tmp_path / "dagster_home"
    home.mkdir()
    dagster_home.mkdir()
    shutil.copy(REPO / "dagster.yaml", dagster_home)
    for location in ("realgraph", "recap"):  # seeded already: this test is about starting and stopping
        (home / f".seeded_{location}").touch()
    (home / "start_dates.env").write_text("")
    port, marker = free_port(), f"run-sh-test-{uuid.uuid4()}"
    env = {**os.environ, "FEEDTRAIN_HOME": str(home), "FEEDTRAIN_DAGSTER_HOME": str(dagster_home),
           "FEEDTRAIN_PORT": str(port), "FEEDTRAIN_WORLD": "tiny", "FEEDTRAIN_TEST_MARKER": marker}
    with open(tmp_path / "run.log", "w") as log:
        proc = subprocess.Popen(["./run.sh"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=ignore_sigint)
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5).read()
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the UI did not come up"
                time.sleep(2)
        assert len(processes_with(marker)) > 1  # webserver, daemon, code servers
        proc.send_signal(sig)
        proc.wait(timeout=120)
        deadline = time.monotonic() + 60
        while processes_with(marker) and time.monotonic() < deadline:
            time.sleep(1)
        assert processes_with(marker) == [], (tmp_path / "run.log").read_text()[-3000:]
    finally:
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)
