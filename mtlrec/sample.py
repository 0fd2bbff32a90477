"""Synthetic feed interaction log with known ground truth, and the registry of bundled samples.

Every row's true click, like and purchase probabilities (and expected watch time) are known, so a model's AUC can
be compared with the oracle's, and the correlation between the tasks is a knob (for teaching negative transfer).

Each task's logit is a sum of effects a shared-bottom model can learn from ~70k rows: an (age x gender) x category
affinity, a category effect, a smooth hour x device effect, a monotone position bias, price, duration and activity
slopes, and small per-user and per-item biases. click, like and cvr (purchase given click) are independent draws
given these probabilities (a like can come from the feed card, without a click); purchase = click * cvr.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mtlrec.errors import MtlrecError

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"

SAMPLES: dict[str, dict] = {
    "synthetic": {
        "file": "synthetic.parquet",
        "title": "Synthetic feed log (known ground truth)",
        "description": "A short-video/e-commerce feed log of 100,000 impressions whose true click, like and "
        "purchase probabilities are known, so every model can be compared with the oracle.",
        "tasks": {"click": "binary", "like": "binary", "purchase": "binary", "watch_time": "regression"},
        "user_col": "user_id",
        "item_col": "item_id",
        "time_col": "timestamp",
    },
    "census": {
        "file": "census_income.parquet",
        "title": "Census-Income (KDD), UCI",
        "description": "A 40,000-person sample of the 1994-95 US Current Population Survey with two tasks, "
        "income above $50k and never married (the classic MMoE benchmark).",
        "tasks": {"income_50k": "binary", "never_married": "binary"},
        "user_col": None,
        "item_col": None,
        "time_col": None,
    },
}

AGE_BUCKETS = ("18-24", "25-34", "35-44", "45-54", "55+")
AGE_SHARES = (0.22, 0.31, 0.22, 0.14, 0.11)
GENDERS = ("female", "male")
# The city affects no task: a realistic distractor feature.
CITIES = (
    "Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Chengdu", "Hangzhou", "Wuhan", "Chongqing", "Nanjing",
    "Tianjin", "Xi'an", "Suzhou", "Zhengzhou", "Changsha", "Dongguan", "Shenyang", "Qingdao", "Hefei", "Foshan",
    "Jinan", "Harbin", "Kunming", "Dalian", "Xiamen", "Fuzhou", "Wuxi", "Ningbo", "Changchun", "Shijiazhuang",
    "Nanning", "Guiyang", "Nanchang", "Taiyuan", "Urumqi", "Lanzhou", "Hohhot", "Haikou", "Yinchuan", "Xining",
    "Lhasa",
)  # fmt: skip
CATEGORIES = (
    "fashion", "beauty", "electronics", "home", "food", "sports", "toys", "books", "music", "gaming",
    "travel", "pets", "auto", "health", "finance", "comedy", "dance", "education", "news", "diy",
)  # fmt: skip
DEVICES = ("ios", "android", "web")
DEVICE_SHARES = (0.42, 0.48, 0.10)
AGE_OF_SEGMENT = np.repeat(np.arange(len(AGE_BUCKETS)), len(GENDERS))  # segment = age * n_genders + gender
GENDER_OF_SEGMENT = np.tile(np.arange(len(GENDERS)), len(AGE_BUCKETS))
N_POSITIONS = 20  # feed slots 1..20
# Share of a day's impressions per hour (UTC): quiet nights, a lunch bump, an evening peak.
HOUR_PROFILE = np.array([3, 2, 1, 1, 1, 1, 2, 3, 4, 4, 4, 5, 6, 5, 4, 4, 4, 5, 6, 7, 8, 8, 7, 5], dtype=float)
START_TIME = 1_709_251_200  # 2024-03-01 00:00:00 UTC, in Unix seconds
TASKS = ("click", "like", "cvr", "watch")  # the latent signals; purchase = click * cvr
BINARY_TRUTH = {"click": "p_click", "like": "p_like", "purchase": "p_purchase"}
TRUTH_COLUMNS = ["p_click", "p_like", "p_purchase", "e_watch_time"]
# Intercepts chosen so that the default world logs ~13% clicks, ~6% likes and ~3% purchases.
INTERCEPTS = {"click": -1.3, "like": -2.4, "cvr": -2.0, "watch": 2.7}
# Fixed (not correlation-mixed) slopes: presentation and price effects every real feed shows.
POSITION_SLOPE = {"click": -0.5, "like": -0.3, "cvr": 0.0, "watch": 0.0}  # per log(position)
PRICE_SLOPE = {"click": -0.2, "like": 0.0, "cvr": -0.8, "watch": 0.0}  # per sd of log(price)
DURATION_SLOPE = {"click": -0.15, "like": 0.3, "cvr": 0.0, "watch": 0.6}  # per sd of log(duration)
ACTIVITY_SLOPE = {"click": 0.15, "like": 0.0, "cvr": 0.0, "watch": 0.0}  # per sd of log(activity)
# Scale of the correlation-mixed tables per task: watch time is in log seconds, where a logit-sized spread
# would make 100x differences between users.
SIGNAL_SCALE = {"click": 1.0, "like": 1.0, "cvr": 1.0, "watch": 0.4}
WATCH_SIGMA = 0.6  # sd of log(watch time) around its mean, given a click


@dataclass
class SyntheticSpec:
    n_users: int = 3000  # distinct users
    n_items: int = 1500  # distinct items
    n_rows: int = 100_000  # impressions in the log
    task_correlation: float = 0.5  # in [-1, 1]: correlation of the click signal with the like, CVR and watch signals
    seed: int = 0  # same seed, same world and same log
    n_days: int = 30  # length of the log in days
    popularity_skew: float = 0.8  # Zipf exponent of item exposure (0 = uniform)
    activity_skew: float = 0.8  # sd of log(user activity); rows per user are proportional to activity
    affinity_sd: float = 1.0  # sd of the (age x gender) x category affinity table, in logits
    bias_sd: float = 0.1  # sd of the per-user and per-item random biases, in logits
    missing_activity: float = 0.02  # share of users whose user_activity is reported as NaN

    def check(self) -> None:
        """Raise MtlrecError listing every setting that cannot work."""
        problems = []
        for name in ("n_users", "n_items", "n_rows", "n_days"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.seed < 0:
            problems.append(f"seed must be >= 0, got {self.seed}")
        if not -1 <= self.task_correlation <= 1:
            problems.append(f"task_correlation must be in [-1, 1], got {self.task_correlation}")
        for name in ("popularity_skew", "activity_skew", "affinity_sd", "bias_sd"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.missing_activity < 1:
            problems.append(f"missing_activity must be in [0, 1), got {self.missing_activity}")
        if problems:
            raise MtlrecError(problems, source="synthetic spec")


class SyntheticWorld:
    """All latent parameters of one synthetic world; ``truth`` scores any (user, item, context) rows."""

    def __init__(self, spec: SyntheticSpec | None = None):
        self.spec = spec = spec or SyntheticSpec()
        spec.check()
        # The world and the log use separate streams, so the world does not depend on n_rows and changing
        # task_correlation changes only how the same draws are mixed (same users, items and impressions).
        rng = np.random.default_rng([spec.seed, 0])
        n_users, n_items = spec.n_users, spec.n_items
        self.user_ids = np.array([f"u{i:0{len(str(n_users - 1))}d}" for i in range(n_users)])
        self.item_ids = np.array([f"i{i:0{len(str(n_items - 1))}d}" for i in range(n_items)])

        self.user_age = rng.choice(len(AGE_BUCKETS), n_users, p=AGE_SHARES)
        self.user_gender = rng.integers(0, len(GENDERS), n_users)
        self.user_segment = self.user_age * len(GENDERS) + self.user_gender  # the affinity table's row
        self.user_city = rng.choice(len(CITIES), n_users, p=_zipf(len(CITIES), 0.8))
        self.user_device = rng.choice(len(DEVICES), n_users, p=DEVICE_SHARES)  # the device a user mostly uses
        log_activity = np.log(2.0) + spec.activity_skew * rng.standard_normal(n_users)
        self.user_activity = np.exp(log_activity)  # sessions per day; drives how many rows a user gets
        self.user_activity_z = _standardise(log_activity)
        self.activity_missing = rng.random(n_users) < spec.missing_activity

        self.item_category = rng.choice(len(CATEGORIES), n_items, p=_zipf(len(CATEGORIES), 0.5))
        category_price = np.exp(np.log(30.0) + 0.8 * rng.standard_normal(len(CATEGORIES)))
        log_price = np.log(category_price[self.item_category]) + 0.6 * rng.standard_normal(n_items)
        self.item_price = np.maximum(np.round(np.exp(log_price), 2), 0.99)  # skewed, category-dependent
        duration = np.round(30.0 * np.exp(0.7 * rng.standard_normal(n_items)))  # seconds, median 30
        self.item_duration = np.clip(duration, 5, 600).astype(np.int64)
        self.item_price_z = _standardise(np.log(self.item_price))
        self.item_duration_z = _standardise(np.log(self.item_duration))
        self.item_popularity = rng.permutation(_zipf(n_items, spec.popularity_skew))

        # Effect tables per task: rho * shared + sqrt(1 - rho^2) * own, with click's table the shared one, so
        # click correlates with each other task at rho (and the other tasks with each other at rho^2).
        rho = spec.task_correlation
        shapes = {
            # The (age x gender) x category affinity is age x category plus gender x category: 140 free values
            # rather than 200, each seen often enough to be learnt from ~70k rows.
            "age_category": ((len(AGE_BUCKETS), len(CATEGORIES)), spec.affinity_sd / np.sqrt(2)),
            "gender_category": ((len(GENDERS), len(CATEGORIES)), spec.affinity_sd / np.sqrt(2)),
            "category": ((len(CATEGORIES),), 0.5),
            "device": ((len(DEVICES),), 0.25),
            "hour": ((4,), 0.25),  # two daily harmonics
            "hour_device": ((len(DEVICES), 4), 0.08),  # device-specific daily harmonics
            "user": ((n_users,), spec.bias_sd),
            "item": ((n_items,), spec.bias_sd),
        }
        shared = {name: sd * rng.standard_normal(shape) for name, (shape, sd) in shapes.items()}
        self.effects: dict[str, dict[str, np.ndarray]] = {"click": shared}
        for task in TASKS[1:]:
            own = {name: sd * rng.standard_normal(shape) for name, (shape, sd) in shapes.items()}
            mix = {name: rho * shared[name] + np.sqrt(1 - rho**2) * own[name] for name in shapes}
            self.effects[task] = {name: SIGNAL_SCALE[task] * table for name, table in mix.items()}
        angle = 2 * np.pi * np.arange(24) / 24
        hour_basis = np.stack([np.sin(angle), np.cos(angle), np.sin(2 * angle), np.cos(2 * angle)])  # (4, 24)
        for task in TASKS:
            e = self.effects[task]
            # Smooth in the hour, so a model learns it from hour as a number or as a category.
            e["hour_device"] = e["device"][:, None] + (e["hour"] + e["hour_device"]) @ hour_basis  # (devices, 24)
            e["affinity"] = e["age_category"][AGE_OF_SEGMENT] + e["gender_category"][GENDER_OF_SEGMENT]

    def truth(self, frame: pd.DataFrame) -> pd.DataFrame:
        """True p_click, p_like, p_purchase (= p_click * p_cvr) and e_watch_time (0 when not clicked) per row.

        Needs user_id, item_id, hour, device and position; the user and item features come from the world.
        """
        signals = self._signals(*self._lookup(frame))
        e_watch_given_click = np.exp(signals["watch"] + WATCH_SIGMA**2 / 2)  # the lognormal mean
        return pd.DataFrame(
            {
                "p_click": signals["click"],
                "p_like": signals["like"],
                "p_purchase": signals["click"] * signals["cvr"],
                "e_watch_time": signals["click"] * e_watch_given_click,
            },
            index=frame.index,
        )

    def sample(self, n_rows: int | None = None, with_truth: bool = False) -> pd.DataFrame:
        """Draw the interaction log (rows in time order); with_truth appends the truth columns."""
        n = self.spec.n_rows if n_rows is None else n_rows
        rng = np.random.default_rng([self.spec.seed, 1])
        users = rng.choice(self.spec.n_users, n, p=self.user_activity / self.user_activity.sum())
        items = rng.choice(self.spec.n_items, n, p=self.item_popularity)
        day = rng.integers(0, self.spec.n_days, n)
        hours = rng.choice(24, n, p=HOUR_PROFILE / HOUR_PROFILE.sum())
        timestamps = START_TIME + day * 86_400 + hours * 3_600 + rng.integers(0, 3_600, n)
        # Users mostly stay on their own device.
        devices = np.where(rng.random(n) < 0.85, self.user_device[users], rng.integers(0, len(DEVICES), n))
        positions = rng.integers(1, N_POSITIONS + 1, n)
        order = np.lexsort((users, timestamps))  # time order overall, hence per user too
        users, items, hours, timestamps, devices, positions = (
            a[order] for a in (users, items, hours, timestamps, devices, positions)
        )

        signals = self._signals(users, items, hours, devices, positions)
        click = rng.random(n) < signals["click"]
        like = rng.random(n) < signals["like"]
        purchase = click & (rng.random(n) < signals["cvr"])  # a purchase needs a click first
        watch = np.exp(signals["watch"] + WATCH_SIGMA * rng.standard_normal(n))
        activity = np.where(self.activity_missing, np.nan, np.round(self.user_activity, 2))
        frame = pd.DataFrame(
            {
                "user_id": _take(self.user_ids, users),
                "item_id": _take(self.item_ids, items),
                "timestamp": timestamps,
                "user_age": _take(AGE_BUCKETS, self.user_age[users]),
                "user_gender": _take(GENDERS, self.user_gender[users]),
                "user_city": _take(CITIES, self.user_city[users]),
                "user_activity": activity[users],
                "item_category": _take(CATEGORIES, self.item_category[items]),
                "item_price": self.item_price[items],
                "item_duration": self.item_duration[items],
                "hour": hours,
                "device": _take(DEVICES, devices),
                "position": positions,
                "click": click.astype(np.int64),
                "like": like.astype(np.int64),
                "purchase": purchase.astype(np.int64),
                # Rounded to 0.1 s (smaller file, exact round trip); at least 0.1 s, so a click always watches.
                "watch_time": np.where(click, np.maximum(np.round(watch, 1), 0.1), 0.0),
            }
        )
        return pd.concat([frame, self.truth(frame)], axis=1) if with_truth else frame

    def _signals(self, users, items, hours, devices, positions) -> dict[str, np.ndarray]:
        """p_click, p_like, p_cvr (purchase given click) and the mean log watch time given a click."""
        return {
            "click": _sigmoid(self._logit("click", users, items, hours, devices, positions)),
            "like": _sigmoid(self._logit("like", users, items, hours, devices, positions)),
            "cvr": _sigmoid(self._logit("cvr", users, items, hours, devices, positions)),
            "watch": self._logit("watch", users, items, hours, devices, positions),
        }

    def _logit(self, task, users, items, hours, devices, positions) -> np.ndarray:
        """Additive logit of a task (for watch: the mean of log seconds) for rows given as index arrays."""
        e = self.effects[task]
        return (
            INTERCEPTS[task]
            + e["affinity"][self.user_segment[users], self.item_category[items]]
            + e["category"][self.item_category[items]]
            + e["hour_device"][devices, hours]
            + e["user"][users]
            + e["item"][items]
            + POSITION_SLOPE[task] * np.log(positions)
            + PRICE_SLOPE[task] * self.item_price_z[items]
            + DURATION_SLOPE[task] * self.item_duration_z[items]
            + ACTIVITY_SLOPE[task] * self.user_activity_z[users]
        )

    def _lookup(self, frame: pd.DataFrame) -> tuple[np.ndarray, ...]:
        """Map the rows' user_id, item_id, hour, device and position to index arrays; raise on anything unknown."""
        needed = ["user_id", "item_id", "hour", "device", "position"]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise MtlrecError(f"truth needs the columns {', '.join(missing)}", source="synthetic truth")
        problems = []
        indices = []
        for column, known in (("user_id", self.user_ids), ("item_id", self.item_ids), ("device", DEVICES)):
            index = pd.Index(known).get_indexer(frame[column].astype(object))
            if (index < 0).any():
                unknown = frame[column][index < 0].astype(str).unique()[:5]
                problems.append(f"column '{column}' has values this world does not know: {', '.join(unknown)}")
            indices.append(index)
        numbers = {}
        for column, low, high in (("hour", 0, 23), ("position", 1, N_POSITIONS)):
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            bad = ~((values >= low) & (values <= high) & (values == np.round(values)))
            if bad.any():
                problems.append(f"column '{column}' must hold whole numbers from {low} to {high}")
            numbers[column] = np.where(bad, low, values).astype(np.int64)
        if problems:
            raise MtlrecError(problems, source="synthetic truth")
        users, items, devices = indices
        return users, items, numbers["hour"], devices, numbers["position"]


