"""Every number in params.yaml is checked against its range when it is
read, and refused with the file, the key and the expected range."""

import dataclasses
import math
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import pytest
import yaml

from core.settings import Range, Ranges
from dcp.config import Config, ConfigError, load_config
from tests.conftest import REPO


def numeric_fields(
    cls: Any = Config, key: str = "", ranges: Ranges | None = None
) -> Iterator[tuple[str, type, Range | None]]:
    """(dotted key, int or float, its Range or None) of every number."""
    hints = get_type_hints(cls, include_extras=True)
    extra = ranges.of_fields if ranges else {}
    for name, kind in hints.items():
        dotted = f"{key}.{name}" if key else name
        yield from _numbers(kind, dotted, extra.get(name))


def _numbers(
    kind: Any, key: str, extra: Range | None
) -> Iterator[tuple[str, type, Range | None]]:
    if get_origin(kind) is Union or type(kind).__name__ == "UnionType":
        (kind,) = (a for a in get_args(kind) if a is not type(None))
    marks: tuple[Any, ...] = ()
    if get_origin(kind) is Annotated:
        kind, *found = get_args(kind)
        marks = tuple(found)
    if kind in (int, float):
        mark = extra or next((m for m in marks if isinstance(m, Range)), None)
        yield key, kind, mark
    elif isinstance(kind, type) and hasattr(kind, "__annotations__"):
        nested = next((m for m in marks if isinstance(m, Ranges)), None)
        yield from numeric_fields(kind, key, nested)


def load_with(tmp_path, key: str, value: Any) -> Config:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    *sections, name = key.split(".")
    section = params
    for part in sections:
        section[part] = section[part] or {}
        section = section[part]
    section[name] = value
    if ".adaptive_threshold." in key:
        section.setdefault("block_size", 3)
        section.setdefault("offset", 0.0)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return load_config(path)


def outside(kind: type, allowed: Range) -> list[Any]:
    """Values just outside `allowed`."""
    step = 1 if kind is int else 1e-6
    values = []
    if allowed.low != -math.inf:
        values.append(allowed.low if allowed.above else allowed.low - step)
    if allowed.high != math.inf:
        values.append(allowed.high if allowed.below else allowed.high + step)
    if allowed.odd:
        values.append(4)
    return [kind(v) for v in values]


def inside(kind: type, allowed: Range) -> list[Any]:
    """The ends of `allowed` it includes, or values just inside."""
    step = 1 if kind is int else 1e-6
    low = allowed.low + step if allowed.above else allowed.low
    high = allowed.high - step if allowed.below else allowed.high
    values = [v for v in (low, high) if math.isfinite(v)]
    if allowed.odd:
        values = [v + 1 if v % 2 == 0 and v != 0 else v for v in values]
    return [kind(v) for v in values]


FIELDS = list(numeric_fields())
RANGED = [(key, kind, mark) for key, kind, mark in FIELDS if mark]
KEYS = [key for key, _, _ in RANGED]


def test_every_number_in_params_yaml_has_a_range():
    assert len(FIELDS) > 30
    assert [key for key, _, mark in FIELDS if mark is None] == []


@pytest.mark.parametrize("key, kind, allowed", RANGED, ids=KEYS)
def test_a_number_outside_its_range_is_refused_naming_key_and_range(
    tmp_path, key, kind, allowed
):
    for value in outside(kind, allowed):
        with pytest.raises(ConfigError) as raised:
            load_with(tmp_path, key, value)
        assert str(raised.value) == (
            f"{tmp_path / 'params.yaml'}: {key}: {value!r} is out of range;"
            f" expected {allowed.describe(kind)}"
        )


@pytest.mark.parametrize("key, kind, allowed", RANGED, ids=KEYS)
def test_a_number_at_the_edge_of_its_range_is_read(
    tmp_path, key, kind, allowed
):
    if key.startswith("prepare.") and key.endswith("_fraction"):
        pytest.skip("the three fractions are also checked together")
    for value in inside(kind, allowed):
        config = load_with(tmp_path, key, value)
        got: Any = config
        for part in key.split("."):
            got = got[part] if isinstance(got, dict) else getattr(got, part)
        assert got == value


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("etl.images_per_shard", 0, "expected an integer ≥ 1"),
        ("evaluator.min_accuracy", -3, "expected a number in [0, 1]"),
        ("quality.folds", 1, "expected an integer ≥ 2"),
        ("transform.median_filter", 2, "expected 0 (off) or an odd integer"),
        ("shift.alpha", 1, "expected a number in (0, 1)"),
        ("trainer.epochs", 0, "expected an integer ≥ 1"),
    ],
)
def test_the_message_reads_as_a_fix(tmp_path, key, value, message):
    with pytest.raises(ConfigError) as raised:
        load_with(tmp_path, key, value)
    assert f"params.yaml: {key}: " in str(raised.value)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_split_fractions_must_leave_train_some_images(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_with(tmp_path, "prepare.val_fraction", 0.8)
    assert str(raised.value) == (
        f"{tmp_path / 'params.yaml'}: prepare.val_fraction + test_fraction"
        " + unlabeled_fraction is 1.05; it must be below 1, as train takes"
        " the rest"
    )


def test_an_optional_number_may_be_null(tmp_path):
    assert load_with(tmp_path, "trainer.epochs", None).trainer.epochs is None
    config = load_with(tmp_path, "quality.label_epochs", None)
    assert config.quality.label_epochs is None


def test_the_ranges_of_a_section_defined_elsewhere_name_its_fields():
    """Ranges beside a field of another layer's class (DefectCounts)
    name fields the class has."""
    for field in dataclasses.fields(Config):
        if not dataclasses.is_dataclass(field.type):  # a value, e.g. task
            continue
        hints = get_type_hints(field.type, include_extras=True)
        for kind in hints.values():
            for mark in get_args(kind)[1:]:
                if isinstance(mark, Ranges):
                    names = set(get_type_hints(get_args(kind)[0]))
                    assert set(mark.of_fields) == names
