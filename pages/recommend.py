"""Recommend page: one user's history and top-K items, re-ranked at once by per-task fusion weights."""

from ui.frame import end_page, guard

guard("recommend")

import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import quote, unquote  # noqa: E402

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from mtlrec import charts, fmt, sample  # noqa: E402
from mtlrec.config import RecommendColumns, TaskSpec, chain_label, chance_name, funnel_chain  # noqa: E402
from mtlrec.data import Prepared  # noqa: E402
from mtlrec.errors import MtlrecError  # noqa: E402
from mtlrec.recommend import (  # noqa: E402
    Recommender,
    chain_formula,
    default_fusion,
    fuse,
    spread,
    with_joint,
)
from mtlrec.schema import negative_feedback, readable_times  # noqa: E402
from mtlrec.share import link_flag  # noqa: E402
from ui import runs, state  # noqa: E402

USER = "recommend_user"
LISTED = 1000  # users the select box lists, most active first; others are typed (100,000 options: 13 s a pick)
TYPED = "recommend_user_typed"
TYPED_PROBLEM = "recommend_user_typed_problem"
LINKED_PROBLEM = "recommend_user_linked_problem"  # (run, user shown instead, why): a link's user not in the data
K = "recommend_k"
K_RANGE = (5, 50)
DEFAULT_K = 10
USER_PARAM = "user"  # the user shown, in the address (with the run: ui.runs.RUN_PARAM), for a reload or a link
USER_WRITTEN = "recommend_user_written"  # the user this session last wrote into the address
EXCLUDE_SEEN = "recommend_exclude_seen"
EQUAL_SPREAD = "recommend_equal_spread"
JOINT = "recommend_joint"  # tasks logged under another (a purchase after clicks) ranked by the chance of both
FUSION = "recommend_fusion_"  # + task name
FUSION_RUN = "recommend_fusion_run"  # the run the fusion weights were set for
SCORES = "recommend_scores"  # {"run", "user", "scores", "correlations", "truth_problem"}: once per (run, user)
SAVED = "recommend_saved"  # widget values kept while another page is shown (Streamlit drops them)
# The ranking settings that differ from the defaults, in the address beside the run and the user, so that a reload or
# a shared link shows the same ranking (only those two were kept: the ranking silently reverted, an audit found).
K_PARAM, HIDE_SEEN_PARAM, EQUAL_SPREAD_PARAM, FUSION_PARAM = "k", "hide_seen", "equal_spread", "fusion"
JOINT_PARAM = "joint"
RANKING_PARAMS = (K_PARAM, HIDE_SEEN_PARAM, EQUAL_SPREAD_PARAM, JOINT_PARAM, FUSION_PARAM)
RANKING_WRITTEN = "recommend_ranking_written"  # the ranking addresses this session wrote lately (see linked_ranking)
RANKING_WRITTEN_KEPT = 32
WEIGHT_RANGE = (-5.0, 5.0)
TRUTH_OF = {**sample.BINARY_TRUTH, "watch_time": "e_watch_time"}  # task -> the synthetic world's truth column


def remember(key: str) -> None:
    st.session_state[SAVED][key] = st.session_state[key]


def kept(key: str, default) -> dict:
    """Widget keyword arguments (key, on_change) that keep its value while another page is shown."""
    saved = st.session_state.setdefault(SAVED, {})
    if key not in st.session_state:
        st.session_state[key] = saved.get(key, default)
    return {"key": key, "on_change": remember, "args": (key,)}


def not_in_data(user: str) -> str:
    return f"user '{fmt.md(user)}' is not in the run's data"


def choose_user(users: list, run_id: str) -> None:
    """Keep the chosen user when it belongs to this run's data; a user in the address that this session did not
    write there (a link, a reload, the browser's Back) comes first. Otherwise the most active one (a user in the
    address that is not in the data is named, as a typed one is)."""
    current = st.session_state.get(USER, st.session_state.setdefault(SAVED, {}).get(USER))
    linked = st.query_params.get(USER_PARAM)
    if linked is not None and (current is None or linked != st.session_state.get(USER_WRITTEN)):
        current = next((u for u in users if str(u) == linked), None)  # ids may be numbers: matched as text
        if current is None:
            why = f"{not_in_data(linked)} (the link's user), so the most active user is shown instead"
            st.session_state[LINKED_PROBLEM] = (run_id, users[0], why)
    st.session_state[USER] = current if current in users else users[0]


