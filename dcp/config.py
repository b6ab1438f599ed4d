"""The typed configuration, read once from params.yaml.

Each section is a dataclass in the settings.py of the layer that uses
it; Config holds them all, and load_config checks params.yaml against
them: unknown and missing keys, types, choices, and each number's range
(a Range beside its field). Relative paths in it are relative to the
folder of params.yaml, wherever the command runs from.
"""

import dataclasses
import difflib
import types
from pathlib import Path
from typing import (
    Annotated,
    Any,
    Literal,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

import yaml

from core.settings import (
    EtlConfig,
    PathParam,
    PrepareConfig,
    Range,
    Ranges,
    TaskName,
)
from core.task import DEFAULT_TASK
from iteration.settings import (
    AugmentConfig,
    AutolabelConfig,
    CompareConfig,
    FixConfig,
    ShiftConfig,
)
from pipeline.settings import (
    EvaluatorConfig,
    PipelineConfig,
    QualityConfig,
    TrainerConfig,
    TransformConfig,
)


class ConfigError(ValueError):
    """params.yaml is missing, malformed or holds a bad value."""


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
    # What the package learns and checks: one of core/task.py's tasks.
    task: TaskName = DEFAULT_TASK


def load_config(path: str | Path) -> Config:
    """Read params.yaml into a Config; raise ConfigError naming the file
    and the key at fault."""
    # Absolute, so that paths stored in MLMD work from any folder.
    path = Path(path).resolve()
    try:
        raw = yaml.safe_load(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: not found; run from the project folder or pass"
            " --params PATH"
        ) from None
    except OSError as error:
        raise ConfigError(
            f"{path}: cannot be read ({error.strerror}); pass --params with"
            " a readable parameters file"
        ) from None
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())  # one line
        raise ConfigError(
            f"{path}: not valid YAML ({reason}); fix it where it says"
        ) from None
    return _build(Config, raw, path, key="")


_T = TypeVar("_T")
_NO_RANGES = Ranges({})


def _build(
    cls: type[_T],
    raw: Any,
    path: Path,
    key: str,
    ranges: Ranges = _NO_RANGES,
) -> _T:
    """A dataclass or TypedDict from the mapping at `key`, converting
    each value to its annotated type; `ranges` adds ranges to fields
    whose class is not annotated with them."""
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{_where(path, key)}: expected a mapping, got {_shown(raw)}"
        )
    kinds = get_type_hints(cls, include_extras=True)
    for name, extra in ranges.of_fields.items():
        kinds[name] = Annotated[kinds[name], extra]
    for name in raw:
        if name not in kinds:
            raise ConfigError(
                f"{path}: unknown key {_dotted(key, name)}; "
                + _nearest(str(name), list(kinds), key)
            )
    optional = {
        field.name
        for field in (
            dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
        )
        if field.default is not dataclasses.MISSING
    }
    missing = [
        _dotted(key, name)
        for name in kinds
        if name not in raw and name not in optional
    ]
    if missing:
        keys = "keys" if len(missing) > 1 else "key"
        raise ConfigError(f"{path}: missing {keys} {', '.join(missing)}")
    values = {
        name: _convert(kind, raw[name], path, _dotted(key, name))
        for name, kind in kinds.items()
        if name in raw
    }
    try:
        return cls(**values)
    except ValueError as error:  # a check across fields (__post_init__)
        raise ConfigError(f"{path}: {error}") from None


def _nearest(name: str, known: list[str], key: str) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean {_dotted(key, close[0])}?"
    return f"known keys: {', '.join(_dotted(key, k) for k in known)}"


def _dotted(key: str, name: Any) -> str:
    return f"{key}.{name}" if key else str(name)


def _where(path: Path, key: str) -> str:
    return f"{path}: {key}" if key else f"{path}"


def _shown(value: Any) -> str:
    """`value` for a one-line message: a long one cut short."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _convert(kind: Any, value: Any, path: Path, key: str) -> Any:
    where = _where(path, key)
    if isinstance(kind, types.UnionType) or get_origin(kind) is Union:
        if value is None and type(None) in get_args(kind):
            return None  # X | None
        (kind,) = (arg for arg in get_args(kind) if arg is not type(None))
    if get_origin(kind) is Annotated:
        return _convert_annotated(kind, value, path, key)
    if dataclasses.is_dataclass(kind) or is_typeddict(kind):
        return _build(kind, value, path, key)
    if get_origin(kind) is Literal:
        choices = get_args(kind)
        if value not in choices:
            raise ConfigError(
                f"{where}: {_shown(value)} is not one of: {', '.join(choices)}"
            )
        return value
    if kind == tuple[str, ...]:
        if not isinstance(value, list) or not all(
            isinstance(item, str) for item in value
        ):
            raise ConfigError(f"{where}: expected a list of strings")
        return tuple(value)
    if kind == dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str | int) and isinstance(v, str | int)
            for k, v in value.items()
        ):
            raise ConfigError(
                f"{where}: expected a mapping of names to names, such as"
                " {bus: vehicle, car: vehicle}"
            )
        # YAML reads a folder named 3 as a number.
        return {str(k): str(v) for k, v in value.items()}
    if kind is float and type(value) is int:
        return float(value)
    if type(value) is not kind:
        raise ConfigError(
            f"{where}: expected {kind.__name__}, got {_shown(value)}"
        )
    return value


def _convert_annotated(kind: Any, value: Any, path: Path, key: str) -> Any:
    """A PathParam, a number with its Range, or a section with the
    Ranges of its fields."""
    if kind == PathParam:
        value = _convert(str, value, path, key)
        return value if "://" in value else str(path.parent / value)
    inner, mark = get_args(kind)
    if isinstance(mark, Ranges):
        return _build(inner, value, path, key, mark)
    value = _convert(inner, value, path, key)
    if isinstance(mark, Range) and value not in mark:
        raise ConfigError(
            f"{_where(path, key)}: {value!r} is out of range; expected"
            f" {mark.describe(inner)}"
        )
    return value
