"""Plotly figures for the dashboard: pure functions from data to a go.Figure (no Streamlit, no I/O).

A task keeps one colour on every chart (task_colors, colour-blind-safe, in task order). Figures set no template,
background or text colour, so Streamlit's theme styles them in light and dark mode. Inputs are never changed; empty,
NaN, one-point, one-class or missing data gives a figure with a note above the plot instead of an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score, roc_curve

from mtlrec.config import TaskSpec
from mtlrec.errors import MtlrecError
from mtlrec.schema import binary_labels

# Okabe & Ito's palette without black (invisible on a dark theme); yellow last, it is faint on a light theme.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
NEUTRAL = "rgba(128, 128, 128, 0.85)"  # reference lines (chance, y = x, fused score): visible on light and dark
MAX_POINTS = 5_000  # scatter plots show at most this many points (a fixed-seed sample)
PROBABILITY_BINS = np.linspace(0.0, 1.0, 41)
_METRIC_WORDS = {"auc": "AUC", "gauc": "GAUC", "rmse": "RMSE", "mae": "MAE", "logloss": "log loss",
                 "mean_pred": "mean prediction", "pos_rate": "positive rate", "loss": "loss"}  # fmt: skip
_HIGHER_IS_BETTER = {"auc", "gauc", "ndcg", "recall", "hitrate"}
_LOWER_IS_BETTER = {"rmse", "mae", "logloss", "loss"}

Task = TaskSpec | str


def _name(task: Task) -> str:
    return str(getattr(task, "name", task))


def _is_binary(task: Task) -> bool:
    return getattr(task, "type", "binary") == "binary"


def task_colors(tasks: Sequence[Task]) -> dict[str, str]:
    """Task name -> colour, from a fixed colour-blind-safe palette in task order (repeats after 7 tasks)."""
    return {_name(t): PALETTE[i % len(PALETTE)] for i, t in enumerate(tasks)}


def _words(column: str) -> str:
    """'val_auc' -> 'validation AUC', 'click/val_auc' -> 'click validation AUC': column names for people."""
    head, _, part = column.rpartition("/")
    split = "validation" if part.startswith("val_") else "train" if part.startswith("train_") else ""
    key = part.removeprefix("val_").removeprefix("train_")
    return " ".join(w for w in (head, split, _METRIC_WORDS.get(key, key.replace("_", " "))) if w)


def _layout(
    fig: go.Figure, title: str, x: str | None, y: str | None, legend: str | None = None, notes: Sequence[str] = ()
) -> go.Figure:
    """The shared look: title top left, notes under it, legend (titled) on the right, every axis titled."""
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", xref="paper", y=1, yref="container", yanchor="top", pad_t=12),
        margin=dict(l=10, r=10, t=60 + 18 * len(notes), b=10),
        legend=dict(title_text=legend, yanchor="top", y=1, xanchor="left", x=1.02),
        showlegend=legend is not None,
    )
    if x is not None:
        fig.update_xaxes(title_text=x, automargin=True)
    if y is not None:
        fig.update_yaxes(title_text=y, automargin=True)
    if notes:
        fig.add_annotation(
            text="<br>".join(notes), x=0, y=1, xref="paper", yref="paper", xanchor="left", yanchor="bottom",
            yshift=4, align="left", showarrow=False, font_size=12, name="notes",
        )  # fmt: skip
    return fig


def _frame(data: pd.DataFrame | Sequence[Mapping] | None) -> pd.DataFrame:
    if data is None:
        return pd.DataFrame()
    if isinstance(data, pd.DataFrame):
        return data
    return pd.DataFrame(list(data))


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float64 with NaN for missing or non-numeric values (a fresh array, safe to modify)."""
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan).copy()