def linked_problem(run_id: str, user) -> str | None:
    """Why the link's user is not shown, while the user shown in its place is still shown for that run."""
    problem = st.session_state.get(LINKED_PROBLEM)
    if problem is not None and problem[:2] == (run_id, user):
        return problem[2]
    st.session_state.pop(LINKED_PROBLEM, None)
    return None


def type_user(users: list) -> None:
    """The user typed in the text box (matched as text: ids may be numbers), or why there is none."""
    typed = str(st.session_state.get(TYPED) or "").strip()
    match = next((u for u in users if str(u) == typed), None) if typed else None
    problem = f"{not_in_data(typed)}: type an id of its user column exactly"
    st.session_state[TYPED_PROBLEM] = problem if typed and match is None else None
    if match is not None:
        st.session_state[USER] = st.session_state[SAVED][USER] = match


def pick_random_user(users: list) -> None:
    st.session_state[USER] = st.session_state[SAVED][USER] = random.choice(users)


@st.cache_resource(show_spinner=False, max_entries=4)  # a few worlds at once: the bundled one, generated ones
def synthetic_world(spec_path: str, modified: float) -> sample.SyntheticWorld:
    """A synthetic world (the bundled sample's or one generated on Home), rebuilt from its spec (shared: it is data,
    not a user's model)."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    return sample.SyntheticWorld(sample.SyntheticSpec(**spec))


def with_truth(
    recommender: Recommender, user, scores: pd.DataFrame, tasks: list[TaskSpec], spec_path: Path
) -> pd.DataFrame:
    """The scores with a "true <column>" per task the synthetic world knows (raises MtlrecError, OSError...)."""
    world = synthetic_world(str(spec_path), spec_path.stat().st_mtime)
    truth = world.truth(recommender.candidate_rows(user))
    known = {t.name: TRUTH_OF[t.name] for t in tasks if t.name in TRUTH_OF}
    return scores.assign(**{f"true {column}": truth[column].to_numpy() for column in known.values()})


def correlations(scores: pd.DataFrame, tasks: list[TaskSpec]) -> dict[str, tuple[float, float]]:
    """(Spearman, Pearson) between each task's prediction and its truth over all of the user's candidates."""
    result, own = {}, RecommendColumns.around(tasks)
    for task in tasks:
        true = f"true {TRUTH_OF.get(task.name)}"
        if true in scores:
            predicted = scores[task.name if task.type == "binary" else own.values[task.name]]
            pearson = predicted.corr(scores[true])
            spearman = predicted.rank().corr(scores[true].rank())
            result[task.name] = (spearman, pearson)
    return result


def scores_of(recommender: Recommender, run_id: str, user, config) -> dict:
    """Per-task scores for all of the user's candidates, computed once per (run, user) and kept in the session."""
    entry = st.session_state.get(SCORES)
    if entry and entry["run"] == run_id and entry["user"] == user:
        return entry
    with st.spinner("Scoring every item for this user…"):
        scores = recommender.score(user)
    entry = {"run": run_id, "user": user, "scores": scores, "correlations": {}, "truth_problem": None}
    spec_path = sample.world_spec_path(config.data.path)
    if spec_path is not None:
        try:
            entry["scores"] = with_truth(recommender, user, scores, config.tasks, spec_path)
            entry["correlations"] = correlations(entry["scores"], config.tasks)
        except MtlrecError as exc:
            entry["truth_problem"] = exc.message
        except (OSError, ValueError, TypeError) as exc:  # spec file missing or unreadable
            entry["truth_problem"] = f"the sample's spec (synthetic.json) cannot be read ({exc})"
    st.session_state[SCORES] = entry
    return entry


