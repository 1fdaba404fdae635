"""Small PNG charts embedded in materialisation metadata (Markdown with an inline data: image renders in the UI)."""

from __future__ import annotations

import base64
import io

import dagster as dg
import numpy as np


def _plt():
    """matplotlib, imported on the first chart: importing it (and sklearn) costs every process that loads the
    definitions seconds, and most never draw (bench/RESULTS.md, start-up)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _markdown(fig, title: str) -> dg.MetadataValue:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    _plt().close(fig)
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})")


def roc(y: np.ndarray, scores: dict[str, np.ndarray], title: str) -> dg.MetadataValue:
    """ROC curves of several scorers on the same labels."""
    fig, ax = _plt().subplots(figsize=(4.5, 4))
    for name, s in scores.items():
        if s is not None and len(np.unique(y)) == 2:
            from sklearn.metrics import roc_curve

            fpr, tpr, _ = roc_curve(y, s)
            ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.legend(loc="lower right", fontsize=8)
    return _markdown(fig, title)


def calibration(y: np.ndarray, probabilities: dict[str, np.ndarray], title: str, bins: int = 10) -> dg.MetadataValue:
    """Mean predicted vs observed positive rate per quantile bin of the prediction."""
    fig, ax = _plt().subplots(figsize=(4.5, 4))
    top = 0.0
    for name, p in probabilities.items():
        if p is None:
            continue
        edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
        idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
        counts = np.bincount(idx, minlength=len(edges) - 1)
        ok = counts > 0
        mean_p = np.bincount(idx, weights=p, minlength=len(edges) - 1)[ok] / counts[ok]
        rate = np.bincount(idx, weights=y, minlength=len(edges) - 1)[ok] / counts[ok]
        ax.plot(mean_p, rate, "o-", ms=3, label=name)
        top = max(top, mean_p.max(), rate.max())
    ax.plot([0, top], [0, top], "k:", lw=0.8)
    ax.set(xlabel="mean predicted probability", ylabel="observed positive rate", title=title)
    ax.legend(loc="upper left", fontsize=8)
    return _markdown(fig, title)


def bars(labels: list[str], values: list[float], title: str) -> dg.MetadataValue:
    order = np.argsort(values)
    fig, ax = _plt().subplots(figsize=(5, 0.3 * len(labels) + 1))
    ax.barh(np.array(labels)[order], np.array(values)[order])
    ax.set(title=title)
    return _markdown(fig, title)


def history(days: list, series: dict[str, list[float]], title: str) -> dg.MetadataValue:
    """One small panel per series over days (e.g. row counts and positive rate of recent partitions)."""
    fig, axes = _plt().subplots(len(series), 1, figsize=(6, 1.8 * len(series)), sharex=True, squeeze=False)
    for ax, (name, values) in zip(axes[:, 0], series.items()):
        ax.plot(days, values, "o-", ms=3)
        ax.set_ylabel(name, fontsize=8)
    axes[0, 0].set_title(title)
    fig.autofmt_xdate()
    return _markdown(fig, title)
