"""Train page: tasks and loss weights, loss weighting, architecture and size, and live training with a Stop button."""

from ui.frame import end_page, guard

guard("train")

import contextlib  # noqa: E402
import copy  # noqa: E402
import dataclasses  # noqa: E402
from urllib.parse import unquote  # noqa: E402

import streamlit as st  # noqa: E402

from mtlrec import charts, fmt  # noqa: E402
from mtlrec.config import (  # noqa: E402
    MODEL_KINDS,
    MONITOR_METRICS,
    OPTIMIZERS,
    PRECISIONS,
    SIZE_PRESETS,
    WEIGHTING_METHODS,
    ExperimentConfig,
    TaskSpec,
    TrainConfig,
    resolve_funnel,
)
from mtlrec.errors import MtlrecError  # noqa: E402
from mtlrec.fixes import fixes_key  # noqa: E402
from mtlrec.jobs import JobState  # noqa: E402
from mtlrec.runs import data_label, kept_epochs  # noqa: E402
from mtlrec.schema import funnel_breaches  # noqa: E402
from mtlrec.share import BATCH_SIZES, MAX_WEIGHT, RANGES, WORLD, apply_query, parse_world, to_query  # noqa: E402
from mtlrec.tokens import distinct_tokens  # noqa: E402
from ui import runs, state  # noqa: E402
from ui.frame import remember_run  # noqa: E402
from ui.jobs import session_jobs  # noqa: E402

# Plain keys (a new dataset drops them with the train_task widgets): the tasks chosen for the next run (the schema
# lists all labels), and the labels offered when they were chosen, so that a label marked on Data since is ticked.
ACTIVE = "train_tasks_active"
OFFERED = "train_tasks_offered"
LINK_SEEN = "train_link_seen"  # the query string of the link last applied, so it is applied once
OWN_LINKS = "train_link_own"  # the query strings the page wrote lately: a rerun may still carry one of them
OWN_LINKS_KEPT = 32
PENDING_LINK = "pending_train_link"  # a link's settings opened without a dataset, applied once one is loaded
WIDTH_PROBLEMS = "width_problems"  # layer widths on the page that cannot be used: Train is disabled meanwhile
MAX_WIDTH = 65_536  # units in one layer at most (xl's widest holds 4,096); a larger number is a typing slip
# px of a task row's name, type box and weight slider: "watch_time" on one line, "regression" in full, and sliders of
# one length (the same weight at the same place in every row; as wide as before at 1400 px).
NAME_WIDTH, TYPE_WIDTH, WEIGHT_WIDTH = 160, 150, 320
BREACHES = "train_funnel_breaches"  # ((dataset path, funnel), sentences): the funnel check, once per data and funnel
POLL_SECONDS = 0.5
ONE_JOB = "One training job per session"
FIRST_POINT_WAIT = 1.0  # seconds a Train click waits for the job's first live point before drawing its panel
KIND_TITLES = {
    "shared_bottom": "Shared-bottom",
    "mmoe": "MMoE",
    "ple": "PLE",
    "esmm": "ESMM",
    "single_task": "Single-task",
}
WEIGHTING_TITLES = {
    "fixed": "Fixed weights",
    "uncertainty": "Uncertainty weighting (Kendall et al., CVPR 2018)",
    "gradnorm": "GradNorm (Chen et al., ICML 2018)",
    "dwa": "Dynamic Weight Average (Liu et al., CVPR 2019)",
    "pcgrad": "PCGrad (Yu et al., NeurIPS 2020)",
}
NOT_CONDITIONAL = "(none)"
CROSS_HELP = (
    "0 = none. Each cross layer multiplies the embedded input, feature by feature, with a learned linear map of "
    "itself (x_{l+1} = x_0 * (W x_l + b) + x_l), so products of features such as age x category are built "
    "explicitly instead of being left for the MLP to find. Each layer holds (input width)^2 weights, shared by all "
    "tasks. Wang et al., 'DCN V2', WWW 2021."
)
PRECISION_LABELS = {"auto": "auto (bfloat16 where native)", "fp32": "float32", "bf16": "bfloat16 (mixed)"}


