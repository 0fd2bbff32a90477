"""Plotly figures for the dashboard: pure functions from data to a go.Figure (no Streamlit, no I/O).

A task keeps one colour on every chart (task_colors, colour-blind-safe, in task order). Figures set no template,
background or text colour, so Streamlit's theme styles them in light and dark mode. Inputs are never changed; empty,
NaN, one-point, one-class or missing data gives a figure with a note above the plot instead of an error.
"""

from __future__ import annotations

import math
import os
import re
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score, roc_curve

from mtlrec import fmt
from mtlrec.config import PREDICTION_COLUMNS, RecommendColumns, TaskSpec, chain_label, chance_name
from mtlrec.errors import MtlrecError
from mtlrec.gain import NOISE, UNTRAINED
from mtlrec.resources import PARTS
from mtlrec.schema import binary_labels

# Okabe & Ito's colour-blind-safe palette without black (invisible on a dark theme), yellow last of them (faint on
# a light theme); then Paul Tol's muted colours for files with more than 7 tasks.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#882255", "#44AA99", "#999933", "#AA4499", "#117733")  # fmt: skip
NEUTRAL = "rgba(128, 128, 128, 0.85)"  # reference lines (chance, y = x, fused score): visible on light and dark
# What is not a task (task pairs, parameter groups, sweep points and references) is drawn in greys, told apart by
# shade, dash and marker symbol: a colour of PALETTE always means one task, on every chart. Mid greys: readable on
# light and dark themes.
GREYS = ("#6E6E6E", "#A6A6A6", "#8A8A8A", "#C2C2C2", "#575757", "#B4B4B4")
GREY_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
GREY_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")
PART_COLORS = {"embeddings": "#C4C4C4", "shared layers": "#8C8C8C", "task-specific": "#5A5A5A"}
FRONT = "#5A5A5A"  # the Pareto front's points and line (dominated points: NEUTRAL, open)
MAX_POINTS = 5_000  # scatter plots show at most this many points (a fixed-seed sample)
PROBABILITY_BINS = np.linspace(0.0, 1.0, 41)
_METRIC_WORDS = {"auc": "AUC", "gauc": "GAUC", "rmse": "RMSE", "mae": "MAE", "logloss": "log loss",
                 "mean_pred": "mean prediction", "pos_rate": "positive rate", "loss": "loss"}  # fmt: skip
_HIGHER_IS_BETTER = {"auc", "gauc", "ndcg", "recall", "hitrate"}
_LOWER_IS_BETTER = {"rmse", "mae", "logloss", "loss"}

Task = TaskSpec | str


def _name(task: Task) -> str:
    return str(getattr(task, "name", task))


def _prediction_column(predictions: pd.DataFrame, name: str) -> str:
    """A task's prediction column: as the table's attrs map it (a run's predictions), else `<task>_pred`."""
    return predictions.attrs.get(PREDICTION_COLUMNS, {}).get(name, f"{name}_pred")


def _is_binary(task: Task) -> bool:
    return getattr(task, "type", "binary") == "binary"


def task_colors(tasks: Sequence[Task]) -> dict[str, str]:
    """Task name -> colour, from a fixed palette in task order (12 colours, then they repeat); the charts of a run
    take the colours of all its tasks, so a task keeps one colour on every chart, binary-only ones too."""
    return {_name(t): PALETTE[i % len(PALETTE)] for i, t in enumerate(tasks)}


def _faded(color: str, alpha: float) -> str:
    """A '#rrggbb' colour as rgba() at `alpha`."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def text_on(color: str) -> str:
    """Black or white, whichever reads better on a '#rrggbb' fill (WCAG's relative luminance; white on the palette's
    orange and yellow was about 2:1)."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "black" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "white"


def words(column: str) -> str:
    """'val_auc' -> 'validation AUC', 'click/val_auc' -> 'click validation AUC': column names for people."""
    head, _, part = column.rpartition("/")
    split = "validation" if part.startswith("val_") else "train" if part.startswith("train_") else ""
    key = part.removeprefix("val_").removeprefix("train_")
    return " ".join(w for w in (head, split, _METRIC_WORDS.get(key, key.replace("_", " "))) if w)


NOTE_WIDTH = 110  # characters of a chart's note per line: longer ones ran off a half-page chart ("…hover f")


_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")  # a tag, not "p < 0.05 … x > 1", whose text is no tag


def _wrapped(note: str, width: int = NOTE_WIDTH) -> str:
    """A note broken into lines of at most `width` visible characters at spaces (Plotly does not wrap text): its
    own <br> kept, never a break inside a tag (<span style='color: red'>), tags not counted."""
    lines = []
    for part in re.split(r"<br\s*/?>", note, flags=re.IGNORECASE):
        # the spaces between words, not those inside a tag (held apart as NUL while splitting)
        held = _TAG.sub(lambda tag: tag.group().replace(" ", "\0"), part)
        words = [w.replace("\0", " ") for w in held.split(" ") if w]
        line, seen = [], 0
        for word in words:
            size = len(_TAG.sub("", word))
            if line and seen + 1 + size > width:
                lines.append(" ".join(line))
                line, seen = [], 0
            seen += size + (1 if line else 0)
            line.append(word)
        lines.append(" ".join(line))
    return "<br>".join(lines)


