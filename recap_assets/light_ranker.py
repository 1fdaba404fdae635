"""The Earlybird-style light ranker (SPEC §4, §6.11): every feature discretised into 20 quantile bins, one-hot, and
one logistic regression over the bins (a sparse linear layer with a sigmoid).

SPEC §6.11 emulates Earlybird's percentile discretizer with scikit-learn's ``KBinsDiscretizer(n_bins=20,
strategy="quantile", encode="onehot")``.  The fitted model is persisted as plain JSON (bin edges + one coefficient per
bin) and scored from it with ``np.searchsorted`` (the discretizer's own rule), so it reloads without pickle and scores
millions of rows without building the one-hot matrix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import KBinsDiscretizer

from feedtrain.training import FORMAT_VERSION

KIND = "binned_light_ranker"


@dataclasses.dataclass
class BinnedLogisticModel:
    features: list[str]
    manifest: dict
    kind: str = KIND

    def logit(self, x: np.ndarray) -> np.ndarray:
        coef = np.asarray(self.manifest["coef"])
        out = np.full(len(x), float(self.manifest["intercept"]))
        offset = 0
        for j, edges in enumerate(self.manifest["bin_edges"]):
            edges = np.asarray(edges)
            n_bins = len(edges) - 1
            b = np.clip(np.searchsorted(edges[1:-1], x[:, j], side="right"), 0, n_bins - 1)
            out += coef[offset + b]
            offset += n_bins
        return out

    def predict_array(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def predict(self, df) -> np.ndarray:
        return self.predict_array(df.select(self.features).to_numpy().astype(np.float64))

    def save(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        (path / "manifest.json").write_text(json.dumps(self.manifest, indent=2, default=str))
        return path


def fit(x: np.ndarray, y: np.ndarray, features: list[str], n_bins: int = 20, c: float = 1.0):
    """Returns (model, the fitted scikit-learn discretizer and regression) — the latter only to test the manifest."""
    disc = KBinsDiscretizer(n_bins=n_bins, strategy="quantile", encode="onehot", quantile_method="averaged_inverted_cdf",
                            subsample=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "bins whose width are too small are removed": count features with many zeros
        onehot = disc.fit_transform(x)
    lr = LogisticRegression(C=c, max_iter=2000).fit(onehot, y)
    manifest = {"format_version": FORMAT_VERSION, "kind": KIND, "features": features, "n_bins": n_bins, "C": c,
                "bin_edges": [e.tolist() for e in disc.bin_edges_], "coef": lr.coef_[0].tolist(),
                "intercept": float(lr.intercept_[0]), "trained_rows": int(len(y)),
                "created_at": dt.datetime.now(dt.UTC).isoformat()}
    return BinnedLogisticModel(features, manifest), (disc, lr)


def load(path: Path) -> BinnedLogisticModel:
    manifest = json.loads((Path(path) / "manifest.json").read_text())
    if manifest.get("format_version") != FORMAT_VERSION or manifest.get("kind") != KIND:
        raise ValueError(f"{path}: not a {KIND} of format {FORMAT_VERSION}")
    return BinnedLogisticModel(manifest["features"], manifest)
