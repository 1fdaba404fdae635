"""The Earlybird-style light ranker (docs/recap.md §4, §6.11): every feature discretised into (at most) 20 quantile bins,
one-hot, and one logistic regression over the bins (a sparse linear layer with a sigmoid).

Deviation from docs/recap.md §6.11's suggested ``KBinsDiscretizer(n_bins=20, strategy="quantile")``: its bin edges include
the feature's minimum and maximum and drop duplicates, so a flag with less than half ones (has_video: 12 %) gets the
edges [0, 1], a single bin, and the model never sees it.  Earlybird keeps binary features apart from the discretised
ones; we get the same effect by cutting at the distinct *interior* quantiles (bin = number of cuts <= x), so every
mass point (0 counts, each flag value) has its own bin.  For continuous features the two agree.

The fitted model is persisted as plain JSON (cut points + one coefficient per bin) and scored from it with
``np.searchsorted``, so it reloads without pickle and scores millions of rows without building the one-hot matrix.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from feedtrain.training import FORMAT_VERSION

KIND = "binned_light_ranker"


def quantile_cuts(x: np.ndarray, n_bins: int) -> list[np.ndarray]:
    """Per column, the distinct quantiles at 1/n_bins .. (n_bins-1)/n_bins above the minimum: at most n_bins bins."""
    qs = np.linspace(0, 1, n_bins + 1)[1:-1]
    cuts = [np.unique(np.quantile(x[:, j], qs)) for j in range(x.shape[1])]
    return [c[c > x[:, j].min()] if len(x) else c for j, c in enumerate(cuts)]  # no empty bin below the minimum


def bins(x: np.ndarray, cuts: list[np.ndarray]) -> np.ndarray:
    """Bin index of every value, offset so that each (feature, bin) is one column of the one-hot layout."""
    offsets = np.cumsum([0] + [len(c) + 1 for c in cuts[:-1]])
    return np.stack([np.searchsorted(c, x[:, j], side="right") for j, c in enumerate(cuts)], axis=1) + offsets


def one_hot(x: np.ndarray, cuts: list[np.ndarray]) -> sp.csr_matrix:
    b = bins(x, cuts)
    n, k = b.shape
    width = sum(len(c) + 1 for c in cuts)
    return sp.csr_matrix((np.ones(n * k), b.ravel(), np.arange(0, n * k + 1, k)), shape=(n, width))


class Columns:
    """A feature matrix as (distinct values, index of each row's value) per column: build once, score many models."""

    def __init__(self, x: np.ndarray):
        self.rows = len(x)
        self.columns = [np.unique(x[:, j], return_inverse=True) for j in range(x.shape[1])]


@dataclasses.dataclass
class BinnedLogisticModel:
    features: list[str]
    manifest: dict
    kind: str = KIND

    def logit(self, x: np.ndarray | Columns) -> np.ndarray:
        cols = x if isinstance(x, Columns) else Columns(x)
        coef = np.asarray(self.manifest["coef"])
        out = np.full(cols.rows, float(self.manifest["intercept"]))
        offset = 0
        for (values, inverse), c in zip(cols.columns, self.manifest["cuts"]):
            # the bin of each distinct value, then one gather per row: the same rule as bins(), without a
            # binary search per row (the evaluation scores millions of rows with ten models)
            out += coef[offset + np.searchsorted(np.asarray(c), values, side="right")][inverse]
            offset += len(c) + 1
        return out

    def predict_array(self, x: np.ndarray | Columns) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def predict(self, df) -> np.ndarray:
        return self.predict_array(df.select(self.features).to_numpy().astype(np.float64))

    def save(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        (path / "manifest.json").write_text(json.dumps(self.manifest, indent=2, default=str))
        return path


def fit(x: np.ndarray, y: np.ndarray, features: list[str], n_bins: int = 20, c: float = 0.05):
    """Returns (model, the fitted scikit-learn regression) — the latter only to test the persisted form."""
    cuts = quantile_cuts(x, n_bins)
    from sklearn.linear_model import LogisticRegression  # lazily: sklearn's import is seconds of every run's start-up

    lr = LogisticRegression(C=c, max_iter=2000).fit(one_hot(x, cuts), y)
    manifest = {"format_version": FORMAT_VERSION, "kind": KIND, "features": features, "n_bins": n_bins, "C": c,
                "cuts": [cu.tolist() for cu in cuts], "coef": lr.coef_[0].tolist(),
                "intercept": float(lr.intercept_[0]), "trained_rows": len(y)}
    return BinnedLogisticModel(features, manifest), lr


def load(path: Path) -> BinnedLogisticModel:
    manifest = json.loads((Path(path) / "manifest.json").read_text())
    if manifest.get("format_version") != FORMAT_VERSION or manifest.get("kind") != KIND:
        raise ValueError(f"{path}: not a {KIND} of format {FORMAT_VERSION}")
    return BinnedLogisticModel(manifest["features"], manifest)