def _layout(
    fig: go.Figure,
    title: str,
    x: str | None,
    y: str | None,
    legend: str | None = None,
    notes: Sequence[str] = (),
    legend_below: bool = False,
) -> go.Figure:
    """The shared look: title top left, notes under it, legend (titled) on the right, every axis titled. A chart
    drawn in half the page takes `legend_below`: a horizontal legend under the plot, which wraps (on the right, at
    800 px wide it took half of the chart's 240 px and covered its lines)."""
    side = dict(yanchor="top", y=1, xanchor="left", x=1.02)
    below = dict(orientation="h", yanchor="top", y=-0.22, yref="paper", xanchor="left", x=0, title_side="top left")
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", xref="paper", y=1, yref="container", yanchor="top", pad_t=12),
        margin=dict(l=10, r=10, t=60 + 18 * sum(_wrapped(n).count("<br>") + 1 for n in notes), b=10),
        legend=dict(title_text=legend, **(below if legend_below else side)),
        showlegend=legend is not None,
    )
    if x is not None:
        fig.update_xaxes(title_text=x, automargin=True)
    if y is not None:
        fig.update_yaxes(title_text=y, automargin=True)
    if notes:
        fig.add_annotation(
            text="<br>".join(_wrapped(n) for n in notes), x=0, y=1, xref="paper", yref="paper", xanchor="left",
            yanchor="bottom",
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
    name = _name(task)
    pred = _prediction_column(predictions, name)
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
    # Decimals for the tallest bar: ticks 0.5% apart read "0% 1% 1% 2% 2%…" at ".0%" when every rate was small (a
    # browser walk), and rates of 0.02% need more again; the bars' own text alike ("0.0%" for 0.02%)
    top = max((h for h in heights if h and math.isfinite(h)), default=1.0)
    decimals = min(4, max(0, math.ceil(-math.log10(top * 100 / 5)) + 1))
    fig.update_traces(texttemplate=f"%{{y:.{max(1, decimals)}%}}")
    fig.update_yaxes(tickformat=f".{decimals}~%", range=[0, min(1.0, max(heights, default=1.0)) * 1.15 or 1.0])
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


def parameter_shares(rows: Sequence[Mapping], current: str | None = None) -> go.Figure:
    """Where each size preset's parameters are: one 100%-stacked horizontal bar per preset, split into embeddings,
    shared layers and task-specific parts (`rows`: {"size", *mtlrec.resources.PARTS})."""
    parts = PARTS
    sizes = [str(r["size"]) for r in rows]
    totals = [max(sum(int(r[p]) for p in parts), 1) for r in rows]
    labels = [f"<b>{s}</b>" if s == current else s for s in sizes]
    fig = go.Figure()
    for part in parts:
        color = PART_COLORS.get(part, NEUTRAL)
        counts = [int(r[part]) for r in rows]
        fig.add_bar(
            x=[100 * c / t for c, t in zip(counts, totals, strict=True)], y=labels, orientation="h", name=part,
            marker_color=color, customdata=counts,
            hovertemplate=f"%{{y}}: {part} %{{customdata:,}} parameters (%{{x:.0f}}%)<extra></extra>",
        )  # fmt: skip
    fig.update_layout(barmode="stack", height=90 + 28 * len(rows), legend_traceorder="normal")  # legend left to right
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    fig.update_yaxes(autorange="reversed", type="category")
    notes = [] if rows else ["this architecture cannot be built with these settings"]
    return _layout(fig, "Where the parameters are", "share of the preset's parameters", "size preset", "part", notes)


def architecture(tasks: Sequence[Task]) -> go.Figure:
    """The shared-bottom idea as a diagram: features -> embeddings -> shared layers -> one tower per task (in the
    task's colour) -> one output per task. Boxes are shapes named after what they stand for ("tower: click")."""
    names = [_name(t) for t in tasks] or ["task"]
    colors = task_colors(names)
    n = len(names)
    width = max(n, 3)  # the shared boxes span every tower
    fig = go.Figure()

    def box(x0: float, x1: float, y: float, text: str, fill: str, name: str, font: str | None = None) -> None:
        fig.add_shape(type="rect", x0=x0, x1=x1, y0=y - 0.3, y1=y + 0.3, fillcolor=fill, opacity=0.85,
                      line=dict(color=NEUTRAL, width=1), layer="below", name=name)  # fmt: skip
        fig.add_annotation(x=(x0 + x1) / 2, y=y, text=text, showarrow=False, font=dict(color=font) if font else {})

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        fig.add_annotation(x=x1, y=y1 - 0.3, ax=x0, ay=y0 + 0.3, xref="x", yref="y", axref="x", ayref="y", text="",
                           showarrow=True, arrowhead=2, arrowwidth=1.2, arrowcolor=NEUTRAL)  # fmt: skip

    middle = (width - 1) / 2
    box(-0.4, width - 0.6, 0, "features: user, item, context", "rgba(128, 128, 128, 0.15)", "features")
    box(-0.4, width - 0.6, 1, "embeddings", PART_COLORS["embeddings"], "embeddings", "black")
    box(-0.4, width - 0.6, 2, "<b>shared layers</b>: one representation for every task", PART_COLORS["shared layers"],
        "shared", "white")  # fmt: skip
    arrow(middle, 0, middle, 1)
    arrow(middle, 1, middle, 2)
    left = middle - (n - 1) / 2
    for i, name in enumerate(names):
        x = left + i
        box(x - 0.4, x + 0.4, 3, f"tower<br>{name}", colors[name], f"tower: {name}", text_on(colors[name]))
        arrow(x, 2, x, 3)
        # in the text colour above its coloured tower: orange text on white was 2.25:1 (an audit)
        fig.add_annotation(x=x, y=3.75, text=f"<b>{name}</b>", showarrow=False)
    fig.update_xaxes(visible=False, range=[-0.6, width - 0.4])
    fig.update_yaxes(visible=False, range=[-0.5, 4.1])
    fig.update_layout(height=330, showlegend=False)
    return _layout(
        fig, "Shared-bottom: one representation, one tower per task", None, None,
        notes=["the loss L = Σⱼ wⱼ·Lⱼ pulls the shared layers towards every task at once"],
    )  # fmt: skip


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
    log_y = _log_if_spread([n_nouns])
    fig.update_yaxes(type="log" if log_y else "linear")
    title = f"Interactions per {noun}"
    if not per.empty:
        title += f": median {per.median():,.4g} ({len(per):,} {plural})"
    x_title = f"interactions per {noun}" + (" (log scale)" if log_x else "")
    return _layout(fig, title, x_title, f"number of {plural}" + (" (log scale)" if log_y else ""), notes=notes)


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
    # The saw-tooth of the train lines read as instability (a teaching audit): each point is a running mean.
    train_note = "train: the mean over the epoch's batches so far (it starts again each epoch); validation: per epoch"
    notes = [train_note] if drawn else ["no losses yet: they appear after the first batches"]
    log = _log_if_spread(drawn)
    fig.update_yaxes(type="log" if log else "linear")
    # The axis turns to log once the losses spread; said in its title (its minor ticks 5, 2, 0.1 read as values)
    return _layout(fig, "Loss while training", "epoch", "loss (log scale)" if log else "loss", legend="task",
                   notes=notes)  # fmt: skip


def _mark_best(fig: go.Figure, frame: pd.DataFrame, best_epoch: int | None) -> bool:
    """A dotted line at the epoch whose weights the run kept, when training went on after it (early stopping); its
    note sits just above the plot area, where no line crosses it (inside, it was drawn across the curves). True
    when drawn."""
    if not (best_epoch and "epoch" in frame.columns and frame["epoch"].max() > best_epoch):
        return False
    fig.add_vline(x=best_epoch, line_dash="dot", line_color="grey")
    # At the axis' first epoch, centred, the note ran over the y axis' tick labels: it starts at the line there.
    anchor = "left" if best_epoch <= frame["epoch"].min() else "center"
    fig.add_annotation(
        text=f"best epoch {best_epoch}: the model kept", x=best_epoch, xref="x", y=1, yref="paper", yanchor="bottom",
        xanchor=anchor, showarrow=False, font_size=11, name="best epoch",
    )  # fmt: skip
    return True


def _room_for_best(fig: go.Figure) -> None:
    """Room above the plot area for the best epoch's note, with the notes (if any) above it."""
    fig.update_layout(margin_t=fig.layout.margin.t + 18)
    fig.update_annotations(yshift=22, selector=dict(name="notes"))


def _epoch_axis(fig: go.Figure, frame: pd.DataFrame) -> None:
    """An epoch axis from epoch 1 (there is no epoch 0: it showed as an empty strip) to the last, whole epochs."""
    epochs = pd.to_numeric(frame["epoch"], errors="coerce").dropna() if "epoch" in frame.columns else pd.Series()
    if epochs.empty:
        return
    first, last = float(epochs.min()), float(epochs.max())
    pad = max(0.15, 0.03 * (last - first))
    fig.update_xaxes(range=[first - pad, last + pad], tick0=1, dtick=1 if last - first <= 12 else None)


def learning_curves(
    history: pd.DataFrame | None, tasks: Sequence[TaskSpec], what: str = "loss", best_epoch: int | None = None
) -> go.Figure:
    """Per task, train (solid) and validation (dashed) `what` by epoch, from history.csv columns; a line marks
    `best_epoch`, whose weights the run kept, when later epochs follow it."""
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
    log = what == "loss" and _log_if_spread(drawn)
    if what == "loss":
        fig.update_yaxes(type="log" if log else "linear")
    marked = _mark_best(fig, frame, best_epoch)
    _epoch_axis(fig, frame)
    y_title = f"{word} (log scale)" if log else word
    fig = _layout(fig, f"{word[0].upper()}{word[1:]} by epoch", "epoch", y_title, "task", notes, legend_below=True)
    if marked:
        _room_for_best(fig)
    return fig


def metric_curves(history: pd.DataFrame | None, tasks: Sequence[TaskSpec], best_epoch: int | None = None) -> go.Figure:
    """Validation AUC (binary tasks) and RMSE (regression tasks) per epoch, one subplot per metric, sharing x; a
    line marks `best_epoch` as in learning_curves."""
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
    marked = _mark_best(fig, frame, best_epoch)
    _epoch_axis(fig, frame)
    fig = _layout(fig, "Validation metrics", None, None, "task", notes, legend_below=True)  # by epoch: its x axis
    if marked:
        _room_for_best(fig)
    return fig


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
            marker=dict(color=color or FRONT, size=5, opacity=0.35),
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
        name = _name(task)
        column = _prediction_column(predictions, name)
        if column not in predictions.columns:
            notes.append(f"{name}: no column '{column}', skipped")
            continue
        scores = _numbers(predictions, column)
        if getattr(task, "labelled_only", False) and name in predictions.columns:  # the rows it is measured on:
            # all test rows gave a mean of 0.179 beside the card's 24.6% (a browser audit)
            scores = scores[pd.to_numeric(predictions[name], errors="coerce").notna().to_numpy()]
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
        # A light fill under the task's own outline: see-through fills of 0.55 blended into colours no legend
        # holds (olive, dark green) where two overlapped (a browser walk)
        fig.add_bar(
            x=(edges[:-1] + edges[1:]) / 2, y=density, width=np.diff(edges), name=name,
            marker=dict(color=_faded(colors[name], 0.18), line=dict(color=colors[name], width=1.5)),
            customdata=np.column_stack([edges[:-1], edges[1:], counts]),
            hovertemplate=f"{name}<br>%{{customdata[0]:.3f}}–%{{customdata[1]:.3f}}<br>density %{{y:.3f}}"
            "<br>%{customdata[2]:,} rows<extra></extra>",
        )  # fmt: skip
    if not fig.data and not notes:
        notes.append("no binary tasks: regression predictions are in the predicted-vs-actual charts")
    if any(getattr(t, "labelled_only", False) and _is_binary(t) for t in tasks):
        notes.append("a task trained on its labelled rows only: its labelled test rows")
    fig.update_layout(barmode="overlay", bargap=0)
    fig.update_xaxes(range=[0, 1])
    title = "Distribution of predicted probabilities (test set)"
    return _layout(fig, title, "predicted probability", "density", "task", notes)


def recommendation_bars(
    top: pd.DataFrame, tasks: Sequence[TaskSpec], joint: Mapping[str, str] | None = None
) -> go.Figure:
    """Grouped bars of each task's score per recommended item (in rank order), the fused score as a line on a
    second axis when `top` has a fused column (the table's own columns named as RecommendColumns.around(tasks)).
    `joint`: {task: the task it is logged under} for the scores that are the chance of both (recommend.with_joint),
    named so in the legend and the hover ("click × purchase"), as the table heads them."""
    colors, notes, joint = task_colors(tasks), [], dict(joint or {})
    own = RecommendColumns.around([t if isinstance(t, TaskSpec) else TaskSpec(_name(t)) for t in tasks])
    frame = top.sort_values(own.rank, kind="stable") if own.rank in top.columns else top
    items = (frame[own.item] if own.item in frame.columns else frame.index.to_series()).astype(str).tolist()
    ranks = frame[own.rank].tolist() if own.rank in frame.columns else list(range(1, len(frame) + 1))
    fused = own.fused in frame.columns
    fig = make_subplots(specs=[[{"secondary_y": True}]]) if fused else go.Figure()
    for task in tasks:
        name = _name(task)
        if name not in frame.columns:
            notes.append(f"{name}: no score, skipped")
            continue
        value = own.values.get(name, f"{name}_value")
        extra = _numbers(frame, value) if value in frame.columns else np.full(len(frame), np.nan)
        hover = "probability %{y:.4f}" if _is_binary(task) else "standardised %{y:.3f}"
        hover += "" if _is_binary(task) or value not in frame.columns else "<br>predicted %{customdata[1]:,.4g}"
        label = name
        if name in joint:  # P(click) × P(purchase | click): the bar is no longer the purchase's probability alone
            label, hover = chain_label(name, joint), f"{chance_name(name, joint)} %{{y:.4f}}"
        fig.add_bar(
            x=items, y=_numbers(frame, name), name=label, marker_color=colors[name],
            customdata=np.column_stack([ranks, extra]),
            hovertemplate=f"#%{{customdata[0]}} %{{x}}<br>{label} {hover}<extra></extra>",
        )  # fmt: skip
    if fused:
        fig.add_scatter(
            x=items, y=_numbers(frame, own.fused), mode="lines+markers", name="fused score", secondary_y=True,
            line=dict(color=NEUTRAL, dash="dot"), marker_size=9, customdata=ranks,
            hovertemplate="#%{customdata} %{x}<br>fused %{y:.4f}<extra></extra>",
        )  # fmt: skip
        # Decimals enough for the scores' spread: a fixed 3 digits read "0.47" at every tick of scores 0.4702-0.4709
        # (a browser walk), and Plotly's own format wrote ticks on the bars' grid as 1.6744, 1.6283…
        fused_values = _numbers(frame, own.fused)
        fused_values = fused_values[np.isfinite(fused_values)]
        span = float(np.ptp(fused_values)) if len(fused_values) else 0.0
        decimals = min(6, max(1, math.ceil(-math.log10(span / 10)))) if span > 0 else 3  # ticks ~ a fifth apart
        fig.update_yaxes(title_text="fused score", secondary_y=True, showgrid=False, tickformat=f".{decimals}f")
    if frame.empty:
        notes.append("no recommendations")
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=items)
    title = f"Top {len(frame):,} recommendations: score per task"
    y_title = "score (probability; regression standardised)"
    fig = _layout(fig, title, "item (rank order)", None, "score", notes)
    fig.update_yaxes(title_text=y_title, **({"secondary_y": False} if fused else {}))
    # The bars' axis from its values with room above and below: beside a second axis, Plotly's own range cut the
    # tallest bars at their top when a task scored every item alike (a constant 0.42 drawn as 0.40).
    heights = np.concatenate([np.asarray(bar.y, dtype=float) for bar in fig.data if bar.type == "bar"] or [[]])
    heights = heights[np.isfinite(heights)]
    if len(heights):
        low, high = min(0.0, float(heights.min())), max(0.0, float(heights.max()))
        room = 0.08 * ((high - low) or 1.0)
        fig.update_yaxes(range=[low - (room if low < 0 else 0.0), high + room],
                         **({"secondary_y": False} if fused else {}))  # fmt: skip
    return fig


