"""The sections of params.yaml that configure the TFX pipeline; see
components/settings.py."""

import dataclasses
from typing import Literal, TypedDict

from components.settings import PathParam

# Settings with fixed choices, checked when params.yaml is read. Not
# imported from the code that uses them, which would tie reading
# params.yaml to the models; tests/test_config.py checks that the two
# agree.
OnAnomalies = Literal["warn", "fail"]
LabelMethod = Literal["auditor", "cross_train", "pixel_probe"]  # METHODS
ModelName = Literal["dcai_resnet50", "mcunet_vww"]  # registry.MODELS


class AdaptiveThreshold(TypedDict):
    # A dict, as the Transform's custom_config needs it.
    block_size: int
    offset: float


@dataclasses.dataclass(frozen=True)
class TransformConfig:
    """Cleanup operations of models/preprocessing.py; 0 or null is off."""

    median_filter: int
    opening: int
    adaptive_threshold: AdaptiveThreshold | None


@dataclasses.dataclass(frozen=True)
class TrainerConfig:
    model: ModelName
    epochs: int | None  # None: the model's own
    augment: bool


@dataclasses.dataclass(frozen=True)
class EvaluatorConfig:
    min_accuracy: float
    max_accuracy_drop: float


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    name: str
    root: PathParam
    metadata: PathParam
    serving_dir: PathParam
    metrics: PathParam
    plots: PathParam
    on_anomalies: OnAnomalies
    beam_args: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class QualityConfig:
    label_method: LabelMethod
    folds: int
    label_epochs: int | None  # per fold; None: the method's default
    label_rounds: int  # K-fold rounds averaged
    near_duplicate_distance: float
    outlier_fence: float
    budget: int
    report: PathParam