def apply_link() -> None:
    """Pre-fill the page from a shared link (?data=synthetic&tasks=click:binary:1&size=tiny...). A link to an
    uploaded file (no data=) opened before any dataset is loaded waits in the session and is applied on the first
    visit with data; the page says so."""
    params = st.query_params.to_dict()
    signature = link_signature(params)
    if st.session_state.get(PENDING_LINK) and state.dataset() is not None:
        params, signature = st.session_state.pop(PENDING_LINK), None  # the waiting link, whatever the address says
        tasks = link_tasks(params)
        if tasks and not set(tasks) & set(state.experiment().task_names):  # loaded another file than the link's
            st.info(
                f"The shared link's settings (for the tasks {', '.join(map(fmt.md, tasks))}) were not applied: this dataset has "
                "none of those label columns. Open the link again once the file it was made on is loaded."
            )
            return
    elif not params or signature == st.session_state.get(LINK_SEEN) or signature in st.session_state.get(OWN_LINKS, []):
        # The page's own address is no link to apply, even an older one: a rerun asked for before the browser got
        # the previous run's address carries the one before it (applying it reverted the change just made).
        return
    st.session_state[LINK_SEEN] = signature
    sample = params.get("data")
    info = state.dataset()
    if sample and (info is None or info["path"] != f"sample:{sample}"):
        try:
            if sample.startswith(WORLD):
                state.use_world(*parse_world(sample))
            else:
                state.use_sample(sample)
        except MtlrecError as exc:
            st.error(f"The link names a dataset that could not be loaded: {fmt.plain(exc.message)}")
            return
    if state.dataset() is None:
        st.session_state[PENDING_LINK] = params
        tasks = link_tasks(params)
        named = f" for the tasks {', '.join(map(fmt.md, tasks))}" if tasks else ""
        st.info(
            f"This link holds Train settings{named}. Load the file they were made on (on **Data**), then come back "
            "to Train: they are applied then."
        )
        return
    config, active, problems = apply_query(state.experiment(), params)
    state.save_experiment(config)
    # Re-seed every control from the config; this also drops ACTIVE, OFFERED and LINK_SEEN. A Train click in this
    # same run stays a click.
    state.forget_widgets("train_", keep=("train_start", OWN_LINKS))
    if active is not None:
        st.session_state[ACTIVE] = active
    st.session_state[LINK_SEEN] = signature
    for problem in problems:
        st.warning(fmt.plain(problem))


def link_signature(query: dict) -> str:
    """A Train address's parameters as one comparable string: the link applied and the addresses the page wrote."""
    return str(sorted(query.items()))


def link_tasks(params: dict) -> list[str]:
    """The task names a link's tasks= parameter holds (name:type:weight, names quoted)."""
    return [unquote(part.split(":")[0]) for part in params.get("tasks", "").split(",") if part]


def mirror_link(config: ExperimentConfig, active: list[str]) -> None:
    """Keep the address bar in step with the settings, so the page's URL is a shareable link."""
    query = to_query(config, active)
    signature = link_signature(query)
    own = st.session_state.setdefault(OWN_LINKS, [])
    # The address this run came with may be older than the one the browser shows now (see apply_link): write the
    # settings whenever they differ from what the page wrote last, too.
    if query != st.query_params.to_dict() or not own or own[-1] != signature:
        st.query_params.from_dict(query)
    if signature in own:
        own.remove(signature)
    own.append(signature)
    del own[:-OWN_LINKS_KEPT]


def widths(text: str) -> list[int] | None:
    """'256, 128' -> [256, 128]; '' -> None (use the preset)."""
    parts = [p for p in text.replace(" ", "").split(",") if p]
    return [int(p) for p in parts] if parts else None


@st.cache_data(show_spinner=False, max_entries=64)
def size_table(shape_key: tuple, n_rows: int, config_json: str) -> list[dict]:
    """Parameters and estimated memory of every size preset of the configured architecture for this data's shape;
    empty when the architecture cannot be built with these settings."""
    from mtlrec.resources import estimate_memory

    cardinalities, numeric_width = list(shape_key[0]), shape_key[1]
    rows = []
    for size in SIZE_PRESETS:
        config = ExperimentConfig.from_json(config_json)
        config.model.size, config.model.embed_dim, config.model.bottom, config.model.tower = size, None, None, None
        try:
            estimate = estimate_memory(config, n_rows, cardinalities, numeric_width)
        except MtlrecError:
            return []
        rows.append({"size": size, "params": estimate.params, "memory": estimate.total, **estimate.parts})
    return rows


def counted(config: ExperimentConfig, chosen: list[str]) -> ExperimentConfig:
    """The configuration whose size presets are counted: the chosen tasks and architecture. An ESMM funnel that
    does not resolve yet is replaced by a placeholder: ESMM's parameter count does not depend on the funnel."""
    config = copy.deepcopy(config)
    config.tasks = [t for t in config.tasks if t.name in chosen]
    if config.model.kind == "esmm" and len(config.tasks) > 1:
        try:
            resolve_funnel(config.model.funnel, config.tasks)
        except MtlrecError:
            for task in config.tasks:
                task.type, task.log1p = "binary", False
            config.model.funnel = {config.tasks[1].name: config.tasks[0].name}
    return config


def valid_choice(key: str, options: list, value) -> str:
    """Seed a choice widget's key with `value`, first dropping a kept value that is no longer among its options."""
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]
    return state.seed(key, value if value in options else options[0])


def weighting_controls(config: ExperimentConfig) -> None:
    from mtlrec.weighting import EXPLANATIONS

    st.subheader("Loss weighting")
    w = config.weighting
    w.method = st.selectbox(
        "How the task losses are combined", WEIGHTING_METHODS, format_func=WEIGHTING_TITLES.get,
        key=valid_choice("train_weighting", list(WEIGHTING_METHODS), w.method),
    )  # fmt: skip
    st.caption(EXPLANATIONS[w.method])
    cell = st.columns(3)[0]
    if w.method == "gradnorm":
        w.alpha = state.ranged(
            cell.number_input, "GradNorm alpha (how strongly tasks that lag behind are favoured)", "train_alpha",
            float(w.alpha), RANGES["alpha"], step=0.1,
        )  # fmt: skip
    elif w.method == "dwa":
        w.temperature = state.ranged(
            cell.number_input, "DWA temperature (large: weights stay near equal; small: they react strongly)",
            "train_temperature", float(w.temperature), RANGES["temperature"], step=0.1,
        )  # fmt: skip
    config.train.diagnostics = st.checkbox(
        "Record task-conflict diagnostics", key=state.seed("train_diagnostics", config.train.diagnostics),
        help="Each epoch, on a few validation batches: each task's gradient norm on the shared layers, the cosine "
        "between every pair of tasks' gradients and, for MMoE and PLE, the gates' use of the experts. Shown on "
        "**Results** under *Task conflict*; costs a few extra backward passes per epoch.",
    )  # fmt: skip