def _xy(frame: pd.DataFrame, x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    """Two columns as float arrays, rows with a missing value in either dropped."""
    xs, ys = _numbers(frame, x), _numbers(frame, y)
    keep = np.isfinite(xs) & np.isfinite(ys)
    return xs[keep], ys[keep]


def _labels(frame: pd.DataFrame, task: Task) -> tuple[np.ndarray | None, str | None]:
    """A task's labels as floats (binary coded 0/1, NaN where missing), or None and the reason."""
    name = _name(task)
    if name not in frame.columns:
        return None, f"{name}: no column '{name}', skipped"
    if not _is_binary(task):
        return _numbers(frame, name), None
    if frame[name].notna().sum() == 0:
        return None, f"{name}: no labels, skipped"
    try:
        return binary_labels(frame[name]).astype(float), None
    except (MtlrecError, TypeError, ValueError):
        return None, f"{name}: not a 0/1 label, skipped"


def _scored(predictions: pd.DataFrame, task: Task) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Labels and predictions of a task's test rows (both present), or empty arrays and the reason."""
    name, pred = _name(task), f"{_name(task)}_pred"
    empty = np.empty(0)
    if pred not in predictions.columns:
        return empty, empty, f"{name}: no column '{pred}', skipped"
    labels, why = _labels(predictions, task)
    if labels is None:
        return empty, empty, why
    scores = _numbers(predictions, pred)
    keep = np.isfinite(labels) & np.isfinite(scores)
    if not keep.any():
        return empty, empty, f"{name}: no rows with both a label and a prediction, skipped"
    return labels[keep], scores[keep], None


def _log_if_spread(values: list[np.ndarray]) -> bool:
    """True when positive values span more than two decades (a log axis then reads better)."""
    joined = np.concatenate([np.asarray(v, dtype=float) for v in values]) if values else np.empty(0)
    joined = joined[np.isfinite(joined)]
    return joined.size > 1 and bool((joined > 0).all()) and joined.max() / joined.min() > 100


def label_rates(frame: pd.DataFrame, tasks: Sequence[TaskSpec]) -> go.Figure:
    """Bars per task: the positive rate of a binary label, the share of non-zero values of a regression label
    (its mean in the hover)."""
    colors, notes, fig = task_colors(tasks), [], go.Figure()
    for task in tasks:
        name = _name(task)
        values, why = _labels(frame, task)
        values = values[np.isfinite(values)] if values is not None else None
        if values is None or values.size == 0:
            notes.append(why or f"{name}: no labels, skipped")
            continue
        rate = float((values != 0).mean())
        if _is_binary(task):
            extra, hover = [int(values.sum()), values.size], "positive rate %{y:.2%}<br>%{customdata[0]:,} of "
        else:
            extra, hover = [float(values.mean()), values.size], "non-zero %{y:.2%}<br>mean %{customdata[0]:,.4g}, "
        fig.add_bar(
            x=[name], y=[rate], name=name, marker_color=colors[name], customdata=[extra],
            texttemplate="%{y:.1%}", textposition="outside", cliponaxis=False,
            hovertemplate=f"<b>{name}</b><br>{hover}%{{customdata[1]:,}} rows<extra></extra>",
        )  # fmt: skip
    heights = [bar.y[0] for bar in fig.data]
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(tickformat=".0%", range=[0, min(1.0, max(heights, default=1.0)) * 1.15 or 1.0])
    return _layout(fig, "Label rates", "task", "positive rate (binary) · share non-zero (regression)", notes=notes)


def label_correlation(frame: pd.DataFrame, tasks: Sequence[TaskSpec]) -> go.Figure:
    """Heatmap of the Pearson correlation between label columns (binary coded 0/1), colour scale fixed to [-1, 1]."""
    columns, notes = {}, []
    for task in tasks:
        values, why = _labels(frame, task)
        if values is None:
            notes.append(why)
        else:
            columns[_name(task)] = values
    fig = go.Figure()
    if columns:
        corr = pd.DataFrame(columns).corr(method="pearson")
        z = corr.to_numpy()
        text = [[f"{v:.2f}" if math.isfinite(v) else "–" for v in row] for row in z]
        names = list(corr.columns)
        fig.add_heatmap(
            z=z, x=names, y=names, text=text, texttemplate="%{text}", zmin=-1, zmax=1, colorscale="RdBu",
            colorbar=dict(title=dict(text="Pearson r")), hovertemplate="%{y} × %{x}<br>r = %{z:.3f}<extra></extra>",
        )  # fmt: skip
        if not np.isfinite(z).all():
            notes.append("– : undefined (a constant label or too few rows)")
    else:
        notes.append("no label columns to correlate")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Correlation between labels", "label", "label", notes=notes)


def cardinalities(frame: pd.DataFrame, columns: Sequence[str]) -> go.Figure:
    """Horizontal bars: distinct values per column, log x axis."""
    present = [c for c in columns if c in frame.columns]
    notes = [f"{c}: no such column, skipped" for c in columns if c not in frame.columns]
    counts = [int(frame[c].nunique(dropna=True)) for c in present]
    fig = go.Figure()
    if present:
        fig.add_bar(
            x=counts, y=present, orientation="h", texttemplate="%{x:,}", textposition="auto", name="distinct values",
            hovertemplate="%{y}: %{x:,} distinct values<extra></extra>",
        )  # fmt: skip
    else:
        notes.append("no columns to show")
    fig.update_xaxes(type="log")
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, "Distinct values per column", "distinct values (log scale)", "column", notes=notes)