def _direction(metric: str) -> str:
    base = metric.split("@")[0].lower()
    return " ↑" if base in _HIGHER_IS_BETTER else " ↓" if base in _LOWER_IS_BETTER else ""


def tick_labels(labels: list[str], width: int = 18, lines: int = 3) -> list[str]:
    """Run names as axis ticks that tell them apart: the start they all share is dropped (default names all begin
    'shared_bottom tiny · click=1, '), a long rest keeps its start and its end (where a run id tells two equal
    names apart), and it wraps over up to `lines` lines. The hover still shows the whole name."""
    if len(labels) > 1:
        common = os.path.commonprefix(labels)
        cut = max(common.rfind(sep) + len(sep) if common.rfind(sep) >= 0 else 0 for sep in (" · ", ", ", " "))
        if cut >= 8 and all(len(label) > cut for label in labels):
            labels = ["…" + label[cut:] for label in labels]
    room = width * lines
    shown = []
    for i, label in enumerate(labels):
        if len(label) > room:
            # Where it parts from the most alike other name: a name differing only in its middle (purchase=3 against
            # purchase=1) kept its start and end, the same for both.
            split = max((len(os.path.commonprefix([label, o])) for j, o in enumerate(labels) if j != i), default=0)
            if split <= room - 16:
                label = label[: room - 15] + "…" + label[-14:]
            else:
                start = min(split - 12, len(label) - (room - 2))
                label = "…" + label[start : start + room - 2] + ("…" if start + room - 2 < len(label) else "")
        wrapped = textwrap.wrap(label, width, break_long_words=True) or [label]
        if len(wrapped) > lines:
            wrapped = [*wrapped[: lines - 1], "…" + label[-(width - 1) :]]
        shown.append("<br>".join(wrapped))
    return shown


