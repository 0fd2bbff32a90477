"""Chart builders: figure data checked against hand-computed values and scikit-learn, and odd inputs do not raise."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from mtlrec import charts
from mtlrec.config import TaskSpec

CLICK, LIKE, WATCH = TaskSpec("click"), TaskSpec("like"), TaskSpec("watch_time", "regression")
TASKS = [CLICK, LIKE, WATCH]


def notes(fig: go.Figure) -> str:
    """The text of the figure's annotations (notes and subplot titles), joined."""
    return " | ".join(a.text for a in fig.layout.annotations)


def labels_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b", "b", "c", "d", "d"],
            "item_id": [1, 2, 3, 1, 4, 1, 2, 5],
            "click": [1, 0, 1, 1, 0, 0, 0, 1],
            "like": ["yes", "no", "no", "yes", "no", "no", "no", "no"],
            "watch_time": [10.0, 0.0, 5.0, 20.0, 0.0, 0.0, 1.0, np.nan],
        }
    )


def history_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "epoch": [1, 2, 3],
            "click/train_loss": [0.6, 0.5, 0.45],
            "click/val_loss": [0.62, 0.55, 0.5],
            "like/train_loss": [0.7, 0.6, 0.5],
            "like/val_loss": [0.7, 0.65, 0.6],
            "watch_time/train_loss": [1.2, 1.0, 0.9],
            "watch_time/val_loss": [1.3, 1.1, 1.0],
            "click/val_auc": [0.7, 0.75, 0.77],
            "like/val_auc": [0.6, 0.62, 0.66],
            "watch_time/val_rmse": [30.0, 25.0, 24.0],
        }
    )


def predictions_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    click = rng.integers(0, 2, n)
    like = rng.integers(0, 2, n)
    watch = rng.exponential(20.0, n) * (rng.random(n) < 0.7)
    return pd.DataFrame(
        {
            "click": click,
            "click_pred": np.clip(0.3 * click + 0.7 * rng.random(n), 0, 1),
            "like": like,
            "like_pred": rng.random(n),
            "watch_time": watch,
            "watch_time_pred": watch * rng.lognormal(0, 0.2, n) + 1,
        }
    )


def test_task_colors_follow_task_order_and_accept_names() -> None:
    colors = charts.task_colors(TASKS)
    assert colors == {"click": "#0072B2", "like": "#E69F00", "watch_time": "#009E73"}
    assert charts.task_colors(["a", "b"]) == {"a": "#0072B2", "b": "#E69F00"}
    assert list(charts.task_colors([f"t{i}" for i in range(13)]).values())[12] == "#0072B2"  # 12 colours, then cycles


def test_label_rates_are_positive_rates_and_non_zero_shares() -> None:
    frame = labels_frame()
    before = frame.copy()
    fig = charts.label_rates(frame, TASKS)
    assert [t.name for t in fig.data] == ["click", "like", "watch_time"]
    heights = {t.name: t.y[0] for t in fig.data}
    assert heights["click"] == pytest.approx(4 / 8)
    assert heights["like"] == pytest.approx(2 / 8)  # "yes"/"no" coded 1/0
    assert heights["watch_time"] == pytest.approx(4 / 7)  # non-zero among the 7 present values
    assert fig.data[2].customdata[0][0] == pytest.approx(36 / 7)  # the mean, shown in the hover
    assert [t.marker.color for t in fig.data] == list(charts.task_colors(TASKS).values())
    assert fig.layout.title.text and fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    pd.testing.assert_frame_equal(frame, before)
    # Ticks with a decimal where the rates are small: ".0%" read "0% 1% 1% 2% 2%" (a browser walk)
    assert fig.layout.yaxis.tickformat == ".0~%"  # rates up to 57%: whole percents, 11% apart
    small = charts.label_rates(pd.DataFrame({"click": [1] + [0] * 27}), [TaskSpec("click")])  # 3.6%
    assert small.layout.yaxis.tickformat == ".2~%" and small.data[0].texttemplate == "%{y:.2%}"
    tiny = charts.label_rates(pd.DataFrame({"click": [1] + [0] * 4999}), [TaskSpec("click")])  # 0.02%
    assert tiny.layout.yaxis.tickformat == ".4~%" and tiny.data[0].texttemplate == "%{y:.4%}"


def test_label_correlation_equals_pandas_corr_on_coded_labels() -> None:
    frame = labels_frame()
    fig = charts.label_correlation(frame, TASKS)
    coded = pd.DataFrame(
        {"click": frame["click"], "like": (frame["like"] == "yes").astype(float), "watch_time": frame["watch_time"]}
    )
    heatmap = fig.data[0]
    np.testing.assert_allclose(np.asarray(heatmap.z, dtype=float), coded.corr().to_numpy())
    assert list(heatmap.x) == list(heatmap.y) == ["click", "like", "watch_time"]
    assert (heatmap.zmin, heatmap.zmax) == (-1, 1)
    assert heatmap.text[0][0] == "1.00"
    assert fig.layout.xaxis.title.text == "label" and fig.layout.yaxis.title.text == "label"


def test_cardinalities_count_distinct_values_on_a_log_axis() -> None:
    fig = charts.cardinalities(labels_frame(), ["user_id", "item_id", "missing"])
    bar = fig.data[0]
    assert list(bar.y) == ["user_id", "item_id"] and list(bar.x) == [4, 5]
    assert bar.orientation == "h" and fig.layout.xaxis.type == "log"
    assert "missing" in notes(fig)


def test_parameter_shares_stack_each_preset_to_100_percent() -> None:
    rows = [
        {"size": "tiny", "embeddings": 100, "shared layers": 300, "task-specific": 600},
        {"size": "small", "embeddings": 800, "shared layers": 150, "task-specific": 50},
    ]
    fig = charts.parameter_shares(rows, current="small")

    assert [t.name for t in fig.data] == ["embeddings", "shared layers", "task-specific"]
    assert list(fig.data[0].x) == [10.0, 80.0] and list(fig.data[2].x) == [60.0, 5.0]
    assert list(fig.data[1].customdata) == [300, 150]  # counts in the hover
    assert list(fig.data[0].y) == ["tiny", "<b>small</b>"]  # the chosen preset in bold
    assert fig.layout.barmode == "stack" and fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def test_interactions_histogram_counts_users_per_number_of_rows() -> None:
    fig = charts.interactions_histogram(labels_frame(), "user_id", "user")
    # a: 3 rows, b: 2, c: 1, d: 2 -> one user with 1 row, two with 2, one with 3
    assert list(fig.data[0].x) == [1, 2, 3] and list(fig.data[0].y) == [1, 2, 1]
    assert "median 2" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "interactions per user"
    assert fig.layout.yaxis.title.text == "number of users"