def interactions_histogram(frame: pd.DataFrame, column: str, noun: str) -> go.Figure:
    """How many `noun`s (users, items) have n rows each; log axes when the counts span decades; median in title."""
    fig, notes, plural = go.Figure(), [], f"{noun}s"
    per = frame[column].value_counts(dropna=True) if column in frame.columns else pd.Series(dtype="int64")
    if column not in frame.columns:
        notes.append(f"no column '{column}'")
    elif per.empty:
        notes.append(f"no {plural}")
    distribution = per.value_counts().sort_index()  # n rows -> how many nouns have n rows
    n_rows, n_nouns = distribution.index.to_numpy(dtype=float), distribution.to_numpy(dtype=float)
    log_x = n_rows.size > 0 and n_rows.max() > 100
    hover = f"%{{y:,}} {plural} with %{{x:,}} interactions each<extra></extra>"
    if log_x:
        fig.add_scatter(x=n_rows, y=n_nouns, mode="markers", name=plural, hovertemplate=hover)
    elif n_rows.size:
        fig.add_bar(x=n_rows, y=n_nouns, name=plural, hovertemplate=hover)
    fig.update_xaxes(type="log" if log_x else "linear")
    fig.update_yaxes(type="log" if _log_if_spread([n_nouns]) else "linear")
    title = f"Interactions per {noun}"
    if not per.empty:
        title += f": median {per.median():,.4g} ({len(per):,} {plural})"
    x_title = f"interactions per {noun}" + (" (log scale)" if log_x else "")
    return _layout(fig, title, x_title, f"number of {plural}", notes=notes)


def _epoch_line(
    fig: go.Figure, frame: pd.DataFrame, x: str, column: str, name: str, color: str, label: str, dash: str, word: str
) -> np.ndarray | None:
    """Add one task's line of `column` by epoch (nothing when missing or empty); returns its y values."""
    if x not in frame.columns or column not in frame.columns:
        return None
    xs, ys = _xy(frame, x, column)
    if xs.size == 0:
        return None
    fig.add_scatter(
        x=xs, y=ys, mode="lines" if xs.size > 50 else "lines+markers", name=f"{name} {label}", legendgroup=name,
        line=dict(color=color, dash=dash),
        hovertemplate=f"{name} {label}<br>epoch %{{x:.2f}}<br>{word} %{{y:.4f}}<extra></extra>",
    )  # fmt: skip
    return ys


def live_losses(
    live: Sequence[Mapping] | None, history: Sequence[Mapping] | pd.DataFrame | None, tasks: Sequence[TaskSpec]
) -> go.Figure:
    """Per-task train loss while training (`live`: {"step": fractional epoch, task: loss}) and validation loss per
    epoch (`history`: history.csv rows)."""
    live_frame, history_frame = _frame(live), _frame(history)
    colors, fig, drawn = task_colors(tasks), go.Figure(), []
    for task in tasks:
        name = _name(task)
        for ys in (
            _epoch_line(fig, live_frame, "step", name, name, colors[name], "train", "solid", "loss"),
            _epoch_line(
                fig, history_frame, "epoch", f"{name}/val_loss", name, colors[name], "validation", "dash", "loss"
            ),
        ):
            if ys is not None:
                drawn.append(ys)
    notes = [] if drawn else ["no losses yet: they appear after the first batches"]
    fig.update_yaxes(type="log" if _log_if_spread(drawn) else "linear")
    return _layout(fig, "Loss while training", "epoch", "loss", legend="task", notes=notes)