COMPARE_ROW_GAP = 0.3  # the gap between rows of compare_metrics' subplots, as a share of the plot height
NAMED_BARS = 4  # runs compare_metrics names under their bars; more are numbered 1, 2… in their order (nine names
# crossed each other, turned on end: an audit)


def compare_metrics(
    runs: Mapping[str, Mapping[str, Mapping[str, float]]],
    metric_by_task: Mapping[str, str],
    untrained: Mapping[str, Sequence[str]] | None = None,
) -> go.Figure:
    """One subplot per task with its chosen metric, one bar per run (values as text); ↑/↓ says which way is better.
    Colours follow the order of `metric_by_task`, so pass tasks in the run's task order. Over NAMED_BARS runs, the
    bars are numbered in the runs' order (the hover names the run). `untrained`: {run: its tasks trained with loss
    weight 0}, whose metrics the caller left out: the notes say why a bar is missing ("no run has auc" read as a
    metric that could not be computed)."""
    untrained = untrained or {}
    tasks, labels, notes = list(metric_by_task), list(runs), []
    colors = task_colors(tasks)
    cols = max(1, min(len(tasks), 3))
    rows = max(1, math.ceil(len(tasks) / cols))
    titles = [f"{t} · {_METRIC_WORDS.get(m, m)}{_direction(m)}" for t, m in metric_by_task.items()]
    # Rows apart enough for the run names (up to 3 lines) under a row and the next row's subplot titles.
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles or None, vertical_spacing=COMPARE_ROW_GAP)
    for i, (task, metric) in enumerate(metric_by_task.items()):
        values = []
        for label in labels:
            value = (runs[label] or {}).get(task, {}).get(metric)
            values.append(float(value) if isinstance(value, int | float) and math.isfinite(value) else None)
        missing = [label for label, v in zip(labels, values, strict=True) if v is None]
        idle = bool(missing) and all(task in untrained.get(label, ()) for label in missing)
        if len(missing) == len(values):
            notes.append(f"{task}: no run trained it (loss weight 0)" if idle else f"{task}: no run has {metric}")
        elif missing:
            why = "did not train it (loss weight 0; no bar)" if idle else f"have no {metric} (no bar)"
            notes.append(f"{task}: {len(missing)} of {len(values)} runs {why}")
        row, col = i // cols + 1, i % cols + 1
        # Each value as fmt.metric writes it on Results' cards (an RMSE of 59,011 there read 59003.3877 here), on
        # the bar and in its hover
        shown = [fmt.metric(v) if v is not None else "" for v in values]
        fig.add_bar(
            x=labels, y=values, name=task, marker_color=colors[task], text=shown, texttemplate="%{text}",
            textposition="auto", hovertemplate=f"%{{x}}<br>{task} {metric} %{{text}}<extra></extra>", row=row, col=col,
        )  # fmt: skip
        fig.update_yaxes(title_text=_METRIC_WORDS.get(metric, metric), row=row, col=col)
    if not labels:
        notes.append("no runs to compare")
    if not tasks:
        notes.append("no metrics chosen")
        fig.update_yaxes(title_text="metric")
    numbered = len(labels) > NAMED_BARS
    ticks = [str(i) for i in range(1, len(labels) + 1)] if numbered else tick_labels(labels)
    fig.update_xaxes(type="category", tickmode="array", tickvals=labels, ticktext=ticks)
    if numbered:
        fig.update_xaxes(tickangle=0)
    fig = _layout(fig, "Test metrics per run", None, None, notes=notes)
    # "run" under the lowest chart of each column only: under a chart with another below, it ran into that one's
    # title. The empty cells of the last row draw no axes.
    for i in range(rows * cols):
        row, col = i // cols + 1, i % cols + 1
        if i >= len(tasks):
            fig.update_xaxes(visible=False, row=row, col=col)
            fig.update_yaxes(visible=False, row=row, col=col)
        elif i + cols >= len(tasks):
            fig.update_xaxes(title_text="run (numbered in order)" if numbered else "run", row=row, col=col)
    fig.update_layout(margin_t=80 + 18 * len(notes), height=None if rows == 1 else 60 + 360 * rows)
    fig.update_annotations(yshift=24, selector=dict(name="notes"))
    return fig


def overlay_curves(histories: Mapping[str, pd.DataFrame], task: Task, column: str) -> go.Figure:
    """One line per run of history[f"{task}/{column}"] by epoch (e.g. column "val_auc")."""
    name, notes, fig, epochs = _name(task), [], go.Figure(), []
    key, word = f"{_name(task)}/{column}", words(column)
    for label, history in histories.items():
        frame = _frame(history)
        if "epoch" in frame.columns:
            epochs.append(frame[["epoch"]])  # the axis spans every run's epochs
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
    if epochs:
        _epoch_axis(fig, pd.concat(epochs))
    return _layout(fig, f"{name}: {word} by epoch", "epoch", word, "run", notes)


def _tick_format(values: np.ndarray) -> str:
    """A d3 format for an axis's ticks: 3 significant digits (0.506, 12.3), or as many more as the ticks need to
    differ. An RMSE from 19.50 to 19.65, ticked every 0.01 or 0.02, read "19.5, 19.5, 19.5, 19.6" with 3."""
    finite = values[np.isfinite(values)] if len(values) else values
    span = float(finite.max() - finite.min()) if len(finite) else 0.0
    if span <= 0:
        return ".3~g"
    # d3 picks a step of 1, 2 or 5 times a power of ten, at least the power of ten below span / (ticks); 20 ticks
    # bound what a tall axis shows.
    step_power = math.floor(math.log10(span / 20))
    top_power = math.floor(math.log10(float(np.abs(finite).max())))
    return f".{min(max(3, top_power - step_power + 1), 15)}~g"


def _padded(values: np.ndarray, share: float = 0.1) -> tuple[float, float]:
    """An axis range beyond the values by `share` of their span (of the value, or 0.001, when they are all one):
    with two runs each axis spanned exactly their two values, so one line ran along the frame's top edge and the
    other its bottom, and a 0.0001 AUC apart took the whole colour scale (a browser walk)."""
    low, high = float(np.min(values)), float(np.max(values))
    pad = (high - low) * share if high > low else max(abs(high) * 0.05, 1e-3)
    return low - pad, high + pad


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
        line = dict(color=FRONT)
        ranges = {c: _padded(complete[c].to_numpy()) for c in present}
        if colour_by:
            colorbar = dict(title=dict(text=words(colour_by)))
            low, high = ranges[colour_by]
            line = dict(color=complete[colour_by].to_numpy(), colorscale="Viridis", showscale=True, colorbar=colorbar,
                        cmin=low, cmax=high)  # fmt: skip
        dimensions = [
            dict(label=words(c), values=complete[c].to_numpy(), tickformat=_tick_format(complete[c].to_numpy()),
                 range=list(ranges[c]))
            for c in present
        ]  # fmt: skip
        fig.add_parcoords(line=line, dimensions=dimensions, labelangle=0 if len(present) <= 6 else -20)
    else:
        notes.append("no runs to show")
    fig = _layout(fig, "Loss weights → metrics (one line per run)", None, None, notes=notes)
    fig.update_layout(margin=dict(l=60, r=60, t=110 + 18 * len(notes), b=30))
    fig.update_annotations(yshift=36, selector=dict(name="notes"))  # above the dimension labels
    return fig


# --- task conflict (mtlrec.diagnostics history columns) and multi-task gain ---

CONFLICT_FILL = "rgba(213, 94, 0, 0.10)"  # the negative-cosine band: a light vermillion, readable on light and dark
GAIN_COLORS = {"positive": "#009E73", "negative": "#D55E00", NOISE: "#999999"}  # Okabe & Ito green, vermillion, grey