def architecture_controls(config: ExperimentConfig, chosen: list[str]) -> None:
    from mtlrec.models import EXPLANATIONS, REGISTRY

    m = config.model
    m.kind = st.selectbox(
        "How the tasks share the network", MODEL_KINDS,
        format_func=lambda k: f"{KIND_TITLES.get(k, k)} · {REGISTRY[k][1]}",
        key=valid_choice("train_model_kind", list(MODEL_KINDS), m.kind),
    )  # fmt: skip
    st.caption(EXPLANATIONS[m.kind])
    if m.kind == "mmoe":
        cell = st.columns(3)[0]
        m.experts = int(
            state.ranged(
                cell.number_input, "Experts (shared by all tasks)", "train_experts", m.experts, RANGES["experts"]
            )
        )
    elif m.kind == "ple":
        a, b, c = st.columns(3)
        m.experts = int(
            state.ranged(a.number_input, "Shared experts per level", "train_experts", m.experts, RANGES["experts"])
        )
        m.task_experts = int(
            state.ranged(b.number_input, "Experts of each task, per level", "train_task_experts", m.task_experts,
                         RANGES["task_experts"])
        )  # fmt: skip
        m.levels = int(state.ranged(c.number_input, "Levels (1 or 2)", "train_levels", m.levels, RANGES["levels"]))
    elif m.kind == "esmm":
        funnel_controls(config, chosen)


def funnel_controls(config: ExperimentConfig, chosen: list[str]) -> None:
    """ESMM's funnel: for each binary task, the task it can only follow (a purchase only after a click)."""
    binary = [t.name for t in config.tasks if t.name in chosen and t.type == "binary"]
    st.markdown("**Funnel**: mark each task that can only happen after another one (a purchase after a click).")
    funnel = {}
    for cell, name in zip(st.columns(max(len(binary), 1)), binary, strict=False):
        options = [NOT_CONDITIONAL] + [b for b in binary if b != name]
        parent = cell.selectbox(
            f"{fmt.md(name)} is conditional on", options,
            key=valid_choice(f"train_task_funnel_{name}", options, config.model.funnel.get(name, NOT_CONDITIONAL)),
        )  # fmt: skip
        if parent != NOT_CONDITIONAL:
            funnel[name] = parent
    config.model.funnel = funnel
    if len(binary) < 2:
        st.warning("ESMM needs two binary tasks in a funnel (click and purchase, say): choose them above.")
        return
    try:
        resolve_funnel(funnel, [t for t in config.tasks if t.name in chosen])
    except MtlrecError as exc:
        st.warning("\n".join(f"- {p}" for p in exc.problems))
        return
    info = state.dataset()
    key = (info["path"], repr(info.get("names")), tuple(sorted(funnel.items())), fixes_key(config.data.fixes))
    cached = st.session_state.get(BREACHES)
    if cached is None or cached[0] != key:  # a pass over every row (about 1 s for 2M rows of yes/no text labels)
        cached = st.session_state[BREACHES] = (key, funnel_breaches(config, state.frame()))
    for breach in cached[1]:
        st.warning(breach)


TRAINING_ROWS = "train_shape_rows"  # (key, the training rows' positions) for data_shape


def training_rows(config: ExperimentConfig, frame):
    """The rows the encoder will be fitted on, for a user or time split (held-out users, or the latest rows' new
    items, have no embedding row: counted over the whole file, a user split's tiny model showed 2.9k parameters and
    trained 2,514); the whole frame for a random split, whose held-out rows hold few values of their own."""
    d, s = config.data, config.split
    column = {"user": d.user_col, "time": d.time_col}.get(s.method)
    if not column or column not in frame:
        return frame
    info = state.dataset() or {}
    key = (info.get("path"), repr(info.get("names")), fixes_key(d.fixes), len(frame), s.method, column, s.test_frac,
           s.val_frac, config.train.seed)  # fmt: skip
    held = st.session_state.get(TRAINING_ROWS)
    if held is None or held[0] != key:
        from mtlrec.data import split_rows

        try:
            kept, _ = split_rows(config, frame, s.test_frac)
            rows, _ = split_rows(config, frame, s.val_frac, kept)
        except Exception:  # noqa: BLE001 - an estimate: validation says what is wrong with the split
            rows = None
        held = st.session_state[TRAINING_ROWS] = (key, rows)
    return frame if held[1] is None else frame.iloc[held[1]]


