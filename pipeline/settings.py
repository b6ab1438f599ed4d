"""The sections of params.yaml that configure the TFX pipeline; see
core/settings.py."""

import dataclasses
from typing import Annotated, Literal, TypedDict

from core.settings import (
    AtLeast,
    Between,
    Fraction,
    PathParam,
    Range,
)

# Settings with fixed choices, checked when params.yaml is read. Not
# imported from the code that uses them, which would tie reading
# params.yaml to the models; tests/test_config.py checks that the two
# agree.
OnAnomalies = Literal["warn", "fail"]
LabelMethod = Literal["auditor", "cross_train", "pixel_probe"]  # METHODS
ModelName = Literal["dcai_resnet50", "mcunet_vww"]  # registry.MODELS

# A window of models/image_cleanup.py: odd, to have a centre pixel.
OddWindow = Annotated[int, Range(low=0, odd=True)]
Epochs = Annotated[int, AtLeast(1)] | None  # None: the default


class AdaptiveThreshold(TypedDict):
    # A dict, as the Transform's custom_config needs it.
    block_size: Annotated[int, Range(low=3, odd=True)]
    offset: Annotated[float, Between(-1, 1)]  # on the 0..1 scale


@dataclasses.dataclass(frozen=True)
class TransformConfig:
    """Cleanup operations of models/preprocessing.py; 0 or null is off."""

    median_filter: OddWindow
    opening: Annotated[int, AtLeast(0)]  # any square
    adaptive_threshold: AdaptiveThreshold | None


@dataclasses.dataclass(frozen=True)
class TrainerConfig:
    model: ModelName
    epochs: Epochs  # None: the model's own
    augment: bool


@dataclasses.dataclass(frozen=True)
class EvaluatorConfig:
    min_accuracy: Fraction
    max_accuracy_drop: Fraction


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
    folds: Annotated[int, AtLeast(2)]  # label_issues.folds.MIN_FOLDS
    label_epochs: Epochs  # per fold; None: the method's default
    label_rounds: Annotated[int, AtLeast(1)]  # K-fold rounds averaged
    near_duplicate_distance: Annotated[float, Between(0, 2)]
    outlier_fence: Annotated[float, Range(low=0, above=True)]
    budget: Annotated[int, AtLeast(1)]
    report: PathParam