def _task_lines(
    history: pd.DataFrame | Sequence[Mapping] | None, tasks: Sequence[Task], suffix: str, word: str
) -> tuple[go.Figure, list[np.ndarray], list[str]]:
    """A figure with one line per task of history[f"{task}/{suffix}"] by epoch; its y values and notes."""
    frame, colors, fig, drawn, notes = _frame(history), task_colors(tasks), go.Figure(), [], []
    for task in tasks:
        name, column = _name(task), f"{_name(task)}/{suffix}"
        xs, ys = _xy(frame, "epoch", column) if {"epoch", column} <= set(frame.columns) else (np.empty(0),) * 2
        if xs.size == 0:
            notes.append(f"{name}: no {word} recorded")
            continue
        fig.add_scatter(
            x=xs, y=ys, mode="lines" if xs.size > 50 else "lines+markers", name=name, line_color=colors[name],
            hovertemplate=f"{name}<br>epoch %{{x}}<br>{word} %{{y:.4g}}<extra></extra>",
        )  # fmt: skip
        drawn.append(ys)
    _epoch_axis(fig, frame)  # whole epochs: a 2-epoch run showed ticks at 1, 1.2, 1.4…
    return fig, drawn, notes


def effective_weights(history: pd.DataFrame | Sequence[Mapping] | None, tasks: Sequence[Task]) -> go.Figure:
    """One line per task: the loss weight the weighting strategy gave it in each epoch ("<task>/weight")."""
    fig, _, notes = _task_lines(history, tasks, "weight", "effective loss weight")
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, "Effective task weights", "epoch", "effective loss weight", "task", notes, legend_below=True)


def gradient_norms(history: pd.DataFrame | Sequence[Mapping] | None, tasks: Sequence[Task]) -> go.Figure:
    """One line per task: the norm of its weighted loss gradient on the shared parameters ("<task>/grad_norm");
    a log axis when the norms span more than two decades."""
    word = "gradient norm"
    fig, drawn, notes = _task_lines(history, tasks, "grad_norm", word)
    log = _log_if_spread(drawn)
    fig.update_yaxes(type="log" if log else "linear")
    return _layout(fig, "Pull on shared layers", "epoch", f"{word} (log scale)" if log else word, "task", notes,
                   legend_below=True)  # fmt: skip


def gradient_cosines(history: pd.DataFrame | Sequence[Mapping] | None, tasks: Sequence[Task]) -> go.Figure:
    """One line per pair of tasks: the cosine similarity of their gradients on the shared parameters by epoch
    ("cos/<a>|<b>"), on [-1, 1] with a zero line; the negative band (the tasks pull apart) is shaded. A pair's line
    has its first task's colour and its markers the second's (every pair another combination): six grey pairs
    could not be told apart, three of them near 0 (a browser walk)."""
    frame, fig, notes, pair = _frame(history), go.Figure(), [], 0
    names = [_name(t) for t in tasks]
    colors = task_colors(tasks)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            column = next((c for c in (f"cos/{a}|{b}", f"cos/{b}|{a}") if c in frame.columns), None)
            if column is None or "epoch" not in frame.columns:
                notes.append(f"{a} ↔ {b}: no cosine recorded")
                continue
            xs, ys = _xy(frame, "epoch", column)
            label = f"{a} ↔ {b}"
            fig.add_scatter(
                x=xs, y=ys, mode="lines+markers", name=label,
                line=dict(color=colors[a], dash=GREY_DASHES[pair % len(GREY_DASHES)], width=2.5),
                marker=dict(symbol=GREY_SYMBOLS[pair % len(GREY_SYMBOLS)], size=9 if xs.size <= 50 else 6,
                            color=colors[b], line=dict(color=colors[a], width=1.5)),
                hovertemplate=f"{label}<br>epoch %{{x}}<br>cosine %{{y:.3f}}<extra></extra>",
            )  # fmt: skip
            pair += 1
    if len(names) < 2:
        notes.append("one task: no pair of tasks to compare")
    fig.add_hrect(
        y0=-1.05, y1=0, fillcolor=CONFLICT_FILL, line_width=0, layer="below",
        annotation_text="below 0: the tasks pull the shared layers apart", annotation_position="bottom left",
        annotation_font_size=11,
    )  # fmt: skip
    fig.add_hline(y=0, line=dict(color=NEUTRAL, dash="dash", width=1))
    fig.update_yaxes(range=[-1.05, 1.05], zeroline=False)
    _epoch_axis(fig, frame)
    return _layout(fig, "Gradient agreement", "epoch", "cosine similarity", "task pair", notes, legend_below=True)


def _ple_experts(model: object | None, width: int) -> tuple[int, int] | None:
    """(shared experts, experts per task) of a PLE config whose gates have `width` weights; None otherwise."""
    shared, own = getattr(model, "experts", None), getattr(model, "task_experts", None)
    if getattr(model, "kind", None) != "ple" or not isinstance(shared, int) or not isinstance(own, int):
        return None
    return (shared, own) if shared + own == width else None


def gate_heatmap(
    history: pd.DataFrame | Sequence[Mapping] | None,
    tasks: Sequence[Task],
    model: object | None = None,
    epoch: int | None = None,
) -> go.Figure:
    """Task × expert heatmap of one epoch's mean gate weights ("gate/<task>/<e>"), values written in the cells:
    `epoch`'s (the run's best, whose model was kept and scored), else the last epoch's. With the run's ModelConfig
    (`model`) a PLE's experts are named: "shared 1"…, then "<task> 1"… for the experts each task owns (a task's
    gate cannot reach another task's experts: those cells stay blank)."""
    frame, notes, fig = _frame(history), [], go.Figure()
    kept = None
    if epoch is not None and "epoch" in frame.columns:
        at = np.flatnonzero(_numbers(frame, "epoch") == epoch)
        kept = int(at[-1]) if len(at) else None  # not recorded (an old run): the last epoch, as titled
    names = [_name(t) for t in tasks]
    rows: dict[str, list[float]] = {}
    for name in names:
        prefix = f"gate/{name}/"
        experts = sorted(
            int(c[len(prefix) :]) for c in frame.columns if str(c).startswith(prefix) and c[len(prefix) :].isdigit()
        )
        if not experts:
            notes.append(f"{name}: no gate weights recorded")
            continue
        weights = frame[[f"{prefix}{e}" for e in experts]].apply(pd.to_numeric, errors="coerce")
        present = weights.iloc[[kept]] if kept is not None else weights
        present = present.dropna(how="all")
        if present.empty:
            notes.append(f"{name}: no gate weights recorded")
            continue
        rows[name] = present.iloc[-1].to_numpy(dtype=float).tolist()
    shown = None
    if rows and "epoch" in frame.columns:
        epochs = _numbers(frame, "epoch")
        if kept is not None:
            shown = int(epochs[kept])
        elif np.isfinite(epochs).any():
            shown = int(np.nanmax(epochs))
    width = max((len(r) for r in rows.values()), default=0)
    ple = _ple_experts(model, width) if rows else None
    if ple is not None:
        shared, own = ple
        columns = [f"shared {e + 1}" for e in range(shared)] + [f"{n} {e + 1}" for n in names for e in range(own)]
        z = []
        for name in rows:
            row = [math.nan] * len(columns)
            row[:shared] = rows[name][:shared]
            start = shared + names.index(name) * own
            row[start : start + own] = rows[name][shared:]
            z.append(row)
    else:
        columns = [f"expert {e + 1}" for e in range(width)]
        z = [r + [math.nan] * (width - len(r)) for r in rows.values()]
    if rows:
        text = [["" if math.isnan(v) else f"{v:.2f}" for v in row] for row in z]
        top = max((v for row in z for v in row if math.isfinite(v)), default=1.0) or 1.0
        fig.add_heatmap(
            z=z, x=columns, y=list(rows), text=text, texttemplate="%{text}", zmin=0, zmax=top, colorscale="Viridis",
            colorbar=dict(title=dict(text="weight")), hoverongaps=False,
            hovertemplate="%{y} → %{x}<br>mean gate weight %{z:.3f}<extra></extra>",
        )  # fmt: skip
    else:
        notes = ["no gates: only MMoE and PLE have them"]
    fig.update_xaxes(type="category")
    fig.update_yaxes(autorange="reversed", type="category")
    title = "Expert use" + (f" (epoch {shown})" if shown is not None else "")
    return _layout(fig, title, "expert", "task", notes=notes)