def data_shape(config: ExperimentConfig, frame) -> tuple[tuple[int, ...], int]:
    """Embedding table sizes, as the encoder will fit them on the training rows (values seen min_count times, at
    most max_vocab, plus the unknown row), and the numeric width (the encoder is only fitted when training starts)."""
    d = config.data
    rows = training_rows(config, frame)
    cardinalities = tuple(
        min(int((rows[c].value_counts(dropna=False) >= d.min_count).sum()), d.max_vocab) + 1
        for c in d.categorical
        if c in frame
    )
    with_missing = sum(int(frame[c].isna().any()) for c in d.numeric if c in frame)
    tokens = sum(min(distinct_tokens(frame[c]), d.max_tokens) + 1 for c in d.multi if c in frame)
    return cardinalities, len(d.numeric) + with_missing + tokens


def logged_under(
    task: TaskSpec, tasks: list[TaskSpec], active: list[str], frame, funnel: dict[str, str] | None = None
) -> str:
    """What training a task on its labelled rows learns when they are rows where another task is 1 (a purchase
    logged after clicks: recommend.conditions), for its checkbox's help; "" otherwise."""
    from mtlrec.config import chance_name, untrained
    from mtlrec.recommend import chain_formula, conditions, joint_tasks

    # This task ticked, the others as their boxes and sliders are now (a task listed later has not taken this run's
    # values into the config yet: the help was one rerun behind): a purchase under likes that are themselves under
    # clicks is ranked by every step, as Recommend then ranks it
    now = st.session_state
    chosen = [
        dataclasses.replace(
            t,
            labelled_only=t.name == task.name or bool(now.get(f"train_task_labelled_{t.name}", t.labelled_only)),
            weight=float(now.get(f"train_task_weight_{t.name}", t.weight)),
        )
        for t in tasks
        if t.name in active
    ]
    # untrained as Recommend reads it (an ESMM parent at weight 0 trains through its child)
    found = conditions(frame, chosen, untrained=untrained({t.name: t.weight for t in chosen}, funnel))
    given = found.get(task.name)
    if given is None:
        return ""
    if task.type == "regression":
        return f" Its labels sit where '{given}' is 1: it then learns its value given '{given}'."
    joint = joint_tasks(chosen, found)
    chance = f"the {chance_name(task.name, joint)}"
    return (
        f" Its labels sit where '{given}' is 1: it then learns '{task.name}' given '{given}', and Recommend ranks it by "
        f"{chance}, {chain_formula(task.name, joint)}."
    )


def task_controls(config: ExperimentConfig, active: list[str], frame) -> None:
    # The colours of the tasks ticked, as the run's charts give them (from all tasks, an unticked one shifted them)
    colors = charts.task_colors([t for t in config.tasks if t.name in active])
    missing = {name: int(frame[name].isna().sum()) for name in active if name in frame}
    st.subheader("Tasks and loss weights")
    st.caption("The loss is L = Σⱼ wⱼ·Lⱼ. Weight 0 means *evaluated but not trained*.")
    for task in config.tasks:
        if task.name not in active:
            continue
        # A row that wraps when narrow: in fixed columns, at 800 px wide with the sidebar open, the type read "bina",
        # a name "watch_tim e" and the log1p box "lo…". At fixed widths the rows line up; when narrow, the slider
        # and log1p go to a line of their own.
        with st.container(border=True, horizontal=True, vertical_alignment="center", gap="medium"):
            st.markdown(
                f"<span style='color:{colors[task.name]}'>■</span> <b>{fmt.md(task.name)}</b>",
                unsafe_allow_html=True, width=NAME_WIDTH,
            )  # fmt: skip
            task.type = st.selectbox(
                "type", ["binary", "regression"], key=state.seed(f"train_task_type_{task.name}", task.type),
                label_visibility="collapsed", width=TYPE_WIDTH,
            )  # fmt: skip
            task.weight = state.ranged(
                st.slider, f"weight of {fmt.md(task.name)}", f"train_task_weight_{task.name}", float(task.weight),
                (0.0, MAX_WEIGHT), step=0.05, label_visibility="collapsed", width=WEIGHT_WIDTH,
            )  # fmt: skip
            if task.type == "regression":
                task.log1p = st.checkbox(
                    "log1p", key=state.seed(f"train_task_log1p_{task.name}", task.log1p),
                    help="Train on log(1 + y): for skewed targets such as watch time", width="content",
                )  # fmt: skip
            else:
                task.log1p = False
            if missing.get(task.name) or task.labelled_only:  # a label logged for some events only
                n, total = missing.get(task.name, 0), len(frame)
                task.labelled_only = st.checkbox(
                    "labelled rows only", key=state.seed(f"train_task_labelled_{task.name}", task.labelled_only),
                    help=f"'{task.name}' is missing in {n:,} of {total:,} rows ({n / max(total, 1):.0%}). Ticked, "
                    f"this task trains and is measured on its {total - n:,} labelled rows, and the other tasks still "
                    "learn from every row. Unticked, training refuses missing labels (drop or fill them on Data)."
                    + logged_under(
                        task, config.tasks, active, frame,
                        (config.model.funnel or {}) if config.model.kind == "esmm" else {},
                    ),  # fmt: skip
                    width="content",
                )  # fmt: skip