def generate(spec: SyntheticSpec | None = None, with_truth: bool = False) -> pd.DataFrame:
    """The synthetic log for a spec (default: the bundled sample's); with_truth appends the truth columns."""
    return SyntheticWorld(spec).sample(with_truth=with_truth)


def write_sample(out_dir: str | Path, spec: SyntheticSpec | None = None) -> list[Path]:
    """Write synthetic.parquet (features, labels), synthetic_truth.parquet (row-aligned) and synthetic.json (spec)."""
    spec = spec or SyntheticSpec()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = generate(spec, with_truth=True)
    paths = [out_dir / "synthetic.parquet", out_dir / "synthetic_truth.parquet", out_dir / "synthetic.json"]
    data.drop(columns=TRUTH_COLUMNS).to_parquet(paths[0], index=False, compression="zstd")
    # float32 halves the file; the truth is a reference for metrics, not an input to reproduce bit for bit.
    data[TRUTH_COLUMNS].astype(np.float32).to_parquet(paths[1], index=False, compression="zstd")
    paths[2].write_text(json.dumps(dataclasses.asdict(spec), indent=2) + "\n", encoding="utf-8")
    return paths


def world_spec_path(data_path: str | None) -> Path | None:
    """The spec (synthetic.json) of the synthetic world a dataset was drawn from: the bundled sample's for
    'sample:synthetic', the one beside a synthetic.parquet that write_sample wrote (a world generated in the app),
    None for any other data."""
    if data_path == "sample:synthetic":
        return SAMPLE_DIR / "synthetic.json"
    if not data_path or data_path.startswith("sample:"):
        return None
    path = Path(data_path)
    spec = path.with_name("synthetic.json")
    return spec if path.name == "synthetic.parquet" and spec.is_file() else None


