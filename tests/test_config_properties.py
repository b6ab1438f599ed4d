"""Whatever params.yaml holds, load_config reads it or refuses it with a
one-line ConfigError naming the file; never another exception."""

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcp.config import Config, ConfigError, load_config
from tests.conftest import REPO
from tests.test_config_ranges import numeric_fields

PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())
FAST = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=10), inner, max_size=4),
    ),
    max_leaves=12,
)


def key_paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple]:
    """Every key path of the nested mapping `node`."""
    paths = []
    for key, value in node.items():
        paths.append((*prefix, key))
        if isinstance(value, dict):
            paths += key_paths(value, (*prefix, key))
    return paths


KEY_PATHS = key_paths(PARAMS)


def check_loads_or_refuses(path: Path) -> None:
    try:
        config = load_config(path)
    except ConfigError as error:
        message = str(error)
        assert message.startswith(f"{path.resolve()}:"), message
        assert "\n" not in message, message
    else:
        assert isinstance(config, Config)
        assert_in_range(config)


def assert_in_range(config: Config) -> None:
    """A config that loaded has every number within its range."""
    for key, _, allowed in numeric_fields():
        value: Any = config
        for part in key.split("."):
            if value is None:
                break
            value = (
                value.get(part)
                if isinstance(value, dict)
                else getattr(value, part)
            )
        if value is not None and allowed is not None:
            assert value in allowed, (key, value)


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@FAST
@given(document=values)
def test_any_yaml_document_is_read_or_refused(tmp_path, document):
    check_loads_or_refuses(write(tmp_path, document))


@FAST
@given(
    where=st.sampled_from(KEY_PATHS),
    change=st.sampled_from(["replace", "delete", "unknown key"]),
    value=values,
)
def test_a_mutated_params_yaml_is_read_or_refused(
    tmp_path, where, change, value
):
    params = copy.deepcopy(PARAMS)
    *parents, name = where
    section = params
    for part in parents:
        section = section[part]
    if change == "replace":
        section[name] = value
    elif change == "delete":
        del section[name]
    else:
        section[f"{name}_{value!r}"[:30]] = value
    check_loads_or_refuses(write(tmp_path, params))


@FAST
@given(
    wheres=st.lists(st.sampled_from(KEY_PATHS), min_size=2, max_size=6),
    numbers=st.lists(
        st.one_of(st.integers(-5, 10**6), st.floats()), min_size=6
    ),
)
def test_random_numbers_anywhere_are_read_only_within_range(
    tmp_path, wheres, numbers
):
    params = copy.deepcopy(PARAMS)
    for where, number in zip(wheres, numbers, strict=False):
        *parents, name = where
        section = params
        for part in parents:
            section = section.get(part) if isinstance(section, dict) else {}
        if isinstance(section, dict):
            section[name] = number
    check_loads_or_refuses(write(tmp_path, params))


@FAST
@given(garbage=st.binary(max_size=200))
def test_garbage_bytes_are_refused_or_read(tmp_path, garbage):
    path = tmp_path / "params.yaml"
    path.write_bytes(garbage)
    check_loads_or_refuses(path)


@FAST
@given(text=st.text(max_size=200))
def test_arbitrary_text_is_refused_or_read(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    check_loads_or_refuses(path)


def test_a_folder_in_place_of_params_yaml_is_refused(tmp_path):
    (tmp_path / "params.yaml").mkdir()
    check_loads_or_refuses(tmp_path / "params.yaml")
