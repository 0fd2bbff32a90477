"""mtlrec: a lab for multi-task recommendation models. The library never imports streamlit."""

from mtlrec.config import DataConfig, ExperimentConfig, ModelConfig, SplitConfig, TaskSpec, TrainConfig
from mtlrec.errors import MtlrecError

__all__ = [
    "DataConfig",
    "ExperimentConfig",
    "ModelConfig",
    "MtlrecError",
    "SplitConfig",
    "TaskSpec",
    "TrainConfig",
]
__version__ = "0.1.0"