def learning_curves(history: pd.DataFrame | None, tasks: Sequence[TaskSpec], what: str = "loss") -> go.Figure:
    """Per task, train (solid) and validation (dashed) `what` by epoch, from history.csv columns."""
    frame, colors, fig, drawn, notes = _frame(history), task_colors(tasks), go.Figure(), [], []
    word = _METRIC_WORDS.get(what, what.replace("_", " "))
    for task in tasks:
        name = _name(task)
        found = [
            _epoch_line(fig, frame, "epoch", f"{name}/{split}_{what}", name, colors[name], label, dash, word)
            for split, label, dash in (("train", "train", "solid"), ("val", "validation", "dash"))
        ]
        found = [ys for ys in found if ys is not None]
        drawn += found
        if not found:
            notes.append(f"{name}: no {word} recorded")
    if what == "loss":
        fig.update_yaxes(type="log" if _log_if_spread(drawn) else "linear")
    return _layout(fig, f"{word[0].upper()}{word[1:]} by epoch", "epoch", word, legend="task", notes=notes)


def metric_curves(history: pd.DataFrame | None, tasks: Sequence[TaskSpec]) -> go.Figure:
    """Validation AUC (binary tasks) and RMSE (regression tasks) per epoch, one subplot per metric, sharing x."""
    frame, colors, notes = _frame(history), task_colors(tasks), []
    kinds = [
        (metric, [t for t in tasks if _is_binary(t) == binary])
        for metric, binary in (("auc", True), ("rmse", False))
        if any(_is_binary(t) == binary for t in tasks)
    ]
    fig = make_subplots(rows=max(len(kinds), 1), cols=1, shared_xaxes=True, vertical_spacing=0.08)
    for row, (metric, members) in enumerate(kinds, start=1):
        for task in members:
            name, column = _name(task), f"{_name(task)}/val_{metric}"
            if column not in frame.columns or "epoch" not in frame.columns:
                notes.append(f"{name}: no validation {_METRIC_WORDS[metric]} recorded")
                continue
            xs, ys = _xy(frame, "epoch", column)
            fig.add_scatter(
                x=xs, y=ys, mode="lines+markers", name=name, line_color=colors[name], row=row, col=1,
                hovertemplate=f"{name}<br>epoch %{{x}}<br>{_METRIC_WORDS[metric]} %{{y:.4f}}<extra></extra>",
            )  # fmt: skip
        fig.update_yaxes(title_text=f"validation {_METRIC_WORDS[metric]}", row=row, col=1)
    if not kinds:
        notes.append("no tasks")
        fig.update_yaxes(title_text="validation metric")
    fig.update_xaxes(title_text="epoch", row=max(len(kinds), 1), col=1)
    return _layout(fig, "Validation metrics by epoch", None, None, legend="task", notes=notes)


def roc_curves(predictions: pd.DataFrame, tasks: Sequence[TaskSpec]) -> go.Figure:
    """One ROC curve per binary task on the test rows, AUC in the legend; regression tasks are left out."""
    colors, notes, fig = task_colors(tasks), [], go.Figure()
    fig.add_scatter(
        x=[0, 1], y=[0, 1], mode="lines", name="chance (AUC 0.5)", line=dict(color=NEUTRAL, dash="dash"),
        hoverinfo="skip",
    )  # fmt: skip
    for task in tasks:
        if not _is_binary(task):
            continue
        name = _name(task)
        labels, scores, why = _scored(predictions, task)
        if why is None and np.unique(labels).size < 2:
            why = f"{name}: ROC undefined, the test labels hold only one class"
        if why:
            notes.append(why)
            continue
        fpr, tpr, _ = roc_curve(labels, scores)
        auc = roc_auc_score(labels, scores)
        fig.add_scatter(
            x=fpr, y=tpr, mode="lines", name=f"{name} (AUC {auc:.4f})", line_color=colors[name],
            hovertemplate=f"{name}<br>false positive rate %{{x:.3f}}<br>true positive rate %{{y:.3f}}<extra></extra>",
        )  # fmt: skip
    fig.update_xaxes(range=[0, 1], constrain="domain")
    fig.update_yaxes(range=[0, 1.02])
    return _layout(fig, "ROC curves (test set)", "false positive rate", "true positive rate", "task", notes)