def test_interactions_histogram_uses_log_axes_for_heavy_tails() -> None:
    frame = pd.DataFrame({"item_id": np.repeat(np.arange(300), np.arange(1, 301))})
    fig = charts.interactions_histogram(frame, "item_id", "item")
    assert fig.layout.xaxis.type == "log" and len(fig.data[0].x) == 300


def test_live_losses_draw_train_lines_and_validation_markers() -> None:
    live = [{"step": 0.5, "click": 0.7, "watch_time": 1.5}, {"step": 1.0, "click": 0.6, "watch_time": None}]
    history = history_frame().to_dict("records")[:1]
    fig = charts.live_losses(live, history, [CLICK, WATCH])
    by_name = {t.name: t for t in fig.data}
    assert list(by_name) == ["click train", "click validation", "watch_time train", "watch_time validation"]
    assert list(by_name["click train"].x) == [0.5, 1.0] and list(by_name["click train"].y) == [0.7, 0.6]
    assert list(by_name["watch_time train"].y) == [1.5]  # the None is dropped
    assert list(by_name["click validation"].x) == [1] and by_name["click validation"].line.dash == "dash"
    assert by_name["watch_time train"].line.color == charts.task_colors([CLICK, WATCH])["watch_time"]
    assert fig.layout.xaxis.title.text == "epoch" and fig.layout.legend.title.text == "task"