def model_controls(config: ExperimentConfig, frame, chosen: list[str]) -> None:
    st.subheader("Architecture")
    architecture_controls(config, chosen)
    config.model.cross = int(
        state.ranged(st.slider, "Cross layers (DCN-v2) on the embedded features", "train_cross", int(config.model.cross),
                     RANGES["cross"], help=CROSS_HELP)
    )  # fmt: skip
    shape = data_shape(config, frame)
    table = size_table(shape, len(frame), counted(config, chosen).to_json())
    # "to train": the data's tensors, the optimiser's state and a batch's activations besides the weights (3.9k
    # params beside ~768 KB read as a wrong sum: a browser walk)
    labels = {
        r["size"]: f"{r['size']} · {fmt.count(r['params'])} params · ~{fmt.nbytes(r['memory'])} to train" for r in table
    }
    m = config.model
    # The counts change with the architecture and the tasks: the browser unselects an option whose text changed
    # (Streamlit then falls back to the first, tiny), unless its value is given again with its new text.
    state.current_label("train_size", labels)
    m.size = st.radio(
        f"Size preset ({KIND_TITLES.get(m.kind, m.kind)}; parameters counted on this data)",
        list(SIZE_PRESETS), format_func=lambda size: labels.get(size, size), horizontal=True,
        key=state.seed("train_size", m.size),
    )  # fmt: skip
    if table:  # id columns' embedding tables often hold most of a model; the towers are what each task owns
        st.plotly_chart(charts.parameter_shares(table, m.size), width="stretch", key="train_param_shares")
    with st.expander("Advanced settings", icon=":material/tune:"):
        a, b, c = st.columns(3)
        preset = SIZE_PRESETS[m.size]
        embed = state.ranged(
            a.number_input, f"Embedding size (0 = preset, {preset['embed_dim']})", "train_embed", m.embed_dim or 0,
            RANGES["embed_dim"],
        )  # fmt: skip
        m.embed_dim = int(embed) or None
        bottom = b.text_input(
            f"Shared layers (empty = preset, {','.join(map(str, preset['bottom']))})",
            key=state.seed("train_bottom", ",".join(map(str, m.bottom or []))),
        )  # fmt: skip
        tower = c.text_input(
            f"Tower layers (empty = preset, {','.join(map(str, preset['tower']))})",
            key=state.seed("train_tower", ",".join(map(str, m.tower or []))),
        )  # fmt: skip
        problems = []
        for field, text, attr in (("Shared layers", bottom, "bottom"), ("Tower layers", tower, "tower")):
            try:
                value = widths(text)
            except ValueError:
                value, problem = None, f"{field}: '{text}' is not whole numbers separated by commas, e.g. 256,128"
            else:
                problem = None
                if value and min(value) < 1:
                    problem = f"{field}: every width must be at least 1, got {text}"
                elif value and max(value) > MAX_WIDTH:
                    problem = f"{field}: a width of at most {MAX_WIDTH:,} per layer, got {max(value):,}"
            if problem:
                problems.append(problem)
                st.error(fmt.plain(problem))
            setattr(m, attr, value)
        # A width that cannot be read blocks training: it would otherwise train the preset without a word.
        st.session_state[WIDTH_PROBLEMS] = problems
        m.dropout = state.ranged(a.slider, "Dropout", "train_dropout", float(m.dropout), RANGES["dropout"], step=0.05)
        t = config.train
        t.optimizer = b.selectbox("Optimizer", OPTIMIZERS, key=state.seed("train_optimizer", t.optimizer))
        t.lr = state.ranged(c.number_input, "Learning rate", "train_lr", float(t.lr), RANGES["lr"], format="%.6f")
        t.weight_decay = state.ranged(
            a.number_input, "Weight decay", "train_wd", float(t.weight_decay), RANGES["wd"], format="%.6f"
        )
        t.batch_size = b.select_slider(
            "Batch size",
            BATCH_SIZES,
            key=state.seed("train_batch", t.batch_size if t.batch_size in BATCH_SIZES else TrainConfig.batch_size),
        )
        t.epochs = state.ranged(c.slider, "Epochs (at most)", "train_epochs", t.epochs, RANGES["epochs"])
        t.patience = state.ranged(
            a.slider, "Early-stopping patience (0 = off)", "train_patience", t.patience, RANGES["patience"],
            help="Stop after this many epochs without improvement on the validation rows; the best epoch is kept.",
        )  # fmt: skip
        monitors = ["loss"] + [
            f"{task.name}:{metric}" for task in config.tasks for metric in MONITOR_METRICS[task.type]
            if metric != "gauc" or config.data.user_col
        ]  # fmt: skip
        t.monitor = b.selectbox(
            "Early stopping watches", monitors, key=state.seed("train_monitor", t.monitor if t.monitor in monitors else "loss"),
            format_func=lambda v: "weighted validation loss" if v == "loss" else v,
        )  # fmt: skip
        t.seed = int(state.ranged(c.number_input, "Seed", "train_seed", t.seed, RANGES["seed"]))
        s = config.split
        methods = ["random"] + (["user"] if config.data.user_col else []) + (["time"] if config.data.time_col else [])
        s.method = a.selectbox(
            "Test split", methods, key=state.seed("train_split", s.method if s.method in methods else "random"),
            format_func={"random": "random rows", "user": "by user (unseen users)", "time": "by time (latest rows)"}.get,
        )  # fmt: skip
        s.test_frac = state.ranged(b.slider, "Test share", "train_test_frac", s.test_frac, RANGES["test"], step=0.05)
        s.val_frac = state.ranged(
            c.slider, "Validation share of training rows", "train_val_frac", s.val_frac, RANGES["val"], step=0.05
        )
        t.device = a.selectbox(
            "Device", ["auto", "cpu", "cuda"], key=state.seed("train_device", t.device),
            help="auto uses a CUDA GPU when there is one",
        )  # fmt: skip
        t.precision = b.selectbox(
            "Precision", PRECISIONS, key=state.seed("train_precision", t.precision if t.precision in PRECISIONS else "auto"),
            format_func=PRECISION_LABELS.get,
            help="Mixed precision: the training steps' matrix products in bfloat16, weights and evaluation in "
            "float32. auto uses bfloat16 where the processor computes it natively (about 2x faster on large "
            "models, the same AUC in our benchmarks) and float32 elsewhere.",
        )  # fmt: skip
    if (m.embed_dim or m.bottom or m.tower) and not st.session_state.get(WIDTH_PROBLEMS):
        custom_size_caption(config, chosen, shape, len(frame))