def calibration(predictions: pd.DataFrame, tasks: Sequence[TaskSpec], n_bins: int = 10) -> go.Figure:
    """Reliability diagram per binary task: observed positive rate against mean predicted probability in quantile
    bins; the diagonal is perfect calibration."""
    colors, notes, fig, top = task_colors(tasks), [], go.Figure(), 0.0
    for task in tasks:
        if not _is_binary(task):
            continue
        name = _name(task)
        labels, scores, why = _scored(predictions, task)
        if why is None and ((scores < 0) | (scores > 1)).any():
            why = f"{name}: predictions outside [0, 1], skipped"
        if why is None:
            observed, predicted = calibration_curve(labels, scores, n_bins=n_bins, strategy="quantile")
            top = max(top, float(observed.max(initial=0)), float(predicted.max(initial=0)))
            fig.add_scatter(
                x=predicted, y=observed, mode="lines+markers", name=name, line_color=colors[name],
                hovertemplate=f"{name}<br>mean predicted %{{x:.4f}}<br>observed rate %{{y:.4f}}<extra></extra>",
            )  # fmt: skip
        else:
            notes.append(why)
    top = min(1.0, top * 1.05) or 1.0  # sparse labels sit near 0: the diagonal spans the data, not [0, 1]
    fig.add_scatter(
        x=[0, top], y=[0, top], mode="lines", name="perfect calibration", line=dict(color=NEUTRAL, dash="dash"),
        hoverinfo="skip",
    )  # fmt: skip
    title = f"Calibration (test set, {n_bins} quantile bins)"
    return _layout(fig, title, "mean predicted probability", "observed positive rate", "task", notes)


def predicted_vs_actual(
    predictions: pd.DataFrame, task: Task, log: bool | None = None, color: str | None = None
) -> go.Figure:
    """Scatter of predicted against actual values of a regression task (a fixed-seed sample of at most 5,000 rows)
    with the line y = x; log=None uses log1p axes when values are >= 0 and skewed (skew > 2)."""
    name, fig = _name(task), go.Figure()
    labels, scores, why = _scored(predictions, task)
    notes = [why] if why else []
    total = labels.size
    if total > MAX_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(total, MAX_POINTS, replace=False))
        labels, scores = labels[keep], scores[keep]
    lowest = min(labels.min(initial=0.0), scores.min(initial=0.0))
    if log is None:
        log = total > 2 and lowest >= 0 and float(pd.Series(labels).skew()) > 2
    elif log and lowest <= -1:
        notes.append("values below -1: log1p axes impossible, linear axes shown")
        log = False
    transform = np.log1p if log else np.asarray
    xs, ys = transform(labels), transform(scores)
    if total:
        fig.add_scatter(
            x=xs, y=ys, mode="markers", name=name, customdata=np.column_stack([labels, scores]),
            marker=dict(color=color or PALETTE[0], size=5, opacity=0.35),
            hovertemplate="actual %{customdata[0]:,.4g}<br>predicted %{customdata[1]:,.4g}<extra></extra>",
        )  # fmt: skip
        low, high = float(min(xs.min(), ys.min())), float(max(xs.max(), ys.max()))
        fig.add_scatter(
            x=[low, high], y=[low, high], mode="lines", name="y = x (perfect)", line=dict(color=NEUTRAL, dash="dash"),
            hoverinfo="skip",
        )  # fmt: skip
    title = f"{name}: predicted vs actual (test set"
    title += f", {MAX_POINTS:,} of {total:,} rows shown)" if total > MAX_POINTS else ")"
    axis = "log1p({} {})" if log else "{} {}"
    return _layout(fig, title, axis.format("actual", name), axis.format("predicted", name), None, notes)


