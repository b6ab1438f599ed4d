"""The typed configuration, read once from params.yaml."""

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import yaml

from components.embedded_dataset.digits import DefectCounts


class ConfigError(ValueError):
    """params.yaml is missing, malformed or holds a bad value."""


@dataclasses.dataclass(frozen=True)
class PrepareConfig:
    output: str
    seed: int
    image_size: int
    val_fraction: float
    test_fraction: float
    unlabeled_fraction: float
    defects: DefectCounts


@dataclasses.dataclass(frozen=True)
class EtlConfig:
    data: str
    output: str
    splits: tuple[str, ...]
    on_bad_file: str
    images_per_shard: int
    parallel_from_images: int
    beam_args: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Config:
    prepare: PrepareConfig
    etl: EtlConfig


def load_config(path: str | Path) -> Config:
    """Read params.yaml into a Config; raise ConfigError naming the file
    and the key at fault."""
    path = Path(path)
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
    where = f"{path}: {key}" if key else f"{path}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {raw!r}")
    fields = {f.name: f.type for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fields))
    missing = sorted(set(fields) - set(raw))
    if unknown or missing:
        raise ConfigError(
            f"{where}: unknown keys {unknown}, missing keys {missing};"
            f" expected exactly {sorted(fields)}"
        )
    values = {}
    for name, kind in fields.items():
        child = f"{key}.{name}" if key else name
        if dataclasses.is_dataclass(kind):
            values[name] = _build(kind, raw[name], path, child)  # type: ignore[arg-type]
        else:
            values[name] = _convert(kind, raw[name], f"{path}: {child}")
    return cls(**values)


def _convert(kind: Any, value: Any, where: str) -> Any:
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