def generated_world(data_path: str | None) -> tuple[float, int, int] | None:
    """(task correlation, rows, seed) of a synthetic world generated in the app (a synthetic.parquet beside its
    spec); None for any other data, the bundled sample included, and for a spec that cannot be read."""
    if not data_path or str(data_path).startswith("sample:"):
        return None
    spec_path = world_spec_path(str(data_path))
    if spec_path is None:
        return None
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        return float(spec["task_correlation"]), int(spec["n_rows"]), int(spec["seed"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def oracle_auc(frame_with_labels: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """ROC AUC of each binary label against its true probability: the best AUC any model can expect."""
    from sklearn.metrics import roc_auc_score

    result = {}
    for task, column in BINARY_TRUTH.items():
        labels = frame_with_labels[task].to_numpy()
        if len(np.unique(labels)) < 2:
            raise MtlrecError(f"label '{task}' has a single class, so its AUC is undefined", source="oracle AUC")
        result[task] = float(roc_auc_score(labels, truth[column].to_numpy()))
    return result


def sample_path(name: str) -> Path:
    """The bundled file of a sample in SAMPLES."""
    if name not in SAMPLES:
        raise MtlrecError(f"unknown sample '{name}'; known samples: {', '.join(SAMPLES)}")
    return SAMPLE_DIR / SAMPLES[name]["file"]


def _zipf(n: int, exponent: float) -> np.ndarray:
    """Probabilities proportional to 1 / rank^exponent (rank 1 is the most popular)."""
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def _take(names, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Strings by code, as a pandas string array (10x faster than building Python strings per row)."""
    return pd.array(list(names), dtype="str").take(codes)


def _standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() or 1.0)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
