"""feedtrain: the shared core of the realgraph_assets and recap_assets code locations."""

import os
import warnings

# LightGBM's OpenMP threads busy-wait at every barrier by default. When anything else wants the CPU (a backfill's
# other runs, the daemon, a second location) they spin against it: a day's trees took 4x the CPU and 3-5x the wall
# time at load 5 on 2 cores (bench/RESULTS.md). Passive waiting gives the same trees. Read once when the OpenMP runtime
# loads (LightGBM and scikit-learn are imported later, where a model is fitted), so it is set here; an explicit
# OMP_WAIT_POLICY in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import dagster as dg  # noqa: E402

# backfill_policy, pool and asset-check partitions are beta/preview in Dagster 1.13; we pin the minor version and test
# them, so their per-definition warnings only bury the run logs that matter.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