def custom_size_caption(config: ExperimentConfig, chosen: list[str], shape: tuple, n_rows: int) -> None:
    """What trains when the advanced settings override the preset's embedding size or widths: the preset labels
    above count the presets' own."""
    from mtlrec.resources import estimate_memory

    try:
        estimate = estimate_memory(counted(config, chosen), n_rows, list(shape[0]), shape[1])
    except (MtlrecError, ValueError, TypeError, RuntimeError, OverflowError):  # a caption never breaks the page
        return
    st.caption(
        f"With the advanced settings' embedding size and layer widths, {config.model.size} has "
        f"{fmt.count(estimate.params)} parameters (~{fmt.nbytes(estimate.total)}); the preset labels above count "
        "the presets' own sizes."
    )


def start_training(run_config: ExperimentConfig, frame) -> bool:
    """Validate and start the session's job; True when it started (else the problems are shown)."""
    from mtlrec.jobs import TrainingJob
    from mtlrec.resources import check_memory, estimate_memory
    from mtlrec.schema import validate
    from mtlrec.train import resolve_device

    try:
        validate(run_config, frame)
        # Checked here too, not only in the job: a run that cannot start was saved as a failed run (device cuda
        # without a GPU; layer widths of 65,536, whose 321 GB the caption had already shown: an app audit).
        resolve_device(run_config.train.device)
        shape = data_shape(run_config, frame)
        check_memory(estimate_memory(run_config, len(frame), list(shape[0]), shape[1]))
        job = TrainingJob(run_config, state.store(), frame).start()
    except MtlrecError as exc:
        st.error("Training cannot start:\n\n" + "\n".join(f"- {p}" for p in exc.problems))
        return False
    session_jobs().job = job
    remember_run(job.run_id)
    st.session_state.setdefault(state.TRAIN_RUNS, []).append(job.run_id)  # the panel's, not a baseline's
    st.session_state[state.RESULTS_RUN] = job.run_id  # Results and Recommend show it once it ends, not an older run
    # The page then draws the job's panel: after its first live point (the first batch is reported at once), so
    # that the panel opens with its chart rather than "preparing" and a chart one poll later.
    job.wait(lambda s: bool(s.live), FIRST_POINT_WAIT)
    return True


def shown_fraction(snap) -> float:
    """The progress bar's fill: full for a finished run (early stopping included), else the share of the planned
    batches trained (a run stopped at epoch 50 of 100 showed a full bar); a saved run's epochs after a reload."""
    if snap.status == "finished":
        return 1.0
    if snap.batches:
        return snap.fraction
    return min(1.0, snap.epoch / snap.epochs) if snap.epochs else 0.0


def progress_view(snap, config: ExperimentConfig, stopping: bool = False, kept: dict | None = None) -> None:
    """A job's (or a saved run's) progress bar, loss chart and validation metrics: of its last epoch while it trains,
    of the epoch whose model was kept once it ended (`kept`: task -> epoch, from kept_epochs)."""
    if snap.status in ("queued", "preparing"):
        st.progress(0.0, text="Preparing the data (validate, split, encode)…")
    else:
        eta = (
            f" · about {fmt.seconds(snap.eta)} left" if snap.eta is not None and not snap.done and not stopping else ""
        )
        batch = f" · batch {snap.batch}/{snap.batches}" if snap.batches else ""
        st.progress(shown_fraction(snap),
                    text=f"Epoch {snap.epoch}/{snap.epochs}{batch} · {fmt.seconds(snap.elapsed)}{eta}")  # fmt: skip
    if snap.live or snap.history:
        st.plotly_chart(
            charts.live_losses(snap.live, snap.history, config.tasks), width="stretch", key="train_live_chart"
        )
    if snap.history:
        by_epoch = {row.get("epoch"): row for row in snap.history}
        last = snap.history[-1]
        cols = st.columns(len(config.tasks))
        shown = {}  # task -> the epoch its card shows
        idle = config.untrained_tasks()
        for col, task in zip(cols, config.tasks, strict=True):
            metric = "auc" if task.type == "binary" else "rmse"
            epoch = (kept or {}).get(task.name)
            row = by_epoch.get(epoch, last) if epoch else last
            shown[task.name] = row.get("epoch")
            # The epoch is said below the cards: in the label ("… (epoch 2, kept)") it was cut off at 4 tasks
            col.metric(
                f"{fmt.md(task.name)} validation {metric.upper()}",
                fmt.metric(row.get(f"{task.name}/val_{metric}")),
                # an AUC of 0.45 read as a result (a browser walk): it is an untrained tower's
                help="Not trained (loss weight 0): the metric of a tower that never learned."
                if task.name in idle
                else None,
            )
        caption = runs.kept_caption(shown, bool(kept))
        if idle:
            one = len(idle) == 1
            caption += (
                f" {fmt.listing([fmt.md(t) for t in config.task_names if t in idle], 4)} {'was' if one else 'were'} "
                f"trained with loss weight 0: {'its' if one else 'their'} metric is an untrained tower's."
            )
        st.caption(caption)