def prediction_distribution(predictions: pd.DataFrame, tasks: Sequence[TaskSpec]) -> go.Figure:
    """Overlaid density histograms of the predicted probabilities of binary tasks on [0, 1] (40 bins); regression
    tasks are left out (see predicted_vs_actual)."""
    colors, notes, fig = task_colors(tasks), [], go.Figure()
    edges = PROBABILITY_BINS
    for task in tasks:
        if not _is_binary(task):
            continue
        name, column = _name(task), f"{_name(task)}_pred"
        if column not in predictions.columns:
            notes.append(f"{name}: no column '{column}', skipped")
            continue
        scores = _numbers(predictions, column)
        scores = scores[np.isfinite(scores)]
        outside = int(((scores < 0) | (scores > 1)).sum())
        if outside:
            notes.append(f"{name}: {outside:,} predictions outside [0, 1] left out")
            scores = scores[(scores >= 0) & (scores <= 1)]
        if scores.size == 0:
            notes.append(f"{name}: no predictions")
            continue
        counts, _ = np.histogram(scores, bins=edges)
        density = counts / (scores.size * np.diff(edges))
        fig.add_bar(
            x=(edges[:-1] + edges[1:]) / 2, y=density, width=np.diff(edges), name=name, marker_color=colors[name],
            opacity=0.55, customdata=np.column_stack([edges[:-1], edges[1:], counts]),
            hovertemplate=f"{name}<br>%{{customdata[0]:.3f}}–%{{customdata[1]:.3f}}<br>density %{{y:.3f}}"
            "<br>%{customdata[2]:,} rows<extra></extra>",
        )  # fmt: skip
    if not fig.data and not notes:
        notes.append("no binary tasks: regression predictions are in the predicted-vs-actual charts")
    fig.update_layout(barmode="overlay", bargap=0)
    fig.update_xaxes(range=[0, 1])
    title = "Distribution of predicted probabilities (test set)"
    return _layout(fig, title, "predicted probability", "density", "task", notes)


def recommendation_bars(top: pd.DataFrame, tasks: Sequence[TaskSpec]) -> go.Figure:
    """Grouped bars of each task's score per recommended item (in rank order), the fused score as a line on a
    second axis when `top` has a "fused" column."""
    colors, notes = task_colors(tasks), []
    frame = top.sort_values("rank", kind="stable") if "rank" in top.columns else top
    items = (frame["item"] if "item" in frame.columns else frame.index.to_series()).astype(str).tolist()
    ranks = frame["rank"].tolist() if "rank" in frame.columns else list(range(1, len(frame) + 1))
    fused = "fused" in frame.columns
    fig = make_subplots(specs=[[{"secondary_y": True}]]) if fused else go.Figure()
    for task in tasks:
        name = _name(task)
        if name not in frame.columns:
            notes.append(f"{name}: no score, skipped")
            continue
        value = f"{name}_value"
        extra = _numbers(frame, value) if value in frame.columns else np.full(len(frame), np.nan)
        hover = "probability %{y:.4f}" if _is_binary(task) else "standardised %{y:.3f}"
        hover += "" if _is_binary(task) or value not in frame.columns else "<br>predicted %{customdata[1]:,.4g}"
        fig.add_bar(
            x=items, y=_numbers(frame, name), name=name, marker_color=colors[name],
            customdata=np.column_stack([ranks, extra]),
            hovertemplate=f"#%{{customdata[0]}} %{{x}}<br>{name} {hover}<extra></extra>",
        )  # fmt: skip
    if fused:
        fig.add_scatter(
            x=items, y=_numbers(frame, "fused"), mode="lines+markers", name="fused score", secondary_y=True,
            line=dict(color=NEUTRAL, dash="dot"), marker_size=9, customdata=ranks,
            hovertemplate="#%{customdata} %{x}<br>fused %{y:.4f}<extra></extra>",
        )  # fmt: skip
        fig.update_yaxes(title_text="fused score", secondary_y=True, showgrid=False, tickformat=".2f")
    if frame.empty:
        notes.append("no recommendations")
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=items)
    title = f"Top {len(frame):,} recommendations: score per task"
    y_title = "score (probability; regression standardised)"
    fig = _layout(fig, title, "item (rank order)", None, "score", notes)
    fig.update_yaxes(title_text=y_title, **({"secondary_y": False} if fused else {}))
    return fig


def _direction(metric: str) -> str:
    base = metric.split("@")[0].lower()
    return " ↑" if base in _HIGHER_IS_BETTER else " ↓" if base in _LOWER_IS_BETTER else ""


