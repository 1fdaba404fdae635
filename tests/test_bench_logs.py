"""The one-day benchmark on a team's own log (bench/chain_day.py --logs): which day it times, and a log too short."""

import datetime as dt
import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def chain_day():
    spec = importlib.util.spec_from_file_location("chain_day", ROOT / "bench" / "chain_day.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_log(folder: Path, sizes: dict[dt.date, int]) -> Path:
    """One ds=YYYY-MM-DD file per day of ``sizes`` bytes (a folder for every other day, as either layout is allowed)."""
    daily = folder / "interaction_graph_labels_daily"
    daily.mkdir(parents=True)
    for i, (day, size) in enumerate(sorted(sizes.items())):
        if i % 2:
            (daily / f"ds={day}").mkdir()
            (daily / f"ds={day}" / "part-0.parquet").write_bytes(b"x" * size)
        else:
            (daily / f"ds={day}.parquet").write_bytes(b"x" * size)
    return folder


def test_the_bench_day_of_a_log_is_its_busiest_eligible_day(tmp_path, monkeypatch):
    # use_logs sets these in os.environ (its children inherit them); set through monkeypatch first, so each is
    # restored (or removed) after the test and no later test reads a files source
    for name in ("FEEDTRAIN_REALGRAPH_SOURCE", "FEEDTRAIN_REALGRAPH_FILES", "FEEDTRAIN_START_DATE", "FEEDTRAIN_WORLD"):
        monkeypatch.setenv(name, "set by the test")
    start = dt.date(2004, 4, 15)
    days = [start + dt.timedelta(days=i) for i in range(60)]
    module = chain_day()
    # activity fading out, as in SNAP's CollegeMsg: the first eligible day's look-back window is the biggest. A day
    # is eligible with 36 days before it (the 31-day look-back of its first labeled day, T-6) and the next day
    # present: days[36..58].
    fading = write_log(tmp_path / "fading", {d: 1000 - 10 * i for i, d in enumerate(days)})
    assert module.use_logs(fading) == days
    assert os.environ["FEEDTRAIN_START_DATE"] == "2004-04-15" and os.environ["FEEDTRAIN_REALGRAPH_SOURCE"] == "files"
    assert os.environ["FEEDTRAIN_REALGRAPH_FILES"] == str(fading.resolve())
    assert module.logs_day(fading) == days[36]
    # even activity: every window holds the same, and the newest eligible day is taken
    even = write_log(tmp_path / "even", {d: 100 for d in days})
    assert module.logs_day(even) == days[58]


def test_a_log_too_short_for_a_bench_day_says_so(tmp_path):
    start = dt.date(2004, 4, 15)
    logs = write_log(tmp_path / "logs", {start + dt.timedelta(days=i): 10 for i in range(30)})
    module = chain_day()
    with pytest.raises(SystemExit, match="30 days .* too few for a bench day: it needs 36 days before it"):
        module.logs_day(logs)