def test_an_axis_turned_to_log_says_so_in_its_title() -> None:
    # The live loss axis turned to log once losses spread, and its minor ticks (5, 2, 0.1) read as values (an audit)
    close = [{"step": 1.0, "click": 0.7, "watch_time": 0.9}]
    spread = [{"step": 1.0, "click": 0.01, "watch_time": 50.0}]
    assert charts.live_losses(close, [], [CLICK, WATCH]).layout.yaxis.title.text == "loss"
    fig = charts.live_losses(spread, [], [CLICK, WATCH])
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.title.text == "loss (log scale)"
    frame = pd.DataFrame({"item_id": np.repeat(np.arange(300), np.arange(1, 301) ** 2 // 50 + 1)})
    histogram = charts.interactions_histogram(frame, "item_id", "item")
    assert (histogram.layout.yaxis.type == "log") == histogram.layout.yaxis.title.text.endswith("(log scale)")


def test_learning_curves_pair_solid_train_and_dashed_validation_per_task() -> None:
    fig = charts.learning_curves(history_frame(), TASKS)
    assert len(fig.data) == 6
    colors = charts.task_colors(TASKS)
    for trace in fig.data:
        task = trace.legendgroup
        assert trace.line.color == colors[task]
        assert trace.line.dash == ("dash" if trace.name.endswith("validation") else "solid")
    assert list(fig.data[1].y) == [0.62, 0.55, 0.5]
    assert fig.layout.xaxis.title.text == "epoch" and fig.layout.yaxis.title.text == "loss"


def test_metric_curves_put_auc_and_rmse_in_subplots_sharing_x() -> None:
    fig = charts.metric_curves(history_frame(), TASKS)
    assert [t.name for t in fig.data] == ["click", "like", "watch_time"]
    assert [t.yaxis for t in fig.data] == ["y", "y", "y2"]
    assert fig.layout.yaxis.title.text == "validation AUC" and fig.layout.yaxis2.title.text == "validation RMSE"
    assert fig.layout.xaxis2.title.text == "epoch" and fig.layout.xaxis.matches == "x2"
    assert list(fig.data[2].y) == [30.0, 25.0, 24.0]


def test_roc_curves_run_from_origin_to_one_with_sklearn_auc_in_the_legend() -> None:
    predictions = predictions_frame()
    fig = charts.roc_curves(predictions, TASKS)
    assert fig.data[0].name == "chance (AUC 0.5)"
    curves = fig.data[1:]
    assert len(curves) == 2  # the regression task is left out
    for trace, task in zip(curves, ["click", "like"], strict=True):
        auc = roc_auc_score(predictions[task], predictions[f"{task}_pred"])
        assert trace.name == f"{task} (AUC {auc:.4f})"
        assert (trace.x[0], trace.y[0]) == (0, 0) and (trace.x[-1], trace.y[-1]) == (1, 1)
        assert trace.line.color == charts.task_colors(TASKS)[task]
    assert fig.layout.xaxis.title.text == "false positive rate"


def test_roc_curves_skip_a_one_class_task_with_a_note() -> None:
    predictions = predictions_frame().assign(like=0)
    fig = charts.roc_curves(predictions, TASKS)
    assert [t.name.split(" ")[0] for t in fig.data[1:]] == ["click"]
    assert "like: ROC undefined" in notes(fig) and "one class" in notes(fig)


def test_calibration_points_equal_sklearn_quantile_bins() -> None:
    predictions = predictions_frame()
    fig = charts.calibration(predictions, TASKS, n_bins=5)
    observed, predicted = calibration_curve(
        predictions["click"], predictions["click_pred"], n_bins=5, strategy="quantile"
    )
    click = fig.data[0]
    np.testing.assert_allclose(click.x, predicted)
    np.testing.assert_allclose(click.y, observed)
    assert [t.name for t in fig.data] == ["click", "like", "perfect calibration"]
    assert fig.layout.xaxis.title.text == "mean predicted probability"
    assert fig.layout.yaxis.title.text == "observed positive rate"


def test_predicted_vs_actual_samples_at_most_5000_points_with_log1p_axes_when_skewed() -> None:
    predictions = predictions_frame(n=12_000)
    fig = charts.predicted_vs_actual(predictions, WATCH, color="#123456")
    points, diagonal = fig.data
    assert len(points.x) == 5_000 and points.marker.color == "#123456" and points.marker.opacity < 1
    assert fig.layout.xaxis.title.text == "log1p(actual watch_time)"
    np.testing.assert_allclose(points.x, np.log1p(points.customdata[:, 0]))
    assert diagonal.x == diagonal.y
    again = charts.predicted_vs_actual(predictions, WATCH)
    np.testing.assert_array_equal(again.data[0].x, points.x)  # the sample is repeatable
    linear = charts.predicted_vs_actual(predictions, WATCH, log=False)
    assert linear.layout.xaxis.title.text == "actual watch_time"


def test_prediction_distribution_is_a_density_of_binary_predictions_only() -> None:
    predictions = predictions_frame()
    fig = charts.prediction_distribution(predictions, TASKS)
    assert [t.name for t in fig.data] == ["click", "like"]
    expected, _ = np.histogram(predictions["click_pred"], bins=charts.PROBABILITY_BINS, density=True)
    np.testing.assert_allclose(fig.data[0].y, expected)
    assert sum(fig.data[0].y * fig.data[0].width) == pytest.approx(1.0)
    assert fig.layout.xaxis.range == (0, 1) and fig.layout.barmode == "overlay"
    # each task drawn in its own colour: an outline, and a light fill (0.55-opaque fills blended into colours no
    # legend holds, a browser walk)
    colors = charts.task_colors(TASKS)
    for trace in fig.data:
        assert trace.marker.line.color == colors[trace.name] and trace.marker.color.endswith(", 0.18)")


def test_recommendation_bars_group_task_scores_by_item_in_rank_order_with_fused_line() -> None:
    top = pd.DataFrame(
        {
            "rank": [2, 1, 3],
            "item": [9, 5, 2],
            "click": [0.7, 0.8, 0.6],
            "like": [0.4, 0.3, 0.2],
            "watch_time": [-0.2, 0.5, 0.1],
            "watch_time_value": [12.0, 40.0, 20.0],
            "fused": [0.9, 1.6, 0.9],
        }
    )
    fig = charts.recommendation_bars(top, TASKS)
    assert [t.name for t in fig.data] == ["click", "like", "watch_time", "fused score"]
    assert list(fig.data[0].x) == ["5", "9", "2"] and list(fig.data[0].y) == [0.8, 0.7, 0.6]
    assert fig.layout.xaxis.categoryarray == ("5", "9", "2") and fig.layout.barmode == "group"
    assert fig.data[3].yaxis == "y2" and fig.layout.yaxis2.title.text == "fused score"
    # decimals for the fused scores' spread (0.7: ticks about 0.14 apart, written to a tenth of the spread, 0.07:
    # 2 decimals); 0.4702-0.4709: 5, where every tick read "0.47" (a browser walk)
    assert fig.layout.yaxis2.tickformat == ".2f"
    narrow = charts.recommendation_bars(top.assign(fused=[0.4702, 0.4709, 0.4705]), TASKS)
    assert narrow.layout.yaxis2.tickformat == ".5f"
    assert [t.marker.color for t in fig.data[:3]] == list(charts.task_colors(TASKS).values())
    assert list(top["rank"]) == [2, 1, 3]  # input untouched
    # Every bar fits its axis, with room: a task scoring every item 0.42 was cut at the axis' top (an audit).
    low, high = fig.layout.yaxis.range
    assert low < -0.2 and high > 0.8 and high - 0.8 == pytest.approx(0.08 * 1.0)


def test_compare_metrics_draws_one_subplot_per_task_and_one_bar_per_run() -> None:
    runs = {
        "run a": {"click": {"auc": 0.77}, "watch_time": {"rmse": 24.0}},
        "run b": {"click": {"auc": 0.78}, "watch_time": {"rmse": 23.0}},
        "run c": {"click": {"auc": 0.75}},
    }
    fig = charts.compare_metrics(runs, {"click": "auc", "watch_time": "rmse"})
    click, watch = fig.data
    assert list(click.x) == ["run a", "run b", "run c"] and list(click.y) == [0.77, 0.78, 0.75]
    assert list(watch.y) == [24.0, 23.0, None]
    assert list(click.text) == ["0.7700", "0.7800", "0.7500"] and click.marker.color == "#0072B2"
    assert list(watch.text) == ["24.0000", "23.0000", ""] and "%{text}" in watch.hovertemplate
    # each as Results' cards write it: 59,003 (not 59003.3877) beside 150.2 and 95.2500
    big = charts.compare_metrics(
        {r: {"t": {"rmse": v}} for r, v in zip("abc", (59003.39, 150.2, 95.25), strict=True)}, {"t": "rmse"}
    )
    assert list(big.data[0].text) == ["59,003", "150.2", "95.2500"]
    assert "click · AUC ↑" in notes(fig) and "watch_time · RMSE ↓" in notes(fig)
    assert "watch_time: 1 of 3 runs have no rmse (no bar)" in notes(fig)
    assert fig.layout.yaxis.title.text == "AUC" and fig.layout.xaxis2.title.text == "run"


def test_compare_metrics_says_a_task_left_untrained_is_missing_for_that_reason():
    # Both runs at like weight 0 said "like: no run has auc" (a browser walk)
    runs = {"a": {"click": {"auc": 0.7}, "like": {}}, "b": {"click": {"auc": 0.71}, "like": {}}}
    untrained = {"a": ["like"], "b": ["like"]}
    fig = charts.compare_metrics(runs, {"click": "auc", "like": "auc"}, untrained)
    assert "like: no run trained it (loss weight 0)" in notes(fig)
    fig = charts.compare_metrics(
        {**runs, "c": {"click": {"auc": 0.7}, "like": {"auc": 0.6}}}, {"like": "auc"}, untrained
    )
    assert "like: 2 of 3 runs did not train it (loss weight 0; no bar)" in notes(fig)
    fig = charts.compare_metrics(runs, {"like": "auc"}, {"a": ["like"]})  # b lacks it otherwise
    assert "like: no run has auc" in notes(fig)


def test_overlay_curves_draw_one_line_per_run() -> None:
    history = history_frame()
    other = history.assign(**{"click/val_auc": [0.6, 0.7, 0.8]})
    fig = charts.overlay_curves({"run a": history, "run b": other, "run c": history[["epoch"]]}, CLICK, "val_auc")
    assert [t.name for t in fig.data] == ["run a", "run b"]
    assert list(fig.data[1].y) == [0.6, 0.7, 0.8]
    assert fig.layout.yaxis.title.text == "validation AUC" and fig.layout.legend.title.text == "run"
    assert "run c" in notes(fig)


def test_parallel_weights_has_one_dimension_per_column_coloured_by_the_first_metric() -> None:
    table = pd.DataFrame(
        {
            "click/weight": [1.0, 1.0, 0.5, 0.2],
            "like/weight": [1.0, 0.5, 1.0, 0.1],
            "click/auc": [0.77, 0.78, 0.75, np.nan],
            "watch_time/rmse": [24.0, 23.0, 25.0, 22.0],
        }
    )
    fig = charts.parallel_weights(table, ["click/weight", "like/weight"], ["click/auc", "watch_time/rmse"])
    parcoords = fig.data[0]
    labels = [d.label for d in parcoords.dimensions]
    assert labels == ["click weight", "like weight", "click AUC", "watch_time RMSE"]
    assert list(parcoords.dimensions[0].values) == [1.0, 1.0, 0.5]  # the run with a missing AUC is left out
    assert list(parcoords.line.color) == [0.77, 0.78, 0.75]
    assert "1 run with a missing value left out" in notes(fig)
    # Each axis a tenth of its span beyond the values: with two runs one line ran along the frame's top edge and
    # the other along its bottom (a browser walk)
    auc = next(d for d in parcoords.dimensions if d.label == "click AUC")
    assert auc.range == pytest.approx((0.75 - 0.003, 0.78 + 0.003))
    assert (parcoords.line.cmin, parcoords.line.cmax) == pytest.approx(auc.range)
    one = charts.parallel_weights(table.iloc[:2].assign(**{"click/weight": 1.0}), ["click/weight"], ["click/auc"])
    assert one.data[0].dimensions[0].range == pytest.approx((0.95, 1.05))  # one value: 5% of it either side


EMPTY = pd.DataFrame()
NO_ROWS = pd.DataFrame({c: pd.Series(dtype=float) for c in ["click", "click_pred", "watch_time", "watch_time_pred"]})
NANS = pd.DataFrame({"click": [np.nan, 1.0], "click_pred": [0.2, np.nan], "watch_time": [np.nan] * 2})
ONE = pd.DataFrame({"click": [1], "click_pred": [0.4], "watch_time": [3.0], "watch_time_pred": [2.0], "item": [7]})

BUILDERS = {
    "label_rates": lambda f: charts.label_rates(f, TASKS),
    "label_correlation": lambda f: charts.label_correlation(f, TASKS),
    "cardinalities": lambda f: charts.cardinalities(f, ["click", "user_id"]),
    "interactions_histogram": lambda f: charts.interactions_histogram(f, "click", "user"),
    "live_losses": lambda f: charts.live_losses(f.to_dict("records"), f, TASKS),
    "learning_curves": lambda f: charts.learning_curves(f, TASKS),
    "metric_curves": lambda f: charts.metric_curves(f, TASKS),
    "roc_curves": lambda f: charts.roc_curves(f, TASKS),
    "calibration": lambda f: charts.calibration(f, TASKS),
    "predicted_vs_actual": lambda f: charts.predicted_vs_actual(f, WATCH),
    "predicted_vs_actual_log": lambda f: charts.predicted_vs_actual(f, WATCH, log=True),
    "prediction_distribution": lambda f: charts.prediction_distribution(f, TASKS),
    "recommendation_bars": lambda f: charts.recommendation_bars(f, TASKS),
    "compare_metrics": lambda f: charts.compare_metrics({"r": {"click": {}}}, {"click": "auc", "like": "auc"}),
    "overlay_curves": lambda f: charts.overlay_curves({"r": f}, CLICK, "val_auc"),
    "parallel_weights": lambda f: charts.parallel_weights(f, ["click"], ["click_pred"]),
}


@pytest.mark.parametrize("data", [EMPTY, NO_ROWS, NANS, ONE], ids=["empty", "no_rows", "nan", "one_row"])
@pytest.mark.parametrize("name", list(BUILDERS))
def test_odd_inputs_give_a_titled_figure_without_raising(name: str, data: pd.DataFrame) -> None:
    before = data.copy()
    fig = BUILDERS[name](data)
    assert isinstance(fig, go.Figure) and fig.layout.title.text
    fig.to_json()  # serialisable for st.plotly_chart
    pd.testing.assert_frame_equal(data, before)


def test_empty_inputs_explain_themselves() -> None:
    assert "no runs to compare" in notes(charts.compare_metrics({}, {}))
    assert "no losses yet" in notes(charts.live_losses([], [], TASKS))
    assert "no column" in notes(charts.roc_curves(EMPTY, TASKS))
    assert "no recommendations" in notes(charts.recommendation_bars(EMPTY, TASKS))
    assert "no runs to show" in notes(charts.parallel_weights(EMPTY, ["a"], ["b"]))


def test_figures_leave_colours_of_text_and_background_to_the_theme() -> None:
    figures = [builder(labels_frame().assign(click_pred=0.5)) for builder in BUILDERS.values()]
    for fig in figures:
        layout = fig.layout
        assert layout.paper_bgcolor is None and layout.plot_bgcolor is None  # the template (Streamlit's) decides
        assert layout.font.color is None and layout.title.font.color is None
        assert all(a.font.color is None for a in layout.annotations)


# --- task conflict and multi-task gain ---


def diagnostics_history() -> pd.DataFrame:
    """Two epochs of mtlrec.diagnostics columns for click, like and watch_time (a 2-expert MMoE)."""
    return pd.DataFrame(
        {
            "epoch": [1, 2],
            "click/weight": [1.0, 1.2],
            "like/weight": [1.0, 0.8],
            "watch_time/weight": [0.5, 0.25],
            "click/grad_norm": [0.2, 0.1],
            "like/grad_norm": [0.4, 0.3],
            "watch_time/grad_norm": [3.0, 2.0],
            "cos/click|like": [0.6, 0.4],
            "cos/click|watch_time": [-0.2, -0.5],
            "cos/like|watch_time": [0.1, 0.0],
            "gate/click/0": [0.5, 0.7],
            "gate/click/1": [0.5, 0.3],
            "gate/like/0": [0.4, 0.6],
            "gate/like/1": [0.6, 0.4],
            "gate/watch_time/0": [0.5, 0.1],
            "gate/watch_time/1": [0.5, 0.9],
        }
    )


def test_effective_weights_and_gradient_norms_draw_one_line_per_task_in_its_colour() -> None:
    history = diagnostics_history()
    colors = charts.task_colors(TASKS)
    for fig, suffix in ((charts.effective_weights(history, TASKS), "weight"),
                        (charts.gradient_norms(history, TASKS), "grad_norm")):  # fmt: skip
        assert [t.name for t in fig.data] == ["click", "like", "watch_time"]
        assert [t.line.color for t in fig.data] == list(colors.values())
        assert list(fig.data[2].x) == [1, 2] and list(fig.data[2].y) == history[f"watch_time/{suffix}"].tolist()
        assert fig.layout.xaxis.title.text == "epoch" and fig.layout.yaxis.title.text
    assert charts.gradient_norms(history, TASKS).layout.yaxis.type == "linear"  # 0.1 to 3: not two decades


def test_gradient_cosines_draw_one_line_per_pair_on_minus_one_to_one_with_the_conflict_band() -> None:
    fig = charts.gradient_cosines(diagnostics_history(), TASKS)
    assert [t.name for t in fig.data] == ["click ↔ like", "click ↔ watch_time", "like ↔ watch_time"]
    assert list(fig.data[1].y) == [-0.2, -0.5]
    assert tuple(fig.layout.yaxis.range) == (-1.05, 1.05)
    band, zero = fig.layout.shapes
    assert (band.y0, band.y1) == (-1.05, 0) and (zero.y0, zero.y1) == (0, 0)
    assert fig.layout.legend.title.text == "task pair"


def test_gradient_cosines_find_a_pair_written_in_the_other_order_and_explain_a_single_task() -> None:
    history = pd.DataFrame({"epoch": [1], "cos/like|click": [-0.3]})
    fig = charts.gradient_cosines(history, [CLICK, LIKE])
    assert [(t.name, list(t.y)) for t in fig.data] == [("click ↔ like", [-0.3])]
    assert "no pair of tasks" in notes(charts.gradient_cosines(history, [CLICK]))


def test_gate_heatmap_shows_the_last_epochs_gate_weights_per_task_and_expert() -> None:
    fig = charts.gate_heatmap(diagnostics_history(), TASKS)
    (heatmap,) = fig.data
    assert list(heatmap.y) == ["click", "like", "watch_time"] and list(heatmap.x) == ["expert 1", "expert 2"]
    assert np.asarray(heatmap.z).tolist() == [[0.7, 0.3], [0.6, 0.4], [0.1, 0.9]]
    assert np.asarray(heatmap.text).tolist() == [["0.70", "0.30"], ["0.60", "0.40"], ["0.10", "0.90"]]
    assert "epoch 2" in fig.layout.title.text
    # The run's best epoch, whose model was kept and scored (the cards' metrics), not the last one.
    best = charts.gate_heatmap(diagnostics_history(), TASKS, epoch=1)
    assert np.asarray(best.data[0].z).tolist()[0] == [0.5, 0.5] and "epoch 1" in best.layout.title.text


def test_gate_heatmap_names_ple_experts_shared_first_then_each_tasks_own() -> None:
    from mtlrec.config import ModelConfig

    history = pd.DataFrame(
        {"epoch": [1], "gate/click/0": [0.5], "gate/click/1": [0.5], "gate/like/0": [0.2], "gate/like/1": [0.8]}
    )
    fig = charts.gate_heatmap(history, [CLICK, LIKE], ModelConfig(kind="ple", experts=1, task_experts=1))
    (heatmap,) = fig.data
    assert list(heatmap.x) == ["shared 1", "click 1", "like 1"]
    z = np.asarray(heatmap.z, dtype=float)
    assert z[0].tolist()[:2] == [0.5, 0.5] and np.isnan(z[0, 2])
    assert np.isnan(z[1, 1]) and z[1, [0, 2]].tolist() == [0.2, 0.8]


def test_gate_heatmap_without_gates_says_only_mmoe_and_ple_have_them() -> None:
    fig = charts.gate_heatmap(history_frame(), TASKS)
    assert not fig.data and notes(fig) == "no gates: only MMoE and PLE have them"


def gain_table() -> pd.DataFrame:
    from mtlrec.gain import mtl_gain

    mtl = {"click": {"auc": 0.75, "logloss": 0.4}, "like": {"auc": 0.6}, "watch_time": {"rmse": 20.0}}
    single = {"click": {"auc": 0.70, "logloss": 0.5}, "like": {"auc": 0.64}, "watch_time": {"rmse": 25.0}}
    return mtl_gain(mtl, single, TASKS)


def test_mtl_gain_chart_has_one_bar_per_task_coloured_by_the_sign_of_its_relative_gain() -> None:
    fig = charts.mtl_gain_chart(gain_table(), TASKS)
    assert [(t.x[0], round(t.y[0], 4)) for t in fig.data] == [
        ("click", round(100 * 0.05 / 0.70, 4)),
        ("like", round(-100 * 0.04 / 0.64, 4)),
        ("watch_time", 20.0),
    ]
    assert [t.marker.color for t in fig.data] == ["#009E73", "#D55E00", "#009E73"]
    assert [t.name for t in fig.data if t.showlegend] == ["positive transfer", "negative transfer"]
    (zero,) = fig.layout.shapes
    assert (zero.y0, zero.y1) == (0, 0)
    # Each value beyond its whisker's end (it sat on the whisker: a browser walk)
    values = [a for a in fig.layout.annotations if a.name == "gain value"]
    assert [a.text for a in values] == [f"{100 * 0.05 / 0.70:+.2f}%", f"{-100 * 0.04 / 0.64:+.2f}%", "+20.00%"]
    for bar, label in zip(fig.data, values, strict=True):
        whisker = bar.error_y.array[0] if bar.error_y and bar.error_y.array is not None else 0.0
        assert abs(label.y) == pytest.approx(abs(bar.y[0]) + whisker) and (label.yanchor == "top") == (bar.y[0] < 0)


def test_mtl_gain_chart_leaves_an_untrained_task_out_with_a_note() -> None:
    table = gain_table()
    table.loc[table["task"] == "like", "transfer"] = "not trained (weight 0)"
    fig = charts.mtl_gain_chart(table, TASKS)
    assert [t.x[0] for t in fig.data] == ["click", "watch_time"]
    assert "like: not trained (loss weight 0)" in str(fig.layout)


ISSUE4_BUILDERS = {
    "effective_weights": lambda f: charts.effective_weights(f, TASKS),
    "gradient_norms": lambda f: charts.gradient_norms(f, TASKS),
    "gradient_cosines": lambda f: charts.gradient_cosines(f, TASKS),
    "gate_heatmap": lambda f: charts.gate_heatmap(f, TASKS),
    "mtl_gain_chart": lambda f: charts.mtl_gain_chart(f, TASKS),
}


@pytest.mark.parametrize("data", [EMPTY, NO_ROWS, NANS, ONE], ids=["empty", "no_rows", "nan", "one_row"])
@pytest.mark.parametrize("name", list(ISSUE4_BUILDERS))
def test_task_conflict_and_gain_charts_take_odd_inputs_without_raising(name: str, data: pd.DataFrame) -> None:
    before = data.copy()
    fig = ISSUE4_BUILDERS[name](data)
    assert isinstance(fig, go.Figure) and fig.layout.title.text and notes(fig)
    fig.to_json()
    pd.testing.assert_frame_equal(data, before)


def test_task_conflict_and_gain_charts_leave_colours_of_text_and_background_to_the_theme() -> None:
    figures = [builder(diagnostics_history()) for builder in ISSUE4_BUILDERS.values()]
    figures[-1] = charts.mtl_gain_chart(gain_table(), TASKS)
    for fig in figures:
        layout = fig.layout
        assert layout.paper_bgcolor is None and layout.plot_bgcolor is None
        assert layout.font.color is None and layout.title.font.color is None
        assert all(a.font.color is None for a in layout.annotations)


def test_architecture_diagram_has_one_tower_per_task_in_its_colour():
    fig = charts.architecture([TaskSpec("click"), TaskSpec("watch_time", "regression")])
    shapes = {shape.name: shape for shape in fig.layout.shapes}
    assert list(shapes) == ["features", "embeddings", "shared", "tower: click", "tower: watch_time"]
    colors = charts.task_colors(["click", "watch_time"])
    assert shapes["tower: click"].fillcolor == colors["click"]
    assert shapes["tower: watch_time"].fillcolor == colors["watch_time"]
    # The shared boxes span every tower; each tower sits above the shared layers.
    assert shapes["shared"].x0 <= shapes["tower: click"].x0 and shapes["tower: watch_time"].x1 <= shapes["shared"].x1
    assert all(shapes[f"tower: {t}"].y0 > shapes["shared"].y1 for t in ("click", "watch_time"))
    texts = [a.text for a in fig.layout.annotations]
    assert "<b>click</b>" in texts and "<b>watch_time</b>" in texts
    assert fig.layout.title.text.startswith("Shared-bottom")
    # Names in the text colour, and tower labels black or white by their fill (white on orange was about 2:1)
    by_text = {a.text: a for a in charts.architecture(["click", "like"]).layout.annotations}
    assert by_text["<b>like</b>"].font.color is None
    assert by_text["tower<br>like"].font.color == "black" and by_text["tower<br>click"].font.color == "white"
    assert [charts.text_on(c) for c in ("#000000", "#FFFFFF", "#F0E442")] == ["white", "black", "black"]


def test_run_names_on_the_axis_drop_their_common_start_and_keep_the_id_at_the_end():
    # Cut to 15 characters, every default name read "shared_bottom t…" and the id added to tell equal names apart
    # was cut off too.
    names = [
        "shared_bottom tiny · click=1, like=1.5, watch_time=1",
        "shared_bottom tiny · click=1, like=1, watch_time=1 (20261206-105158-3eceb4)",
    ]
    ticks = charts.tick_labels(names)
    assert ticks[0] == "…like=1.5,<br>watch_time=1"
    assert ticks[1].startswith("…like=1,") and ticks[1].endswith("3eceb4)") and ticks[1].count("<br>") <= 2
    assert charts.tick_labels(["balanced", "like heavy"]) == ["balanced", "like heavy"]


def test_learning_curves_mark_the_epoch_the_run_kept_when_training_went_on():
    # Early stopped after epoch 2 with epoch 1 best: the curves ended at epoch 2 and nothing said the cards show
    # epoch 1's model.
    tasks = [TaskSpec("click", "binary")]
    history = pd.DataFrame(
        {"epoch": [1, 2], "click/train_loss": [0.6, 0.5], "click/val_loss": [0.55, 0.58], "click/val_auc": [0.7, 0.66]}
    )
    for figure in (
        charts.learning_curves(history, tasks, best_epoch=1),
        charts.metric_curves(history, tasks, best_epoch=1),
    ):
        [line] = [s for s in figure.layout.shapes if s.type == "line"]
        assert (line.x0, line.x1) == (1, 1)
        assert any(a.text == "best epoch 1: the model kept" for a in figure.layout.annotations)
    assert not charts.learning_curves(history, tasks, best_epoch=2).layout.shapes  # the last epoch: nothing to mark


@pytest.mark.parametrize(
    ("low", "high"), [(19.50, 19.65), (0.7712, 0.7731), (1.2e9, 1.2003e9), (0.0, 1.0), (-0.051, -0.049)]
)
def test_parallel_weights_ticks_show_enough_digits_to_differ(low, high) -> None:
    table = pd.DataFrame({"click/weight": np.linspace(0, 1, 6), "gmv/rmse": np.linspace(low, high, 6)})

    fig = charts.parallel_weights(table, ["click/weight"], ["gmv/rmse"])

    weight, metric = fig.data[0].dimensions
    assert weight.tickformat == ".3~g"
    digits = int(metric.tickformat.strip(".~g"))
    for step in _d3_steps(high - low):  # ticks as d3 places them, every step that a tick count could choose
        ticks = np.arange(math.ceil(low / step), math.floor(high / step) + 1) * step
        shown = [f"{t:.{digits}g}" for t in ticks]
        assert len(set(shown)) == len(shown), (step, shown)


def _d3_steps(span: float) -> list[float]:
    """The tick steps d3 chooses over `span` for tick counts from 2 to 20 (1, 2 or 5 times a power of ten)."""
    steps = set()
    for count in range(2, 21):
        raw = span / count
        power = 10 ** math.floor(math.log10(raw))
        error = raw / power
        steps.add(power * (10 if error >= 50**0.5 else 5 if error >= 10**0.5 else 2 if error >= 2**0.5 else 1))
    return sorted(steps)


def test_task_colours_mean_tasks_only() -> None:
    # Task pairs were drawn in task colours (click ↔ purchase in like's orange) and the parameter groups in click's
    # blue and like's orange (an audit): a colour of the task palette must always mean that task.
    palette = set(charts.PALETTE)
    cosines = charts.gradient_cosines(diagnostics_history(), TASKS)
    pairs = [t for t in cosines.data if "↔" in t.name]
    # A pair's colours are its own tasks': the line its first task's, the markers its second's (six grey pairs
    # could not be told apart, a later browser walk)
    colors = charts.task_colors(TASKS)
    assert len(pairs) == 3
    for trace in pairs:
        a, b = trace.name.split(" ↔ ")
        assert (trace.line.color, trace.marker.color) == (colors[a], colors[b])
    assert len({(t.line.color, t.line.dash, t.marker.symbol) for t in pairs}) == 3  # told apart without colour
    rows = [{"size": "tiny", "embeddings": 100, "shared layers": 300, "task-specific": 600}]
    assert not {t.marker.color for t in charts.parameter_shares(rows).data} & palette
    shapes = {s.name: s.fillcolor for s in charts.architecture(["click", "like"]).layout.shapes}
    assert shapes["embeddings"] not in palette and shapes["shared"] not in palette
    points = pd.DataFrame(
        {"run_id": ["a", "b", "c"], "w_click": [1.0, 0.5, 0.0], "w_like": [0.0, 0.5, 1.0],
         "click_auc": [0.7, 0.68, 0.5], "like_auc": [0.45, 0.6, 0.66], "pareto": [True, True, True]}
    )  # fmt: skip
    references = pd.DataFrame({"run_id": ["r"], "label": ["DWA"], "click_auc": [0.69], "like_auc": [0.61]})
    front = charts.pareto_front(points, ["click_auc", "like_auc"], [True, True], references, ["w_click", "w_like"])
    drawn = {t.marker.color for t in front.data} | {t.line.color for t in front.data}
    assert not drawn & palette


def test_compare_metrics_keeps_the_run_axis_title_clear_of_the_next_rows_titles() -> None:
    # With 4 tasks (2 rows), the first row's "run" ran into the second row's subplot titles (an audit).
    tasks = {"click": "auc", "like": "auc", "revenue": "rmse", "watch_time": "rmse"}
    runs = {f"run {i}": {t: {m: 0.5 + i / 10} for t, m in tasks.items()} for i in range(3)}
    layout = charts.compare_metrics(runs, tasks).layout
    titles = {name: layout[name].title.text for name in ("xaxis", "xaxis2", "xaxis3", "xaxis4")}
    assert titles == {"xaxis": None, "xaxis2": "run", "xaxis3": "run", "xaxis4": "run"}  # none above another chart
    # Rows apart by at least a third of a row's height: room for three lines of run names and a subplot title.
    gap = layout.yaxis.domain[0] - layout.yaxis4.domain[1]
    assert gap >= 0.25 and layout.height >= 700
    assert layout.xaxis5.visible is False and layout.xaxis6.visible is False  # the empty cells draw no axes


def test_epoch_charts_start_at_epoch_1_and_put_the_best_epoch_note_above_the_plot_area() -> None:
    # The x axis started at an empty epoch 0, and the note was drawn inside the plot, across a curve (an audit).
    tasks = [TaskSpec("click", "binary")]
    history = pd.DataFrame(
        {"epoch": [1, 2, 3], "click/train_loss": [0.6, 0.5, 0.45], "click/val_loss": [0.55, 0.5, 0.58],
         "click/val_auc": [0.7, 0.72, 0.71]}
    )  # fmt: skip
    for figure in (
        charts.learning_curves(history, tasks, best_epoch=2),
        charts.metric_curves(history, tasks, best_epoch=2),
    ):
        low, high = figure.layout.xaxis.range
        assert 0.5 < low < 1 and 3 < high < 3.5
        [note] = [a for a in figure.layout.annotations if a.name == "best epoch"]
        assert (note.yref, note.y, note.yanchor) == ("paper", 1, "bottom")  # above the plot area
        assert figure.layout.margin.t >= 78
    assert charts.learning_curves(history, tasks).layout.xaxis.range[0] > 0.5  # no best epoch marked: the same axis
    assert note.xanchor == "center"
    # The best epoch at the axis' start: a centred note ran over the y axis' tick labels (a browser check).
    [first] = [a for a in charts.learning_curves(history, tasks, best_epoch=1).layout.annotations
               if a.name == "best epoch"]  # fmt: skip
    assert first.xanchor == "left"


def test_ternary_tick_labels_stand_clear_of_points_on_the_edges() -> None:
    points = pd.DataFrame(
        {"run_id": ["a", "b", "c"], "w_click": [1.0, 0.0, 0.0], "w_like": [0.0, 1.0, 0.0],
         "w_purchase": [0.0, 0.0, 1.0], "click_auc": [0.7, 0.5, 0.5], "pareto": [True, True, True]}
    )  # fmt: skip
    fig = charts.ternary_weights(
        points, ["click", "like", "purchase"], ["w_click", "w_like", "w_purchase"], "click_auc", True
    )
    for axis in ("aaxis", "baxis", "caxis"):
        spec = fig.layout.ternary[axis]
        assert spec.ticks == "outside" and spec.ticklen >= 12  # beyond the rings' 10 px radius
    assert fig.layout.margin.l >= 80 and fig.layout.margin.r >= 80 and fig.layout.margin.b >= 60
    # One coloured point: a scale around its value, where Plotly's ran 0.3-1.2 for an AUC (a browser walk)
    one = charts.ternary_weights(
        points.assign(click_auc=[0.75, 0.5, 0.5], w_click=[1.0, 0.0, 0.0]), ["click", "like", "purchase"],
        ["w_click", "w_like", "w_purchase"], "click_auc", True, weight="w_click",
    )  # fmt: skip
    assert (one.data[0].marker.cmin, one.data[0].marker.cmax) == pytest.approx((0.7425, 0.7575))
    # the top corner's axis title under the notes, which it overlapped at the plot's top (a browser walk)
    assert tuple(fig.layout.ternary.domain.y) == (0, charts.TERNARY_TOP) and charts.TERNARY_TOP <= 0.9


def test_tick_labels_show_where_long_names_differ():
    # Two names differing only in their middle (purchase=3 against purchase=1) kept the same start and end, and
    # the Runs chart's ticks could not tell them apart (an audit).
    a = "shared_bottom tiny · click=1, like=1, purchase=3, watch_time=1 · a long experiment"
    b = a.replace("purchase=3", "purchase=1")

    shown = charts.tick_labels([a, b, "my renamed run"])

    assert "purchase=3" in shown[0].replace("<br>", " ") and "purchase=1" in shown[1].replace("<br>", " ")
    assert shown[2] == "my renamed run"


def test_every_chart_by_epoch_ticks_whole_epochs():
    # A 2-epoch run's diagnostics and Runs' overlaid curves ticked 1, 1.2, 1.4… (a browser check).
    tasks = [TaskSpec("click", "binary"), TaskSpec("like", "binary")]
    history = pd.DataFrame(
        {"epoch": [1, 2], "click/weight": [1.0, 1.0], "like/weight": [1.0, 1.0], "click/grad_norm": [0.3, 0.2],
         "like/grad_norm": [0.1, 0.1], "cos/click|like": [0.2, -0.1], "click/val_auc": [0.6, 0.65]}
    )  # fmt: skip
    for figure in (
        charts.effective_weights(history, tasks),
        charts.gradient_norms(history, tasks),
        charts.gradient_cosines(history, tasks),
        charts.overlay_curves({"a": history, "b": history}, tasks[0], "val_auc"),
    ):
        assert (figure.layout.xaxis.tick0, figure.layout.xaxis.dtick) == (1, 1)


def test_weight_metric_curves_mean_one_nominal_weight_however_its_share_was_rounded() -> None:
    # A sweep's runs keep weights to 10 decimals and the table wrote their shares unrounded: 1/3 came out as
    # 0.3333333333 and 0.3333333333333333, and the mean line had two points at one weight, each a wrong mean.
    points = pd.DataFrame(
        {"w_click": [0.3333333333, 0.3333333333333333, 0.3333333333, 1.0], "click_auc": [0.70, 0.72, 0.74, 0.80]}
    )
    fig = charts.weight_metric_curves(points, [CLICK], ["w_click"], ["click_auc"], [True])
    mean = next(trace for trace in fig.data if trace.name == "click mean")
    assert len(mean.x) == 2 and mean.y[0] == pytest.approx(0.72)


def test_the_pareto_chart_says_which_points_it_left_out_without_metrics() -> None:
    # An interrupted point was explained as "a run that failed or ended before its first epoch" (a fault audit).
    points = pd.DataFrame(
        {"run_id": ["a", "b", "c"], "status": ["finished", "interrupted", "finished"], "w_click": [1.0, 0.5, 0.0],
         "w_like": [0.0, 0.5, 1.0], "click_auc": [0.7, None, 0.5], "like_auc": [0.45, None, 0.66],
         "pareto": [True, False, True]}
    )  # fmt: skip

    figure = charts.pareto_front(points, ["click_auc", "like_auc"], [True, True], None, ["w_click", "w_like"])

    text = " ".join(a.text for a in figure.layout.annotations)
    assert "1 point(s) without these metrics left out (1 interrupted): a run that failed, was interrupted" in text


def test_untrained_ends_of_a_sweep_sit_at_the_axis_edge_instead_of_stretching_it() -> None:
    # The weight-0 ends (untrained towers, AUC 0.36 and 0.32) stretched both axes to 0.29-0.80, and the nine
    # trained points and five references sat in one corner (a teaching audit).
    points = pd.DataFrame(
        {"run_id": list("abcde"), "w_click": [1.0, 0.75, 0.5, 0.25, 0.0], "w_like": [0.0, 0.25, 0.5, 0.75, 1.0],
         "click_auc": [0.78, 0.775, 0.77, 0.765, 0.36], "like_auc": [0.32, 0.75, 0.755, 0.76, 0.765],
         "pareto": [True, True, True, True, True]}
    )  # fmt: skip
    references = pd.DataFrame({"run_id": ["r"], "label": ["DWA"], "click_auc": [0.772], "like_auc": [0.758]})
    front = charts.pareto_front(points, ["click_auc", "like_auc"], [True, True], references, ["w_click", "w_like"])

    low, high = front.layout.xaxis.range
    assert 0.75 < low < 0.765 and 0.78 < high < 0.79  # the trained points' span (0.765-0.78), padded by 8%
    assert front.layout.yaxis.range[0] > 0.74
    line, plain, moved = [t for t in front.data if t.name == "Pareto front"]
    assert line.mode == "lines" and list(line.x)[0] == low  # the line runs to the edge
    assert plain.marker.symbol == "circle" and sorted(plain.customdata[:, 0]) == ["b", "c", "d"]
    assert plain.showlegend is not True and line.showlegend  # the legend: a line, not an arrow
    at_edge = {
        run: (x, y, symbol)
        for run, x, y, symbol in zip(moved.customdata[:, 0], moved.x, moved.y, moved.marker.symbol, strict=True)
    }
    assert at_edge["e"][0] == low and at_edge["e"][2] == "triangle-left"  # click untrained: its AUC lies left
    assert at_edge["a"][1] == front.layout.yaxis.range[0] and at_edge["a"][2] == "triangle-down"
    assert float(moved.customdata[list(moved.customdata[:, 0]).index("e"), 3]) == 0.36  # the hover's true value
    assert "sit at the edge of its axis (click_auc, like_auc)" in front.layout.annotations[0].text.replace("<br>", " ")

    curves = charts.weight_metric_curves(points, ["click", "like"], ["w_click", "w_like"], ["click_auc", "like_auc"],
                                         [True, True], references)  # fmt: skip
    clicks = [t for t in curves.data if t.name == "click" and t.mode == "markers"]
    assert [t.marker.symbol for t in clicks] == ["circle", ("triangle-down",)]  # the untrained end apart
    assert list(clicks[1].y) == [curves.layout.yaxis.range[0]] and list(clicks[1].customdata) == [0.36]

    trained_only = points.assign(click_auc=[0.78, 0.775, 0.77, 0.765, 0.77], like_auc=[0.755, 0.75, 0.755, 0.76, 0.765])
    plain = charts.pareto_front(
        trained_only, ["click_auc", "like_auc"], [True, True], references, ["w_click", "w_like"]
    )
    assert plain.layout.xaxis.range is None and plain.layout.yaxis.range is None  # nothing off-scale: autorange


def test_a_weight_metric_curve_starts_at_the_first_trained_weight_and_the_legend_names_the_references():
    # Its line ran down to the edge marker of the untrained end (weight 0), drawn at the clamped axis edge: the
    # steepest segment of the chart was an artefact (a browser walk).
    points = pd.DataFrame({
        "run_id": list("abcd"), "w_click": [0.0, 0.25, 0.5, 1.0], "w_like": [1.0, 0.75, 0.5, 0.0],
        "click_auc": [0.62, 0.72, 0.73, 0.735], "like_auc": [0.76, 0.75, 0.74, 0.40],
    })  # fmt: skip
    references = pd.DataFrame({"reference": ["single-task models"], "click_auc": [0.734], "like_auc": [0.76]})
    fig = charts.weight_metric_curves(
        points, ["click", "like"], ["w_click", "w_like"], ["click_auc", "like_auc"], [True, True], references
    )
    lines = {t.name: t for t in fig.data if t.mode == "lines" and t.name.endswith(" mean")}
    assert list(lines["click mean"].x) == [0.25, 0.5, 1.0] and list(lines["like mean"].x) == [0.5, 0.75, 1.0]
    assert fig.layout.legend.title.text == "task and reference"


def test_a_ternary_plot_greys_the_points_that_did_not_train_the_coloured_task():
    # "Coloured by click AUC" ran from 0.38 to 0.73 with the untrained points in it: the trained ones were all one
    # yellow (a browser walk).
    points = pd.DataFrame({
        "run_id": list("abcd"), "w_click": [0.0, 0.5, 0.25, 0.0], "w_like": [0.5, 0.25, 0.5, 1.0],
        "w_purchase": [0.5, 0.25, 0.25, 0.0], "click_auc": [0.38, 0.73, 0.72, 0.41], "pareto": [False] * 4,
    })  # fmt: skip
    fig = charts.ternary_weights(
        points, ["click", "like", "purchase"], ["w_click", "w_like", "w_purchase"], "click_auc", True, None, "w_click"
    )
    coloured, idle = fig.data[0], fig.data[1]
    assert list(coloured.marker.color) == [0.73, 0.72] and idle.name == "not trained (weight 0)"
    assert list(idle.customdata[:, 1].astype(float)) == [0.38, 0.41]
    assert "x: the task was not trained there (weight 0)" in fig.layout.annotations[0].text


def test_a_long_chart_note_wraps_at_spaces_and_the_top_margin_grows_with_its_lines():
    # A three-task sweep's note ran off a half-page chart, ending "…hover f" (a browser walk)
    note = "points where a task is untrained " * 8
    fig = charts._layout(go.Figure(), "title", None, None, notes=[note.strip(), "short"])
    text = fig.layout.annotations[0].text
    lines = text.split("<br>")
    assert (
        all(len(line) <= charts.NOTE_WIDTH for line in lines) and text.replace("<br>", " ") == f"{note.strip()} short"
    )
    assert fig.layout.margin.t == 60 + 18 * len(lines)


def test_a_note_keeps_its_own_line_breaks_and_its_tags_whole_when_wrapped():
    # Wrapping broke inside <span style='color: red'> and ran a note's own <br> into the line count (a diff review)
    tag = "<span style='color: red'>"
    note = f"first line<br>{tag}coloured</span> " + "word " * 40 + "<BR/>last"
    text = charts._wrapped(note.strip(), width=30)
    lines = text.split("<br>")
    assert lines[0] == "first line" and lines[-1] == "last"
    assert lines[1].startswith(f"{tag}coloured</span> word")  # the tag whole, not counted: 30 visible characters
    # 'coloured' and 4 words (28 characters; a fifth makes 33), then 6 words a line (29)
    assert [len(charts._TAG.sub("", line)) for line in lines[1:-1]] == [28] + [29] * 6
    assert " ".join(lines[1:-1]) == f"{tag}coloured</span> " + " ".join(["word"] * 40)
    # A plain < and > are text, counted and wrapped (a note 'p < 0.05 … x > 1' ran on as one line)
    plain = charts._wrapped("p < 0.05 " + "word " * 30 + "x > 1", width=40)
    assert all(len(line) <= 40 for line in plain.split("<br>")) and plain.count("<br>") >= 3