def mtl_gain_chart(gain: pd.DataFrame, tasks: Sequence[Task]) -> go.Figure:
    """One bar per task: the multi-task model's relative gain (%) over its single-task baseline on the task's main
    metric (mtlrec.gain.mtl_gain rows with main=True); green above zero (positive transfer), red below."""
    fig, notes, names = go.Figure(), [], []
    frame = _frame(gain)
    main = frame[frame["main"].astype(bool)] if {"main", "task"} <= set(frame.columns) else frame.iloc[0:0]
    for task in tasks:
        name = _name(task)
        found = main[main["task"] == name] if "task" in main.columns else main
        if found.empty:
            notes.append(f"{name}: no gain computed")
            continue
        row = found.iloc[0]
        relative = float(row.get("relative_gain", math.nan))
        if row.get("transfer") == UNTRAINED:
            notes.append(f"{name}: not trained (loss weight 0), so no transfer to show")
            continue
        if not math.isfinite(relative):
            notes.append(f"{name}: gain unknown (a metric is missing or the baseline's is 0)")
            continue
        metric = str(row.get("metric", ""))
        word = _METRIC_WORDS.get(metric, metric)
        sign = NOISE if row.get("transfer") == NOISE else "positive" if relative >= 0 else "negative"
        noise = float(row.get("noise", math.nan))
        if math.isfinite(noise) and row.get("single_task"):
            noise = 100 * noise / abs(float(row["single_task"]))  # in % of the single-task value, as the bar
        fig.add_bar(
            x=[name], y=[relative], name=sign if sign == NOISE else f"{sign} transfer", legendgroup=sign,
            marker_color=GAIN_COLORS[sign],
            error_y=dict(type="data", array=[noise], color=NEUTRAL, thickness=1) if math.isfinite(noise) else None,
            showlegend=sign not in {bar.legendgroup for bar in fig.data},
            customdata=[[word, float(row["multi_task"]), float(row["single_task"]), float(row["gain"])]],
            cliponaxis=False,
            hovertemplate=f"<b>{name}</b> · %{{customdata[0]}}<br>multi-task %{{customdata[1]:.4f}}<br>"
            "single-task %{customdata[2]:.4f}<br>gain %{customdata[3]:+.4f} (%{y:+.2f}%)<extra></extra>",
        )  # fmt: skip
        # The value beyond the whisker's end, not at the bar's (the whisker crossed it: a browser walk)
        reach = relative + math.copysign(noise if math.isfinite(noise) else 0.0, relative if relative else 1.0)
        fig.add_annotation(
            x=name, y=reach, text=f"{relative:+.2f}%", showarrow=False, yshift=10 if relative >= 0 else -10,
            yanchor="bottom" if relative >= 0 else "top", font_size=12, name="gain value",
        )  # fmt: skip
        names.append(name)
    fig.add_hline(y=0, line=dict(color=NEUTRAL, width=1))
    fig.update_yaxes(ticksuffix="%")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=names)
    title = "Multi-task gain over single-task baselines (main metric per task)"
    return _layout(fig, title, "task", "gain (% of the single-task value)", "transfer", notes)


# ---------------------------------------------------------------------------------------------- loss-weight sweeps
# Input: the sweep table (mtlrec.sweep.sweep_table): one row per run with "run_id", "name", "pareto", weight columns
# (shares summing to 1) and metric columns. `labels` maps columns to words; run ids ride along as customdata[0], so
# a page can tell which run a clicked point is.

TERNARY_TICKLEN = 14  # px: beyond a Pareto ring's radius (10 px) around a point on an edge
REFERENCE_SYMBOLS = ("diamond", "star", "cross", "x", "triangle-up", "pentagon")
REFERENCE_DASHES = ("dash", "dot", "dashdot", "longdash", "longdashdot", "solid")


def _sweep_hover(frame: pd.DataFrame, columns: Sequence[str], labels: Mapping[str, str]) -> tuple[np.ndarray, str]:
    """customdata (run id, then `columns`) and a hover template showing every column, weights as shares."""
    ids = frame["run_id"].astype(str).to_numpy() if "run_id" in frame.columns else frame.index.astype(str).to_numpy()
    present = [c for c in columns if c in frame.columns]
    data = np.column_stack([ids, *(_numbers(frame, c) for c in present)]) if len(frame) else np.empty((0, 1))
    lines = [f"{labels.get(c, c)} %{{customdata[{i + 1}]:.4f}}" for i, c in enumerate(present)]
    return data, "<b>%{text}</b><br>" + "<br>".join(lines) + "<extra></extra>"


def _labels_of(frame: pd.DataFrame, default: str = "") -> np.ndarray:
    """Each row's short label for hovers and legends: its "label" column, else "name", else `default`."""
    column = "label" if "label" in frame.columns else "name" if "name" in frame.columns else None
    return frame[column].astype(str).to_numpy() if column else np.full(len(frame), default, dtype=object)