def compare_metrics(
    runs: Mapping[str, Mapping[str, Mapping[str, float]]], metric_by_task: Mapping[str, str]
) -> go.Figure:
    """One subplot per task with its chosen metric, one bar per run (values as text); ↑/↓ says which way is better.
    Colours follow the order of `metric_by_task`, so pass tasks in the run's task order."""
    tasks, labels, notes = list(metric_by_task), list(runs), []
    colors = task_colors(tasks)
    cols = max(1, min(len(tasks), 3))
    rows = max(1, math.ceil(len(tasks) / cols))
    titles = [f"{t} · {_METRIC_WORDS.get(m, m)}{_direction(m)}" for t, m in metric_by_task.items()]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles or None, vertical_spacing=0.2)
    for i, (task, metric) in enumerate(metric_by_task.items()):
        values = []
        for label in labels:
            value = (runs[label] or {}).get(task, {}).get(metric)
            values.append(float(value) if isinstance(value, int | float) and math.isfinite(value) else None)
        if all(v is None for v in values):
            notes.append(f"{task}: no run has {metric}")
        row, col = i // cols + 1, i % cols + 1
        fig.add_bar(
            x=labels, y=values, name=task, marker_color=colors[task], texttemplate="%{y:.4f}", textposition="auto",
            hovertemplate=f"%{{x}}<br>{task} {metric} %{{y:.4f}}<extra></extra>", row=row, col=col,
        )  # fmt: skip
        fig.update_yaxes(title_text=_METRIC_WORDS.get(metric, metric), row=row, col=col)
    if not labels:
        notes.append("no runs to compare")
    if not tasks:
        notes.append("no metrics chosen")
        fig.update_yaxes(title_text="metric")
    fig.update_xaxes(type="category")
    fig = _layout(fig, "Test metrics per run", "run", None, notes=notes)
    fig.update_layout(margin_t=80 + 18 * len(notes), height=None if rows == 1 else 60 + 300 * rows)
    fig.update_annotations(yshift=24, selector=dict(name="notes"))
    return fig


def overlay_curves(histories: Mapping[str, pd.DataFrame], task: Task, column: str) -> go.Figure:
    """One line per run of history[f"{task}/{column}"] by epoch (e.g. column "val_auc")."""
    name, notes, fig = _name(task), [], go.Figure()
    key, word = f"{_name(task)}/{column}", _words(column)
    for label, history in histories.items():
        frame = _frame(history)
        if key not in frame.columns or "epoch" not in frame.columns:
            notes.append(f"{label}: no {word} for {name}")
            continue
        xs, ys = _xy(frame, "epoch", key)
        fig.add_scatter(
            x=xs, y=ys, mode="lines+markers", name=label,
            hovertemplate=f"{label}<br>epoch %{{x}}<br>{word} %{{y:.4f}}<extra></extra>",
        )  # fmt: skip
    if not histories:
        notes.append("no runs")
    return _layout(fig, f"{name}: {word} by epoch", "epoch", word, "run", notes)


def parallel_weights(table: pd.DataFrame, weight_columns: Sequence[str], metric_columns: Sequence[str]) -> go.Figure:
    """Parallel coordinates from loss weights to metrics, one line per run (table row), coloured by the first
    metric column; runs with a missing value are left out."""
    wanted = list(dict.fromkeys([*weight_columns, *metric_columns]))
    present = [c for c in wanted if c in table.columns]
    notes = [f"{c}: no such column, skipped" for c in wanted if c not in table.columns]
    data = pd.DataFrame({c: _numbers(table, c) for c in present}, index=table.index)
    complete = data.dropna()
    if len(complete) < len(data):
        left_out = len(data) - len(complete)
        notes.append(f"{left_out:,} run{'s' if left_out != 1 else ''} with a missing value left out")
    fig = go.Figure()
    colour_by = next((c for c in metric_columns if c in present), None)
    if present and len(complete):
        line = dict(color=PALETTE[0])
        if colour_by:
            colorbar = dict(title=dict(text=_words(colour_by)))
            line = dict(color=complete[colour_by].to_numpy(), colorscale="Viridis", showscale=True, colorbar=colorbar)
        dimensions = [dict(label=_words(c), values=complete[c].to_numpy()) for c in present]
        fig.add_parcoords(line=line, dimensions=dimensions, labelangle=0 if len(present) <= 6 else -20)
    else:
        notes.append("no runs to show")
    fig = _layout(fig, "Loss weights → metrics (one line per run)", None, None, notes=notes)
    fig.update_layout(margin=dict(l=60, r=60, t=110 + 18 * len(notes), b=30))
    fig.update_annotations(yshift=36, selector=dict(name="notes"))  # above the dimension labels
    return fig
