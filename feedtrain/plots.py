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
    """Recent partitions' figures (e.g. row counts and positive rate), drawn inline on the asset page: each series
    scaled to its own range (named in the caption), days left to right. An SVG, not a PNG: a label day is written in
    ~0.1 s, and a matplotlib chart per day would cost more than the day (bench/RESULTS.md)."""
    x = np.linspace(0, 1, len(days)) if len(days) > 1 else np.array([0.5])
    curves = {}
    for name, values in series.items():
        v = np.array([np.nan if a is None else a for a in values], dtype=float)
        low, high = np.nanmin(v), np.nanmax(v)
        y = (v - low) / (high - low) if high > low else np.full_like(v, 0.5)
        curves[f"{name} {_short(low)}..{_short(high)}"] = (x, np.nan_to_num(y, nan=0.0))
    first, last = (str(days[0]), str(days[-1])) if days else ("", "")
    return inline_lines(curves, f"{title}, {first}..{last}")


def _short(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


INLINE_LIMIT = 1000  # the UI shows a Markdown metadata value inline below 1,000 characters, else behind a link
INLINE_COLORS = ("blue", "red", "gray", "green")


def inline_lines(curves: dict[str, tuple[np.ndarray, np.ndarray]], caption: str) -> dg.MetadataValue:
    """A small SVG line chart (x and y in [0, 1], ~11 points per curve) as Markdown short enough to show inline on the
    asset page, with a caption naming each curve's colour. The detailed PNG stays in its own metadata entry."""
    lines, legend = [], []
    for (name, (x, y)), color in zip(curves.items(), INLINE_COLORS):
        points = " ".join(f"{round(100 * a)},{round(100 - 100 * b)}" for a, b in zip(x, y))
        lines.append(f"<polyline fill='none' stroke='{color}' points='{points}'/>")
        legend.append(f"{color}: {name}")
    svg = ("<svg xmlns='http://www.w3.org/2000/svg' viewBox='-1 -1 102 102' width='150' height='150'>"
           "<rect width='100' height='100' fill='none' stroke='silver'/>" + "".join(lines) + "</svg>")
    md = f"![{caption}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}) {caption} ({', '.join(legend)})"
    return dg.MetadataValue.md(md if len(md) < INLINE_LIMIT else caption + " (too many curves to draw inline)")


def roc_inline(y: np.ndarray, scores: dict[str, np.ndarray | None]) -> dg.MetadataValue:
    """ROC curves sampled at 11 false-positive rates, drawn inline (see ``inline_lines``)."""
    grid = np.linspace(0, 1, 11)
    curves = {}
    for name, s in scores.items():
        if s is not None and len(np.unique(y)) == 2:
            from sklearn.metrics import roc_curve

            fpr, tpr, _ = roc_curve(y, s)
            curves[name] = (grid, np.interp(grid, fpr, tpr))
    return inline_lines(curves, "ROC (x: false positive rate, y: true positive rate)")
