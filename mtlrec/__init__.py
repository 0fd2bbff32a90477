"""mtlrec: a lab for multi-task recommendation models. The library never imports streamlit.

From Python (see the README's "Use from Python"): load_table or a DataFrame, propose_schema (infer_schema and a
bundled sample's documented tasks), an ExperimentConfig, run_experiment, RunStore().save and .load, Recommender,
run_sweep with a SweepConfig. The config classes and
MtlrecError are imported with the package; the rest on first use (torch and the training code take seconds to
import, and the app's start does not need them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mtlrec.config import DataConfig, ExperimentConfig, ModelConfig, SplitConfig, TaskSpec, TrainConfig
from mtlrec.errors import MtlrecError

if TYPE_CHECKING:
    from mtlrec.data import propose_schema
    from mtlrec.experiment import RunResult, run_experiment
    from mtlrec.io import load_table
    from mtlrec.recommend import Recommender
    from mtlrec.runs import RunStore
    from mtlrec.schema import infer_schema
    from mtlrec.sweep import SweepConfig, run_sweep

# name -> the module that defines it, imported when the name is first asked for
_LAZY = {
    "RunResult": "mtlrec.experiment",
    "run_experiment": "mtlrec.experiment",
    "load_table": "mtlrec.io",
    "Recommender": "mtlrec.recommend",
    "RunStore": "mtlrec.runs",
    "infer_schema": "mtlrec.schema",
    "propose_schema": "mtlrec.data",
    "SweepConfig": "mtlrec.sweep",
    "run_sweep": "mtlrec.sweep",
}

__all__ = [
    "DataConfig",
    "ExperimentConfig",
    "ModelConfig",
    "MtlrecError",
    "Recommender",
    "RunResult",
    "RunStore",
    "SplitConfig",
    "SweepConfig",
    "TaskSpec",
    "TrainConfig",
    "infer_schema",
    "load_table",
    "propose_schema",
    "run_experiment",
    "run_sweep",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # asked once
        return value
    raise AttributeError(f"module 'mtlrec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
