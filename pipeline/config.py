"""The typed configuration, read once from params.yaml.

Relative paths in it are relative to the folder of params.yaml, wherever
the command runs from.
"""

import dataclasses
import difflib
import types
from pathlib import Path
from typing import (
    Annotated,
    Any,
    Literal,
    TypedDict,
    TypeVar,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

import yaml

from components.embedded_dataset.digits import DefectCounts


class ConfigError(ValueError):
    """params.yaml is missing, malformed or holds a bad value."""


# A path in params.yaml, relative to its folder unless absolute or a URL.
PathParam = Annotated[str, "path"]

# Settings with fixed choices, checked when params.yaml is read. Not
# imported from the code that uses them, which would tie the config to
# the models and Beam; tests/test_config.py checks that the two agree.
OnBadFile = Literal["skip", "fail"]  # etl.ON_BAD_FILE_CHOICES
OnAnomalies = Literal["warn", "fail"]
LabelMethod = Literal["auditor", "cross_train", "pixel_probe"]  # METHODS
ModelName = Literal["dcai_resnet50", "mcunet_vww"]  # registry.MODELS


@dataclasses.dataclass(frozen=True)
class PrepareConfig:
    output: PathParam
    seed: int
    image_size: int
    val_fraction: float
    test_fraction: float
    unlabeled_fraction: float
    defects: DefectCounts


@dataclasses.dataclass(frozen=True)
class EtlConfig:
    data: PathParam
    output: PathParam
    splits: tuple[str, ...]
    on_bad_file: OnBadFile
    images_per_shard: int
    parallel_from_images: int
    beam_args: tuple[str, ...]


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


@dataclasses.dataclass(frozen=True)
class FixConfig:
    # --accept-suggestions applies a suggested relabel or remove from
    # this confidence; the rest is left for review.
    min_confidence: float
    # The data versions' changelog, relative to the git repository of
    # the image folder.
    changelog: str


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    seed: int
    rotation_degrees: float  # at most, either way
    zoom: float  # at most, in or out, as a fraction
    crop: float  # at most, of each side, as a fraction
    brightness: float  # at most, either way, as a fraction
    cleanup_share: float  # of new images that get a cleanup operation
    cleanup: TransformConfig  # the cleanup operations to draw from
    weak_share: float  # of new images for the worst classes and slices


@dataclasses.dataclass(frozen=True)
class AutolabelConfig:
    threshold: float  # accepted into train from this confidence
    review: PathParam  # the images left for review


@dataclasses.dataclass(frozen=True)
class ShiftConfig:
    permutations: int  # of the two-sample test
    alpha: float  # significance level of the tests
    clusters: int  # of the new data, for under-represented regions
    output: PathParam


@dataclasses.dataclass(frozen=True)
class CompareConfig:
    output: PathParam
    jensen_shannon_threshold: float  # drift of a numeric feature
    infinity_norm_threshold: float  # drift of a categorical feature


@dataclasses.dataclass(frozen=True)
class Config:
    prepare: PrepareConfig
    etl: EtlConfig
    pipeline: PipelineConfig
    transform: TransformConfig
    trainer: TrainerConfig
    evaluator: EvaluatorConfig
    quality: QualityConfig
    fix: FixConfig
    augment: AugmentConfig
    autolabel: AutolabelConfig
    shift: ShiftConfig
    compare: CompareConfig


def load_config(path: str | Path) -> Config:
    """Read params.yaml into a Config; raise ConfigError naming the file
    and the key at fault."""
    # Absolute, so that paths stored in MLMD work from any folder.
    path = Path(path).resolve()
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: not found; run from the project folder or pass"
            " --params PATH"
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    return _build(Config, raw, path, key="")


_T = TypeVar("_T")


def _build(cls: type[_T], raw: Any, path: Path, key: str) -> _T:
    """A dataclass or TypedDict from the mapping at `key`, converting
    each value to its annotated type."""
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{_where(path, key)}: expected a mapping, got {raw!r}"
        )
    kinds = get_type_hints(cls, include_extras=True)
    for name in raw:
        if name not in kinds:
            raise ConfigError(
                f"{path}: unknown key {_dotted(key, name)}; "
                + _nearest(str(name), list(kinds), key)
            )
    missing = [_dotted(key, name) for name in kinds if name not in raw]
    if missing:
        keys = "keys" if len(missing) > 1 else "key"
        raise ConfigError(f"{path}: missing {keys} {', '.join(missing)}")
    return cls(
        **{
            name: _convert(kind, raw[name], path, _dotted(key, name))
            for name, kind in kinds.items()
        }
    )


def _nearest(name: str, known: list[str], key: str) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean {_dotted(key, close[0])}?"
    return f"known keys: {', '.join(_dotted(key, k) for k in known)}"


def _dotted(key: str, name: Any) -> str:
    return f"{key}.{name}" if key else str(name)


def _where(path: Path, key: str) -> str:
    return f"{path}: {key}" if key else f"{path}"


def _convert(kind: Any, value: Any, path: Path, key: str) -> Any:
    where = _where(path, key)
    if isinstance(kind, types.UnionType):  # X | None
        if value is None and type(None) in get_args(kind):
            return None
        (kind,) = (arg for arg in get_args(kind) if arg is not type(None))
    if dataclasses.is_dataclass(kind) or is_typeddict(kind):
        return _build(kind, value, path, key)
    if get_origin(kind) is Literal:
        choices = get_args(kind)
        if value not in choices:
            raise ConfigError(
                f"{where}: {value!r} is not one of: {', '.join(choices)}"
            )
        return value
    if get_origin(kind) is Annotated:  # a PathParam
        value = _convert(str, value, path, key)
        return value if "://" in value else str(path.parent / value)
    if kind == tuple[str, ...]:
        if not isinstance(value, list) or not all(
            isinstance(item, str) for item in value
        ):
            raise ConfigError(f"{where}: expected a list of strings")
        return tuple(value)
    if kind is float and type(value) is int:
        return float(value)
    if type(value) is not kind:
        raise ConfigError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value
