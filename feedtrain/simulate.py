"""What the embedded simulators share: the resource shape and the vectorised sampling helpers.

A world is drawn once from its seed; each day is a pure function of (world, day), so any day can be generated alone,
in any order, in parallel, and always the same.
"""

from __future__ import annotations

import dagster as dg
import numpy as np
from pydantic import Field


class SimulatorResource(dg.ConfigurableResource):
    """An embedded default data source: a seeded simulated world of a given size."""

    preset: str = Field("default", description="World size: tiny (tests), small, default or bench.")
    seed: int = Field(7, description="Seed of the world; the same seed always gives the same logs.")


def mean_one(x: np.ndarray) -> np.ndarray:
    """Rescale positive weights to mean 1, so a preset's per-user averages stay what they say."""
    return x / x.mean()


def sample_in_group(rng: np.random.Generator, group: np.ndarray, weight: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each entry of ``wanted`` (a group id), a member of that group drawn with probability ∝ weight."""
    order = np.argsort(group, kind="stable")
    cum = np.cumsum(weight[order])
    lo_idx = np.searchsorted(group[order], wanted, side="left")
    hi_idx = np.searchsorted(group[order], wanted, side="right")
    lo = np.where(lo_idx > 0, cum[np.maximum(lo_idx - 1, 0)], 0.0)
    hi = cum[hi_idx - 1]
    pick = np.searchsorted(cum, lo + rng.random(len(wanted)) * (hi - lo), side="right")
    return order[np.clip(pick, lo_idx, hi_idx - 1)]
