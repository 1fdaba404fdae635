"""`python -m feedtrain.seed` (what ./run.sh runs on first start), as a process of its own: the partitions are fixed at
import from the start dates, so a short history is set in its environment."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]


def test_seed_fills_what_a_short_history_offers_and_skips_the_champions(tmp_path):
    # Four raw days: Real Graph offers its sources, interaction_days and one tweeting_follows day, and no candidate,
    # label, train or model day, so there is nothing for the champions to decide.
    today = dt.datetime.now(dt.UTC).date()
    env = {**os.environ, "FEEDTRAIN_HOME": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path),
           "FEEDTRAIN_WORLD": "tiny", "FEEDTRAIN_START_DATE": (today - dt.timedelta(days=4)).isoformat(),
           "FEEDTRAIN_ENGINE": "duckdb", "PYTHONPATH": str(REPO)}
    env.pop("FEEDTRAIN_REALGRAPH_START_DATE", None)
    done = subprocess.run([sys.executable, "-m", "feedtrain.seed", "realgraph"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "[realgraph 3/7] candidates, candidates_sampled: no day offered yet" in done.stdout
    assert "[realgraph 7/7] champion, champion_explicit: skipped" in done.stdout
    with duckdb.connect(str(tmp_path / "data" / "realgraph_warehouse.duckdb"), read_only=True) as conn:
        days = dict(conn.execute("SELECT table_name, count(*) FROM realgraph.feedtrain_ledger GROUP BY 1").fetchall())
    assert days["interaction_days"] == 4 and days["tweeting_follows"] == 1
    assert "candidates" not in days