def show_history(recommender: Recommender, user, tasks: list[TaskSpec]) -> None:
    history = recommender.history(user)
    # Cards that wrap onto more rows when narrow: in one column each, at 800 px they read "Intera… 5…".
    with st.container(horizontal=True):
        st.metric("Interactions", fmt.count(len(history)), border=True, width="content")
        for task in tasks:
            labels = pd.to_numeric(history[task.name], errors="coerce")
            if task.type == "binary":
                value, label = fmt.count(int((labels == 1).sum())), f"{fmt.md(task.name)} positives"
            else:
                value, label = fmt.metric(labels.mean(), 2), f"{fmt.md(task.name)} mean"
            st.metric(label, value, border=True, width="content")
    time_col = recommender.config.data.time_col
    column_config = {recommender.item_col: "item"}
    if time_col in history:
        history[time_col] = readable_times(history[time_col])
        if pd.api.types.is_datetime64_any_dtype(history[time_col]):
            column_config[time_col] = st.column_config.DatetimeColumn("time", format="YYYY-MM-DD HH:mm")
    st.dataframe(history, column_config=column_config, hide_index=True, height=250)


def top_table(
    top: pd.DataFrame,
    tasks: list[TaskSpec],
    exclude_seen: bool,
    equal_spread: bool = False,
    joint: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """The top-K columns in reading order (prediction, then its truth where known) and their formats. `joint`: the
    tasks shown as the chance of both (Recommender.joint, when *Chance of both* is on)."""
    joint = joint or {}
    own = RecommendColumns.around(tasks)
    columns = [own.rank, own.item] + ([] if exclude_seen else [own.seen])
    config = {
        own.rank: st.column_config.NumberColumn("#", width="small"),
        own.item: st.column_config.Column("item"),
        own.seen: st.column_config.CheckboxColumn("seen", help="The user already has a row with this item"),
    }
    for task in tasks:
        true = f"true {TRUTH_OF.get(task.name)}"
        if task.type == "binary":
            columns.append(task.name)
            chain = funnel_chain(task.name, joint)  # a longer funnel: click × like × purchase
            config[task.name] = st.column_config.ProgressColumn(
                " × ".join(chain),
                format="%.3f",
                min_value=0.0,
                max_value=1.0,
                help=f"Predicted {chance_words(chain)}: {chain_formula(task.name, joint)}"
                if len(chain) > 1
                else f"Predicted probability of {task.name}",
                width=90,
            )
            if true in top:
                columns.append(true)
                config[true] = st.column_config.ProgressColumn(
                    true,
                    format="%.3f",
                    min_value=0.0,
                    max_value=1.0,
                    help="The synthetic world's true probability",
                    width=90,
                )
        else:
            value = own.values[task.name]
            columns += [task.name, value]
            config[task.name] = st.column_config.NumberColumn(
                f"{task.name} (z)",
                format="%+.2f",
                help="Standardised prediction: the score its fusion weight multiplies",
            )
            mean_of_logs = " (trained on log1p: a typical value, below the mean)" if task.log1p else ""
            config[value] = st.column_config.NumberColumn(
                task.name, format="%.2f", help=f"Predicted value on the label's own scale{mean_of_logs}"
            )
            if true in top:
                columns.append(true)
                config[true] = st.column_config.NumberColumn(
                    true, format="%.2f", help="The synthetic world's true expected value"
                )
    columns.append(own.fused)
    config[own.fused] = st.column_config.NumberColumn(
        "fused score",
        format="%.3f",
        help="Σ weight × task score"
        + (" (each task's scores as z-scores over the candidates)" if equal_spread else ""),
    )
    return top[columns], config


def chance_words(chain: list[str]) -> str:
    """'chance of both click and purchase', or of 'click, like and purchase all happening' down a longer funnel."""
    if len(chain) == 2:
        return f"chance of both {chain[0]} and {chain[1]}"
    return f"chance of {', '.join(chain[:-1])} and {chain[-1]} all happening"


def fusion_help(task: TaskSpec, untrained_tasks: set[str], joint: dict[str, str] | None = None) -> str:
    """A fusion slider's help; `joint`: {task: the task it is logged under} for those ranked by the chance of both."""
    joint = joint or {}
    untrained = (
        " It was trained with loss weight 0 (evaluated only): its tower never learned, so its weight starts at 0."
        if task.name in untrained_tasks
        else " Negative feedback: its weight starts at -1, so that items likely to get it rank lower."
        if negative_feedback(task.name)
        else " Below 0, items likely to get it rank lower."
    )
    if task.type == "binary" and task.name in joint:
        chain = [fmt.md(name) for name in funnel_chain(task.name, joint)]
        return (
            f"Weight of the predicted {chance_words(chain)} (0 to 1), {fmt.md(chain_formula(task.name, joint))}, in "
            f"the ranking score.{untrained}"
        )
    if task.type == "binary":
        return f"Weight of the predicted probability of {fmt.md(task.name)} (0 to 1) in the ranking score.{untrained}"
    scale = "log1p of the label" if task.log1p else "the label"
    return (
        f"Weight of the standardised prediction of {fmt.md(task.name)}: {scale} in standard deviations from its training "
        f"mean. Its spread over the items is usually wider than a probability's (see the spreads below, or turn on "
        f"*Equal spread*).{untrained}"
    )


def fusion_for(run_id: str, tasks: list[TaskSpec], untrained: set[str]) -> None:
    """Fusion weights start from the run's own defaults when another run is shown (kept while it stays shown):
    carried over by task name, a task trained with loss weight 0 kept the weight 1 of the run before, and a
    trained task the 0 of an untrained one."""
    if st.session_state.get(FUSION_RUN) == run_id:
        return
    saved = st.session_state.setdefault(SAVED, {})
    for name, weight in default_fusion(tasks, untrained).items():
        st.session_state[FUSION + name] = saved[FUSION + name] = weight
    st.session_state[FUSION_RUN] = run_id


def ranking_query(
    k: int,
    exclude_seen: bool,
    equal_spread: bool,
    fusion: dict[str, float],
    start_at: dict[str, float],
    joint: bool = True,
) -> dict[str, str]:
    """The ranking settings that differ from their defaults as query parameters (fusion=like:5,click:0.5: the
    weights that differ from the run's own defaults, names quoted)."""
    query = {}
    if k != DEFAULT_K:
        query[K_PARAM] = str(k)
    if not exclude_seen:
        query[HIDE_SEEN_PARAM] = "0"
    if equal_spread:
        query[EQUAL_SPREAD_PARAM] = "1"
    if not joint:
        query[JOINT_PARAM] = "0"
    moved = [f"{quote(name, safe='')}:{weight:g}" for name, weight in fusion.items() if weight != start_at[name]]
    if moved:
        query[FUSION_PARAM] = ",".join(moved)
    return query


def mirror_ranking(query: dict[str, str]) -> None:
    """Keep the address in step with the ranking settings (and remember it as this session's own: see
    linked_ranking)."""
    for param in RANKING_PARAMS:
        if param not in query:
            if param in st.query_params:
                del st.query_params[param]
        elif st.query_params.get(param) != query[param]:
            st.query_params[param] = query[param]
    own = st.session_state.setdefault(RANKING_WRITTEN, [])
    signature = str(sorted(query.items()))
    if signature in own:
        own.remove(signature)
    own.append(signature)
    del own[:-RANKING_WRITTEN_KEPT]


def _link_flag(param: str, raw: str, problems: list[str]) -> bool | None:
    """share.link_flag's reading of a checkbox in the address, None with a warning for a value it refuses."""
    try:
        return link_flag(raw)
    except ValueError:
        problems.append(f"link setting {param}={raw!r} is not 0 or 1; ignored")
        return None


def linked_ranking(tasks: list[TaskSpec], untrained: set[str]) -> None:
    """The ranking settings of a link or a reload (the address's, when this session did not write them there: a
    rerun asked for before the browser got the address the page wrote last may carry an older one of its own). A
    value the controls cannot take is skipped with a warning, as on Train."""
    params = {p: st.query_params[p] for p in RANKING_PARAMS if p in st.query_params}
    if not params or str(sorted(params.items())) in st.session_state.get(RANKING_WRITTEN, []):
        return
    saved, problems = st.session_state.setdefault(SAVED, {}), []
    values = {K: DEFAULT_K, EXCLUDE_SEEN: True, EQUAL_SPREAD: False, JOINT: True}
    values.update({FUSION + name: weight for name, weight in default_fusion(tasks, untrained).items()})
    if K_PARAM in params:
        raw = params[K_PARAM]
        if re.fullmatch(r"[0-9]{1,4}", raw) and K_RANGE[0] <= int(raw) <= K_RANGE[1]:  # not '²' (isdigit's)
            values[K] = int(raw)
        else:
            problems.append(f"link setting k={raw!r} is not a whole number from {K_RANGE[0]} to {K_RANGE[1]}; ignored")
    for param, key in ((HIDE_SEEN_PARAM, EXCLUDE_SEEN), (EQUAL_SPREAD_PARAM, EQUAL_SPREAD), (JOINT_PARAM, JOINT)):
        if param in params and (flag := _link_flag(param, params[param], problems)) is not None:
            values[key] = flag
    names, given = [t.name for t in tasks], set()
    for part in (p for p in params.get(FUSION_PARAM, "").split(",") if p):
        if ":" not in part:  # 'click': a task without its weight (it was "no task ''")
            problems.append(f"link fusion weight {part!r} has no weight: write it as {part}:2; ignored")
            continue
        name, _, raw = part.rpartition(":")
        name = unquote(name)
        if name in given:
            problems.append(f"link fusion weight {part!r}: task '{name}' is given twice; the first one kept")
            continue
        given.add(name)
        try:
            weight = float(raw)
        except ValueError:
            weight = None
        if name not in names:
            problems.append(
                f"link fusion weight {part!r}: this run has no task '{name}' (its tasks: {', '.join(names)}); ignored"
            )
        elif weight is None or not WEIGHT_RANGE[0] <= weight <= WEIGHT_RANGE[1]:
            problems.append(
                f"link fusion weight {part!r} is not a weight from -5 to 5 such as {quote(name, safe='')}:2; ignored"
            )
        else:
            values[FUSION + name] = round(weight, 1)  # the sliders' step
    for key, value in values.items():
        st.session_state[key] = saved[key] = value
    for problem in problems:
        st.warning(fmt.plain(problem))


GONE = "recommend_run_gone"  # the run found deleted while its ranking was shown (the page was rerun for it once)


@st.fragment
def ranking(scores: pd.DataFrame, tasks: list[TaskSpec], untrained: set[str], logged_under: dict[str, str]) -> None:
    """Controls and results together: moving a slider reruns this part only, and never the model. `logged_under`:
    Recommender.joint, the tasks that *Chance of both* ranks by the chance of both."""
    try:  # deleted in another tab: a slider here rescored it from memory until a full rerun (a browser walk)
        state.store().get(run_id)
    except MtlrecError as exc:
        if st.session_state.get(GONE) != run_id:  # once: the whole page then says it is gone and shows another run
            st.session_state[GONE] = run_id
            st.rerun(scope="app")
        st.info(f"{fmt.plain(exc.message)}: choose another run above.")
        return
    # Rows of controls of a readable width that wrap when the page is narrow, above the chart: beside it, in a
    # quarter of the page, they were 110 px wide at 800 px (the toggles read "H…" and "E…", the chart was cut).
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        k = st.slider("How many items (K)", *K_RANGE, width=CONTROL_WIDTH, **kept(K, DEFAULT_K))
        exclude_seen = st.toggle(
            "Hide seen items",
            help="Leave out items this user already interacted with",
            width="content",
            **kept(EXCLUDE_SEEN, True),
        )
        equal_spread = st.toggle(
            "Equal spread",
            help="Standardise each task's scores over this user's candidates before weighting (z-scores), so that "
            "equal weights move the order equally. Off: probabilities and standardised predictions as predicted, "
            "where a rare task's probabilities vary far less from item to item and barely move the order.",
            width="content",
            **kept(EQUAL_SPREAD, False),
        )
        both = logged_under and st.toggle(
            "Chance of both",
            help=joint_help(logged_under),
            width="content",
            **kept(JOINT, True),
        )
    joint = logged_under if both else {}
    scores = with_joint(scores, joint)  # the table, the spreads and the fused score all read these
    for note in recommender.condition_notes(bool(both)):
        st.caption(f"Note: {fmt.plain(note)}.")
    st.markdown("**Fusion weights**")
    st.caption("Ranking score = Σ weight × task score. No retraining: the same predictions, re-weighted.")
    start_at = default_fusion(tasks, untrained)
    with st.container(horizontal=True, gap="medium"):
        fusion = {
            t.name: st.slider(
                fmt.md(t.name),
                *WEIGHT_RANGE,
                step=0.1,
                help=fusion_help(t, untrained, joint),
                width=CONTROL_WIDTH,
                **kept(FUSION + t.name, start_at[t.name]),
            )
            for t in tasks
        }
    mirror_ranking(ranking_query(k, exclude_seen, equal_spread, fusion, start_at, bool(both) or not logged_under))
    start = time.perf_counter()
    top = fuse(scores, fusion, k, exclude_seen, RecommendColumns.around(tasks), equal_spread)
    elapsed = time.perf_counter() - start
    if caption := spread_caption(scores, fusion, equal_spread):
        st.caption(caption)
    if top.empty:
        st.info("This user has seen every item: turn off *Hide seen items*.")
        return
    if not any(fusion.values()):
        st.warning("Every fusion weight is 0, so the order is arbitrary: raise at least one weight.")
    bars = st.empty()  # filled last: the table below reaches the browser first (plotting takes longer)
    table, column_config = top_table(top, tasks, exclude_seen, equal_spread, joint)
    st.dataframe(table, column_config=column_config, hide_index=True, placeholder="–")
    short = (
        f" This user has {len(top):,} items to rank, fewer than K = {k}: the list holds them all."
        if len(top) < k
        else ""
    )
    st.caption(f"Re-ranked {len(scores):,} items in {elapsed * 1000:.1f} ms.{short}")  # (K above the items: an audit)
    every_user(k, fusion, exclude_seen, equal_spread, bool(joint))
    bars.plotly_chart(charts.recommendation_bars(top, tasks, joint), width="stretch")


def joint_help(logged_under: dict[str, str]) -> str:
    pairs = ", ".join(fmt.md(chain_label(task, logged_under)) for task in logged_under)
    longer = any(len(funnel_chain(task, logged_under)) > 2 for task in logged_under)
    return (
        f"Rank {fmt.listing([fmt.md(t) for t in logged_under], 4)} by the chance of both"
        + (" (down a longer funnel, of every step)" if longer else "")
        + f": {pairs}. Trained on "
        "its labelled rows only, which are rows where the other task is 1, the model predicts it given that one (a "
        "purchase given a click): off, items seldom clicked but often bought once clicked rank above items that "
        "sell far more."
    )


CONTROL_WIDTH = 200  # px of each ranking slider: four fit in a row on a wide page, two at 800 px wide
ALL_USERS_ROWS = 20_000_000  # users x items scored for the page's every-user download (about 20 s); beyond, the CLI


def spread_caption(scores: pd.DataFrame, fusion: dict[str, float], equal_spread: bool) -> str:
    """How much each weighted task moves the order: the spread of weight × score over the candidates."""
    weighted = {t: abs(fusion[t]) * v for t, v in spread(scores, [t for t, w in fusion.items() if w]).items()}
    if equal_spread or len(weighted) < 2:  # (equal: every task's spread is 1 there)
        return ""
    parts = " · ".join(f"{fmt.md(t)} {v:.3g}" for t, v in weighted.items())
    small = [t for t, v in weighted.items() if v * 10 < max(weighted.values())]
    one = len(small) == 1
    hint = (
        f" {', '.join(fmt.md(t) for t in small)} barely {'moves' if one else 'move'} the order: raise "
        f"{'its weight' if one else 'their weights'} or turn on *Equal spread*."
        if small
        else ""
    )
    return f"Spread over the candidates (SD of weight × score): {parts}.{hint}"


def every_user(k: int, fusion: dict[str, float], exclude_seen: bool, equal_spread: bool, joint: bool) -> None:
    """A download of every user's top-K with these settings, computed when clicked (recommend_all: users scored in
    batches); too many users x items for a click says to use the CLI."""
    rows = len(recommender.users()) * len(recommender.items)
    spread_flag = (" --equal-spread" if equal_spread else "") + (
        "" if joint or not recommender.joint else " --no-joint"
    )
    command = f"python -m mtlrec recommend --run RUN --all-users --k {k}{spread_flag} --out top.csv"
    st.download_button(
        f"Top {k} for every user (CSV)",
        data=lambda: (
            recommender.recommend_all(k, fusion, exclude_seen, equal_spread=equal_spread, joint=joint)
            .to_csv(index=False)
            .encode()
        ),
        # a name of its own when a task is the chance of both: the two files hold other scores under one header
        file_name=f"{run_id}_top{k}_every_user{'_chance_of_both' if joint and recommender.joint else ''}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="recommend_every_user",
        disabled=rows > ALL_USERS_ROWS,
        help=(
            f"{len(recommender.users()):,} users × {len(recommender.items):,} items, with the fusion weights, "
            "*Equal spread* and *Hide seen items* above: user, rank, item, each task's score and the fused score"
            + (
                f" ({', '.join(f'{fmt.md(t)} as the {chance_name(t, recommender.joint)}, {fmt.md(chain_label(t, recommender.joint))}' for t in recommender.joint)})"
                if joint and recommender.joint
                else ""
            )
            + ". Computed when clicked."
            if rows <= ALL_USERS_ROWS
            else f"{rows:,} user × item scores are too many for a click here: use the CLI (`{command}`, with the "
            "run's folder from Runs' download or `train --out`)."
        ),
    )


st.title("Recommend")
st.caption("Score every item for one user with a saved model, then re-rank by weighting the tasks' scores.")

run_id = runs.pick_run("Run", key="recommend_run")
if run_id is None:
    st.info("No finished run yet: train a model first.")
    st.page_link("pages/train.py", label="Train", icon=":material/model_training:")
    end_page()
run = runs.load(run_id)
if run is None:
    end_page()
config = run.config
if not config.data.user_col or not config.data.item_col:
    st.info(Prepared.ranking_note.fget(run))  # the library's note; it reads only `.config`
    end_page()
try:
    recommender = runs.recommender_of(run_id)
except MtlrecError as exc:
    st.error(fmt.plain(exc.message))
    end_page()
for change in runs.data_changes(run_id):
    st.warning(f"{change}: users and items the model never saw are scored as unknown ones.")
for note in recommender.notes(joint=None):  # the labelled-only tasks' notes: under the ranking's toggles
    st.caption(f"Note: {fmt.plain(note)}.")

users = recommender.users()
if not users:
    st.info("The run's data has no users.")
    end_page()
choose_user(users, run_id)
listed = users[:LISTED]
if st.session_state[USER] not in listed:  # a random or typed user beyond the list
    listed = [st.session_state[USER], *listed]
title = f"User (most active first, {len(users):,} in all)"
if len(users) > LISTED:
    title = f"User (the {LISTED:,} most active of {len(users):,}; type any other below)"
with st.container(horizontal=True, vertical_alignment="bottom"):  # a sixth of the page cut the button to "R…"
    user = st.selectbox(title, listed, format_func=str, key=USER, on_change=remember, args=(USER,))
    st.button("Random user", icon=":material/casino:", on_click=pick_random_user, args=(users,))
if len(users) > LISTED:
    st.text_input(
        "Or type a user id", key=TYPED, on_change=type_user, args=(users,), placeholder="e.g. " + str(users[-1])
    )
    if problem := st.session_state.get(TYPED_PROBLEM):
        st.error(fmt.plain(problem))
if problem := linked_problem(run_id, user):
    st.warning(fmt.plain(problem))  # the page works on: another user is shown
if note := recommender.unknown_user_note(user):
    st.info(fmt.plain(note) + ".", icon=":material/person_off:")

if st.query_params.get(USER_PARAM) != str(user):
    st.query_params[USER_PARAM] = str(user)
st.session_state[USER_WRITTEN] = str(user)
try:
    entry = scores_of(recommender, run_id, user, config)
except MtlrecError as exc:
    st.error(fmt.plain(exc.message))
    end_page()

st.subheader("History")
show_history(recommender, user, config.tasks)

st.subheader("Top recommendations")
untrained = config.untrained_tasks()
fusion_for(run_id, config.tasks, untrained)
linked_ranking(config.tasks, untrained)
ranking(entry["scores"], config.tasks, untrained, recommender.joint)

if sample.world_spec_path(config.data.path) is not None:
    st.subheader("Against the ground truth")
    st.caption(
        "Only synthetic data has a ground truth: its generator knows every row's true click, like and purchase "
        "probability and expected watch time, so the predictions can be checked item by item (the *true* columns)."
    )
    if entry["truth_problem"]:
        st.warning(f"The ground truth is not available: {entry['truth_problem']}")
    with st.container(horizontal=True):  # wraps when narrow: in one column each, every value read "0…"
        for task, (spearman, pearson) in entry["correlations"].items():
            st.metric(
                f"{fmt.md(task)}: rank correlation",
                fmt.metric(spearman, 3),
                help=f"Spearman correlation between predicted and true {fmt.md(task)} over all "
                f"{len(entry['scores']):,} candidate items of this user (Pearson {fmt.metric(pearson, 3)}).",
                border=True,
                width="content",
            )