def _flags(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A boolean column as a numpy array (all False when the column is absent)."""
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].fillna(False).astype(bool).to_numpy()


def _objective_title(column: str, higher: bool, labels: Mapping[str, str]) -> str:
    return f"{labels.get(column, column)} {'↑' if higher else '↓'}"


UNTRAINED_NOTE = (
    "points where a task is untrained (loss weight 0: its metric is an untrained tower's) sit at the edge of its "
    "axis ({edges}), off the scale of the rest; hover for their values"
)
EDGE_SYMBOLS = {("x", False): "triangle-left", ("x", True): "triangle-right", ("y", False): "triangle-down",
                ("y", True): "triangle-up"}  # fmt: skip


def trained_ranges(
    points: pd.DataFrame, references: pd.DataFrame, metrics: Sequence[str], weights: Sequence[str]
) -> dict[str, tuple[float, float]]:
    """Per metric (`metrics[i]`, the task of `weights[i]`), an axis range that shows the points where its task
    trained and the references, when a point where the task has loss weight 0 lies beyond it: an untrained tower's
    AUC (0.3-0.5) stretched the axis until the trained points and references sat in one corner. Metrics whose
    untrained points lie within the range, or without trained points, are left to Plotly's autorange."""
    ranges: dict[str, tuple[float, float]] = {}
    if len(weights) != len(metrics):
        return ranges
    for metric, weight in zip(metrics, weights, strict=True):
        if metric not in points.columns or weight not in points.columns:
            continue
        values, shares = _numbers(points, metric), _numbers(points, weight)
        trained = values[(shares > 0) & np.isfinite(values)]
        untrained = values[(shares <= 0) & np.isfinite(values)]
        shown = trained
        if references is not None and metric in references.columns:
            shown = np.concatenate([trained, _numbers(references, metric)])
        shown = shown[np.isfinite(shown)]
        if not trained.size or not untrained.size:
            continue
        low, high = float(shown.min()), float(shown.max())
        pad = 0.08 * (high - low) if high > low else max(0.01 * abs(high), 1e-3)
        low, high = low - pad, high + pad
        if untrained.min() < low or untrained.max() > high:
            ranges[metric] = (low, high)
    return ranges


def _at_edges(values: np.ndarray, bounds: tuple[float, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """`values` moved into `bounds` (None: unchanged), and which moved: -1 below, 1 above, 0 not."""
    if bounds is None:
        return values, np.zeros(len(values), dtype=int)
    side = np.where(values < bounds[0], -1, np.where(values > bounds[1], 1, 0))
    return np.clip(values, *bounds), side


def _edge_symbols(default: str, x_side: np.ndarray, y_side: np.ndarray) -> str | list[str]:
    """A marker symbol per point: an arrow towards the edge a point was moved to (its true value lies beyond)."""
    if not (x_side.any() or y_side.any()):
        return default
    return [
        EDGE_SYMBOLS[("x", bool(sx > 0))] if sx else EDGE_SYMBOLS[("y", bool(sy > 0))] if sy else default
        for sx, sy in zip(x_side, y_side, strict=True)
    ]


def pareto_front(
    points: pd.DataFrame,
    objectives: Sequence[str],
    higher_is_better: Sequence[bool],
    references: pd.DataFrame | None = None,
    weights: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    details: Sequence[str] = (),
) -> go.Figure:
    """The sweep's points on its task metrics (`objectives`, one axis each, ↑/↓ in the titles): the Pareto front
    (`points["pareto"]`) in colour and, for 2 metrics, joined in order; dominated points grey; `references` (adaptive
    weightings, single-task baseline) as symbols named by their "name" column. 3 metrics: one panel per pair (the
    front of three objectives is a surface, so its projections are not joined). Hover: weights and `details`."""
    labels, notes = dict(labels or {}), []
    points = _frame(points)
    references = _frame(references)
    pairs = [(0, 1)] if len(objectives) == 2 else [(0, 1), (0, 2), (1, 2)] if len(objectives) == 3 else []
    if not pairs:
        notes.append(f"a Pareto chart needs 2 or 3 metrics, got {len(objectives)}")
    hover_columns = list(dict.fromkeys([*weights, *objectives, *details]))
    missing = [c for c in objectives if c not in points.columns]
    if missing:
        notes.append(f"no column {', '.join(missing)}")
        pairs = []
    complete = points.dropna(subset=list(objectives)) if not missing else points.iloc[:0]
    if len(complete) < len(points):
        left = points.drop(index=complete.index)
        counts = left["status"].value_counts() if "status" in left.columns else pd.Series(dtype=int)
        which = ", ".join(f"{n:,} {status}" for status, n in counts.items() if status not in ("finished", "stopped"))
        notes.append(
            f"{len(points) - len(complete):,} point(s) without these metrics left out{f' ({which})' if which else ''}: "
            "a run that failed, was interrupted or ended before its first epoch, or a metric undefined on the test rows"
        )
    if points.empty:
        notes.append("no points yet: they appear as the sweep finishes them")
    front = _flags(complete, "pareto")
    if len(references) and all(c in references.columns for c in objectives):
        references = references.dropna(subset=list(objectives))
    elif len(references):
        notes.append("references without these metrics left out")
        references = references.iloc[:0]
    fig = make_subplots(rows=1, cols=max(len(pairs), 1), horizontal_spacing=0.08)
    ranges = trained_ranges(complete, references, objectives, weights) if pairs else {}
    edges = [labels.get(c, c) for c in objectives if c in ranges]
    if edges:
        notes.append(UNTRAINED_NOTE.format(edges=", ".join(edges)))
    for panel, (i, j) in enumerate(pairs, start=1):
        x, y = objectives[i], objectives[j]
        first = panel == 1
        for part, on_front in ((complete[~front], False), (complete[front], True)):
            data, hover = _sweep_hover(part, hover_columns, labels)  # the true values, also of a point moved
            if on_front and len(pairs) == 1:
                order = np.argsort(_numbers(part, x), kind="stable")
                part, data = part.iloc[order], data[order]
            xs, x_side = _at_edges(_numbers(part, x), ranges.get(x))
            ys, y_side = _at_edges(_numbers(part, y), ranges.get(y))
            name, group = ("Pareto front", "front") if on_front else ("dominated", "dominated")
            line = on_front and len(pairs) == 1
            if line:  # the front's line (its legend entry), through the points moved to an edge too
                fig.add_scatter(x=xs, y=ys, mode="lines", name=name, line=dict(color=FRONT), legendgroup=group,
                                showlegend=first, hoverinfo="skip", row=1, col=panel)  # fmt: skip
            moved = (x_side != 0) | (y_side != 0)
            # Points at their values, and apart those moved to an edge, drawn as arrows: a trace's legend shows its
            # first point's symbol, which was an arrow when the front began at an untrained end.
            for which, symbol in ((~moved, None), (moved, _edge_symbols("", x_side[moved], y_side[moved]))):
                if not which.any() and symbol is not None:
                    continue
                fig.add_scatter(
                    x=xs[which], y=ys[which], customdata=data[which], hovertemplate=hover,
                    text=_labels_of(part)[which], mode="markers", name=name, legendgroup=group,
                    showlegend=first and symbol is None and not line, row=1, col=panel,
                    cliponaxis=symbol is None,  # an arrow on the edge is drawn whole, over the axis
                    marker=dict(color=FRONT, size=11, symbol=symbol or "circle") if on_front
                    else dict(color=NEUTRAL, size=8, symbol=symbol or "circle-open",
                              line=dict(width=1.5, color=NEUTRAL)),
                )  # fmt: skip
        for k, name in enumerate(_labels_of(references, "reference")):
            ref_frame = references.iloc[[k]]
            data, hover = _sweep_hover(ref_frame, [c for c in hover_columns if c not in weights], labels)
            fig.add_scatter(
                x=_numbers(ref_frame, x), y=_numbers(ref_frame, y), customdata=data, hovertemplate=hover,
                text=[name], mode="markers", name=name,
                legendgroup=f"reference {k}", showlegend=first,
                marker=dict(symbol=REFERENCE_SYMBOLS[k % len(REFERENCE_SYMBOLS)], size=13,
                            color=GREYS[(k + 1) % len(GREYS)], line=dict(width=1, color=FRONT)),
                row=1, col=panel,
            )  # fmt: skip
        fig.update_xaxes(title_text=_objective_title(x, higher_is_better[i], labels), range=ranges.get(x),
                         row=1, col=panel)  # fmt: skip
        fig.update_yaxes(title_text=_objective_title(y, higher_is_better[j], labels), range=ranges.get(y),
                         row=1, col=panel)  # fmt: skip
    if not pairs:
        fig.update_xaxes(title_text="metric")
        fig.update_yaxes(title_text="metric")
    title = f"Pareto front: {int(front.sum())} of {len(complete)} points not beaten on every task at once"
    return _layout(fig, title, None, None, legend="run", notes=notes)


def weight_metric_curves(
    points: pd.DataFrame,
    tasks: Sequence[Task],
    weights: Sequence[str],
    metrics: Sequence[str],
    higher_is_better: Sequence[bool],
    references: pd.DataFrame | None = None,
    labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """One panel per task: its metric (`metrics[i]`) against its own loss weight (`weights[i]`, a share), points
    as markers and their mean per weight as a line; references as horizontal lines named by their "name"."""
    labels, notes, colors, edges = dict(labels or {}), [], task_colors(tasks), []
    points, references = _frame(points), _frame(references)
    fig = make_subplots(rows=1, cols=max(len(tasks), 1), horizontal_spacing=0.08)
    panels = zip(tasks, weights, metrics, higher_is_better, strict=True)
    for panel, (task, weight, metric, higher) in enumerate(panels, start=1):
        name = _name(task)
        if weight not in points.columns or metric not in points.columns:
            notes.append(f"{name}: no column {weight if weight not in points.columns else metric}")
            continue
        xs, ys = _xy(points, weight, metric)
        bounds = trained_ranges(points, references, [metric], [weight]).get(metric)  # an untrained end off-scale
        if bounds is not None:
            edges.append(labels.get(metric, metric))
        shown, side = _at_edges(ys, bounds)
        moved = side != 0
        arrows = _edge_symbols("", np.zeros_like(side[moved]), side[moved])  # moved along y only
        for which, symbol in ((~moved, "circle"), (moved, arrows)):
            if which.any() or symbol == "circle":  # the moved ones apart: a legend shows its trace's first symbol
                fig.add_scatter(
                    x=xs[which], y=shown[which], customdata=ys[which], mode="markers", name=name, legendgroup=name,
                    showlegend=symbol == "circle", marker=dict(color=colors[name], size=8, symbol=symbol),
                    cliponaxis=symbol == "circle",  # an arrow on the edge is drawn whole, over the axis
                    hovertemplate=f"weight of {name} %{{x:.2f}}<br>{labels.get(metric, metric)} "
                    "%{customdata:.4f}<extra></extra>",
                    row=1, col=panel,
                )  # fmt: skip
        trained = xs > 0  # at weight 0 the task's tower never trained: a marker on the edge, but no line to it
        if trained.any():
            # one weight, however its share was rounded; the line from the first trained weight (it had run to the
            # clamped edge marker at 0, the steepest and least true segment of the chart: a browser walk)
            means = pd.Series(ys[trained]).groupby(np.round(xs[trained], 6)).mean()
            fig.add_scatter(
                x=means.index.to_numpy(), y=_at_edges(means.to_numpy(), bounds)[0], mode="lines",
                name=f"{name} mean", legendgroup=name,
                showlegend=False, line=dict(color=colors[name]), hoverinfo="skip", row=1, col=panel,
            )  # fmt: skip
        for k, reference in enumerate(_labels_of(references, "reference")):
            value = _numbers(references.iloc[[k]], metric)[0] if metric in references.columns else math.nan
            if not np.isfinite(value):
                continue
            fig.add_scatter(
                x=[0, 1], y=[value, value], mode="lines", name=reference,
                legendgroup=f"reference {k}", showlegend=panel == 1,
                line=dict(color=NEUTRAL, dash=REFERENCE_DASHES[k % len(REFERENCE_DASHES)]),
                hovertemplate=f"{reference}<br>{labels.get(metric, metric)} {value:.4f}<extra></extra>",
                row=1, col=panel,
            )  # fmt: skip
        fig.update_xaxes(title_text=f"loss weight of {name} (share)", range=[-0.03, 1.03], row=1, col=panel)
        fig.update_yaxes(title_text=_objective_title(metric, higher, labels), range=bounds, row=1, col=panel)
    if edges:
        notes.append(UNTRAINED_NOTE.format(edges=", ".join(edges)))
    if points.empty:
        notes.append("no points yet")
    if not tasks:
        fig.update_xaxes(title_text="loss weight")
        fig.update_yaxes(title_text="metric")
    legend = "task and reference" if len(references) else "task"  # the references are in it too
    return _layout(fig, "Each task's metric against its own loss weight", None, None, legend=legend, notes=notes)


TERNARY_TOP = 0.88  # of the plot's height: the top corner's axis title below the notes


def ternary_weights(
    points: pd.DataFrame,
    tasks: Sequence[Task],
    weights: Sequence[str],
    color: str,
    higher_is_better: bool,
    labels: Mapping[str, str] | None = None,
    weight: str | None = None,
) -> go.Figure:
    """The 3-task weight simplex: each point at its weights, coloured by the metric column `color` (the bright end
    of the scale is the better end); Pareto-front points (`points["pareto"]`) ringed. `weight`: the loss weight
    column of the task `color` measures: its points at weight 0 (an untrained tower) are grey and left out of the
    colour scale, whose span they took (AUCs of 0.38 beside trained ones of 0.72-0.73, all one yellow: an audit)."""
    labels, notes = dict(labels or {}), []
    points = _frame(points)
    fig = go.Figure()
    names = [_name(t) for t in tasks]
    present = len(weights) == 3 and all(c in points.columns for c in (*weights, color))
    if not present:
        notes.append("a ternary plot needs 3 weight columns and the metric column")
    elif points.empty:
        notes.append("no points yet")
    else:
        values = _numbers(points, color)
        front = _flags(points, "pareto")
        a, b, c = (_numbers(points, w) for w in weights)
        ids = points["run_id"].astype(str).to_numpy() if "run_id" in points else points.index.to_numpy()
        text = np.asarray(_labels_of(points), dtype=object)
        idle = (_numbers(points, weight) <= 0) if weight in points.columns else np.zeros(len(points), dtype=bool)
        if idle.all():  # nothing trained it: the scale spans what there is
            idle = np.zeros(len(points), dtype=bool)
        hover = (f"<b>%{{text}}</b><br>{names[0]} %{{a:.2f}} · {names[1]} %{{b:.2f}} · {names[2]} %{{c:.2f}}"
                 f"<br>{labels.get(color, color)} %{{customdata[1]:.4f}}")  # fmt: skip
        kept = ~idle
        coloured = values[kept][np.isfinite(values[kept])]
        span = {}
        if len(coloured) and np.ptp(coloured) == 0:  # one value: Plotly's scale ran 0.3-1.2 for an AUC of 0.75
            pad = 0.01 * (abs(float(coloured[0])) or 1.0)
            span = dict(cmin=float(coloured[0]) - pad, cmax=float(coloured[0]) + pad)
        fig.add_scatterternary(
            a=a[kept], b=b[kept], c=c[kept], mode="markers", name=labels.get(color, color), text=text[kept],
            cliponaxis=False, customdata=np.column_stack([ids[kept], values[kept]]),
            marker=dict(color=values[kept], colorscale="Viridis", reversescale=not higher_is_better, size=12,
                        showscale=True, colorbar=dict(title=dict(text=_objective_title(color, higher_is_better,
                                                                                       labels))), **span),
            hovertemplate=hover + "<extra></extra>",
        )  # fmt: skip
        if idle.any():
            fig.add_scatterternary(
                a=a[idle], b=b[idle], c=c[idle], mode="markers", name="not trained (weight 0)", text=text[idle],
                cliponaxis=False, customdata=np.column_stack([ids[idle], values[idle]]),
                marker=dict(color=NEUTRAL, size=12, symbol="x"),
                hovertemplate=hover + " (not trained: weight 0)<extra></extra>",
            )  # fmt: skip
            notes.append("x: the task was not trained there (weight 0), left out of the colour scale")
        if front.any():
            fig.add_scatterternary(
                a=a[front], b=b[front], c=c[front], mode="markers", name="Pareto front", hoverinfo="skip",
                cliponaxis=False, marker=dict(symbol="circle-open", size=20, color=NEUTRAL, line=dict(width=2)),
            )  # fmt: skip
            notes.append("ringed: on the Pareto front")
    if len(names) == 3:
        fig.update_ternaries(
            sum=1, aaxis_title_text=f"weight of {names[0]}", baxis_title_text=f"weight of {names[1]}",
            caxis_title_text=f"weight of {names[2]}", aaxis_layer="below traces", baxis_layer="below traces",
            caxis_layer="below traces",
        )  # fmt: skip
        # Points sit on the edges (a weight of 0) and corners: outside ticks this long keep the tick labels clear
        # of the markers and of the front's rings (radius 10 px), which hid them.
        for axis in ("aaxis", "baxis", "caxis"):
            fig.update_ternaries({f"{axis}_ticks": "outside", f"{axis}_ticklen": TERNARY_TICKLEN})
    title = f"Loss weights coloured by {_objective_title(color, higher_is_better, labels)}"
    fig = _layout(fig, title, None, None, notes=notes)
    fig.update_layout(margin=dict(l=90, r=90, b=70))  # room for the corner axis titles and the longer ticks
    # The top corner's axis title sits above the triangle, where the notes end (they overlapped: a browser walk):
    # the triangle starts lower
    fig.update_ternaries(domain_y=[0, TERNARY_TOP])
    return fig