def live_panel(config: ExperimentConfig) -> None:
    job = session_jobs().job

    @st.fragment(run_every=POLL_SECONDS)
    def poll() -> None:
        snap = job.snapshot()
        if snap.done:
            st.rerun()  # full rerun: show the final state and re-enable the controls
        left, right = st.columns([5, 1], vertical_alignment="center")
        # After the batch: validation and the test rows' evaluation, which take a while when large.
        stopping = job.stopping
        if stopping:
            left.markdown(f"**Stopping** run `{snap.run_id}`: validating the epoch in progress and evaluating the "
                          "best model on the test rows…")  # fmt: skip
            right.button("Stop", icon=":material/stop:", key="train_stop", disabled=True, help="Stopping already")
        else:
            left.markdown(f"**Training** run `{snap.run_id}` ({snap.status})")
            if right.button("Stop", icon=":material/stop:", key="train_stop", type="primary"):
                job.stop()
                stopping = True
                st.toast("Stopping after the current batch…")
        progress_view(snap, config, stopping)

    poll()


def saved_snapshot(run_id: str) -> tuple[JobState, ExperimentConfig] | None:
    """A run of this browser as its job's last snapshot showed it, rebuilt from the run store (its status, message,
    notes, history and time), with its config; None when it is not there or has not ended. After a reload the job
    is gone (a new session holds no finished job), while the run store keeps what its panel showed."""
    store = state.store()
    try:
        row = store.get(run_id)
        if row["status"] not in ("finished", "stopped", "failed", "interrupted"):
            return None
        run = store.load(run_id)
    except MtlrecError:
        return None
    config = run.config
    history = run.history.to_dict("records") if not run.history.empty else []
    # The chart's train losses: each epoch's mean (the per-batch points of the live chart are not saved).
    live = [
        {"step": r["epoch"], **{t.name: r.get(f"{t.name}/train_loss") for t in config.tasks}}
        for r in history
        if "epoch" in r
    ]
    epochs = int(run.metrics.get("epochs_run") or len(history))
    snap = JobState(
        status=row["status"], run_id=run_id, epoch=epochs, epochs=config.train.epochs, history=history, live=live,
        elapsed=float(
            run.metrics.get("wall_seconds") or run.metrics.get("train_seconds")
            or (history[-1].get("elapsed") if history else 0) or 0
        ),
        message=row.get("message") or "",
        notes=list(run.metrics.get("notes") or []),
    )  # fmt: skip
    return snap, config


def finished_panel(snap, config: ExperimentConfig, current: ExperimentConfig | None = None) -> None:
    """How the browser's latest run ended, its losses and metrics, and buttons to open it. With `current` (the
    settings on the page) other than the run's, a caption says the panel is the previous run's."""
    shown = (state.dataset() or {}).get("path")
    if shown and config.data.path and not state.same_data(shown, config.data.path):  # "other settings" hid it
        trained_on = data_label(config.data.path, name=config.data.name)
        st.caption(
            f"Last run — trained on another data file ({fmt.md(trained_on)}): its losses and metrics are not this "
            "dataset's."
        )
    elif current is not None and current.to_dict() != config.to_dict():
        st.caption(
            "Last run — trained with other settings than those above: its losses and metrics are not the new "
            "settings'. Press Train to train them."
        )
    # The job's time from start to saved: reading and encoding the data and the test metrics besides the training
    # (Results and Runs show the training's own, shorter, time)
    text = (
        f"Run `{snap.run_id}` {snap.status} after {fmt.seconds(snap.elapsed)}, reading the data and testing included."
    )
    if snap.message:
        text += f" {fmt.plain(snap.message)}"
    {"finished": st.success, "stopped": st.warning, "failed": st.error}.get(snap.status, st.info)(text)
    for note in snap.notes:
        st.caption(f"Note: {fmt.plain(note)}")
    ended = snap.status in ("finished", "stopped") and snap.run_id
    run = None
    if ended:
        with contextlib.suppress(MtlrecError):  # deleted meanwhile (on Runs, maybe in another tab): said below
            run = state.store().load(snap.run_id)
    if snap.status != "failed" or snap.history:
        progress_view(snap, config, kept=kept_epochs(run.metrics, config.tasks) if run is not None else None)
    if ended:
        if run is None:
            st.info(f"Run `{snap.run_id}` no longer exists (it was deleted on **Runs**).")
            return
        a, b, _ = st.columns([1, 1, 3])
        if a.button("Open results", icon=":material/monitoring:", type="primary"):
            st.session_state[state.RESULTS_RUN] = snap.run_id
            st.switch_page("pages/results.py")
        # As on Runs: a run stopped before its first epoch ended has no evaluated model to recommend with.
        why = None if run.has_model else f"This run has no evaluated model: {run.model_problem}."
        if b.button("Recommend", icon=":material/recommend:", disabled=why is not None, help=why):
            st.session_state[state.RESULTS_RUN] = snap.run_id
            st.switch_page("pages/recommend.py")


