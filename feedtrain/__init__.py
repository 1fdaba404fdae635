"""feedtrain: the shared core of the realgraph_assets and recap_assets code locations."""

import warnings

import dagster as dg

# backfill_policy, pool and asset-check partitions are beta/preview in Dagster 1.13; we pin the minor version and test
# them, so their per-definition warnings only bury the run logs that matter.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