def trained_here() -> list[str]:
    """This browser's runs less the single-task baselines (Results' comparison: marked so in their folders, or, saved
    before they were, linked from one of these runs): Train's own runs where a workspace kept none apart (one kept
    before they were, or a session given the runs alone), so that a reload after a baseline shows the run trained
    here, not an empty panel or the baseline (a browser walk)."""
    from mtlrec.gain import baseline_of, is_baseline

    runs = list(st.session_state.get(state.SESSION_RUNS) or [])
    store = state.store()
    baselines = {run_id for run_id in runs if is_baseline(store, run_id)}
    for run_id in runs:
        try:
            baselines.add(baseline_of(store, run_id))
        except MtlrecError:  # a run deleted meanwhile
            continue
    return [run_id for run_id in runs if run_id not in baselines]


def job_panel(current: ExperimentConfig | None = None) -> None:
    """The browser's current job, live, or its latest run, ended: from its job, or after a reload (which leaves
    no finished job) from the run store. Nothing when it has none."""
    holder = session_jobs()
    job = holder.job
    baseline = getattr(job, "baseline_of", None)  # a single-task baseline started on Results (a sweep has none)
    if job is not None and baseline and holder.busy:
        st.divider()
        st.caption(
            f"This browser is training the single-task baseline of run `{baseline}` (Results' *Compare with "
            "single-task*): Train is free again when it ends."
        )
        live_panel(job.config)
    elif job is not None and not baseline:
        st.divider()
        if holder.busy:
            live_panel(job.config)
        else:
            finished_panel(job.snapshot(), job.config, current)
    elif latest := st.session_state.get(state.TRAIN_RUNS) or trained_here():
        # The latest run trained here: a baseline trained since on Results is not it (its panel showed the
        # baseline's curves and cards, and "Open results" opened the baseline, a browser walk)
        saved = saved_snapshot(latest[-1])
        if saved is not None:
            st.divider()
            finished_panel(*saved, current)


st.title("Train")
apply_link()
notices = st.container()  # filled once the controls are drawn: settings moved into their controls' ranges
frame = state.frame()
if frame is None:
    st.info("Load a dataset first: a bundled sample on **Home**, or your own file on **Data**.")
    st.page_link("pages/data.py", label="Go to Data", icon=":material/table_view:")
    job_panel()  # a job this browser started goes on, with its progress and Stop, whatever the page holds
    end_page()
config = state.experiment()
if not config.tasks:
    st.warning("This dataset has no label columns yet: mark at least one column as a label on the **Data** page.")
    st.page_link("pages/data.py", label="Go to Data", icon=":material/table_view:")
    job_panel()
    end_page()

names = [t.name for t in config.tasks]
chosen_before = st.session_state.get(ACTIVE, names)
offered_before = st.session_state.get(OFFERED, names)  # none after a link: its choice is of all these labels
new_labels = [n for n in names if n not in offered_before and n not in chosen_before]  # ticked: never unticked
# In the dataset's order, as the rows below and the run (a task given back by removing a label's fix came last)
active = [n for n in names if n in chosen_before or n in new_labels] or names
chosen = st.multiselect("Tasks to train", names, key=state.seed("train_tasks_widget", active))
st.session_state[ACTIVE], st.session_state[OFFERED] = chosen, names
task_controls(config, chosen, frame)
weighting_controls(config)
model_controls(config, frame, chosen)
state.save_experiment(config)
for note in state.clamped_notes():
    notices.info(fmt.plain(note))
run_config = copy.deepcopy(config)
run_config.tasks = [t for t in config.tasks if t.name in chosen]
mirror_link(config, chosen)
st.caption("The page's address holds these settings: copy it from the address bar to share them.")

holder = session_jobs()
busy = holder.busy
train_slot = st.empty()
widths_bad = st.session_state.get(WIDTH_PROBLEMS) or []
why = ONE_JOB if busy else (f"Fix the layer widths first: {widths_bad[0]}" if widths_bad else None)
if train_slot.button("Train", icon=":material/play_arrow:", type="primary", disabled=busy or not chosen or bool(widths_bad),
                     key="train_start", help=why):  # fmt: skip
    if start_training(run_config, frame) and holder.busy:
        # This same run goes on to draw the job's panel: the button, drawn before the job existed, is swapped for a
        # disabled one (no rerun: a second full drawing of the page cost the browser about a second on a cold start).
        train_slot.button("Train", icon=":material/play_arrow:", type="primary", disabled=True,
                          key="train_start_busy", help=ONE_JOB)  # fmt: skip
job_panel(run_config)
