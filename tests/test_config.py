import dataclasses
from typing import get_args, get_type_hints

import pytest
import yaml

from core.settings import PathParam
from dcp.config import ConfigError, load_config
from tests.conftest import REPO


def test_reads_every_value_of_the_projects_params(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # paths do not depend on where dcp runs
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    config = load_config(REPO / "params.yaml")
    for section, values in raw.items():
        loaded = getattr(config, section)
        if not isinstance(values, dict):  # a top-level value, e.g. task
            assert loaded == values, section
            continue
        kinds = get_type_hints(type(loaded), include_extras=True)
        for key, value in values.items():
            got, where = getattr(loaded, key), f"{section}.{key}"
            if kinds[key] == PathParam:
                assert got == str(REPO / value), where
            elif dataclasses.is_dataclass(got):
                assert dataclasses.asdict(got) == value, where
            elif isinstance(value, list):
                assert got == tuple(value), where
            else:
                assert got == value or (got, value) == ({}, None), where


def edited_params(tmp_path, edit):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    edit(params)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def load_edited(tmp_path, edit):
    """The ConfigError message of params.yaml after `edit`."""
    path = edited_params(tmp_path, edit)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    return str(raised.value).removeprefix(f"{path}: ")


@pytest.mark.parametrize(
    "section, key, typo, choices",
    [
        ("pipeline", "on_anomalies", "fial", "warn, fail"),
        ("etl", "on_bad_file", "Skip", "skip, fail"),
        ("quality", "label_method", "cross-train", "auditor, cross_train"),
        ("trainer", "model", "resnet50", "dcai_resnet50, mcunet_vww"),
    ],
)
def test_a_choice_outside_its_choices_is_refused(
    tmp_path, section, key, typo, choices
):
    message = load_edited(tmp_path, lambda p: p[section].update({key: typo}))
    assert message.startswith(f"{section}.{key}: {typo!r} is not one of: ")
    assert choices in message


@pytest.mark.parametrize(
    "where, typo, meant",
    [
        ((), "qualty", "quality"),
        (("quality",), "lable_method", "quality.label_method"),
        (
            ("prepare", "defects"),
            "blank_image",
            "prepare.defects.blank_images",
        ),
        (("augment", "cleanup"), "openning", "augment.cleanup.opening"),
    ],
)
def test_an_unknown_key_names_the_nearest_known_one(
    tmp_path, where, typo, meant
):
    def edit(params):
        section = params
        for name in where:
            section = section[name]
        section[typo] = section.pop(meant.rsplit(".", 1)[-1])

    assert load_edited(tmp_path, edit) == (
        f"unknown key {'.'.join((*where, typo))}; did you mean {meant}?"
    )


def test_adaptive_threshold_takes_exactly_its_two_keys(tmp_path):
    def threshold(**settings):
        return lambda p: p["transform"].update(adaptive_threshold=settings)

    path = edited_params(tmp_path, threshold(block_size=11, offset=-0.05))
    loaded = load_config(path).transform.adaptive_threshold
    # An int, as the Transform's image_cleanup.adaptive_threshold needs.
    assert loaded == {"block_size": 11, "offset": -0.05}
    assert type(loaded["block_size"]) is int
    assert load_edited(tmp_path, threshold(blok_size=11, offset=0)) == (
        "unknown key transform.adaptive_threshold.blok_size; did you mean"
        " transform.adaptive_threshold.block_size?"
    )


def test_an_unknown_key_with_no_near_one_lists_the_known_keys(tmp_path):
    message = load_edited(tmp_path, lambda p: p["etl"].update(shards=3))
    assert message.startswith("unknown key etl.shards; known keys: etl.data,")


def test_a_missing_key_is_named(tmp_path):
    message = load_edited(tmp_path, lambda p: p["quality"].pop("folds"))
    assert message == "missing key quality.folds"


def test_the_choices_agree_with_the_code_that_uses_them():
    # Imported here: these modules import TensorFlow.
    from core.dataset.etl.etl import ON_BAD_FILE_CHOICES
    from core.settings import OnBadFile
    from models.registry import MODELS
    from pipeline.settings import LabelMethod, ModelName
    from tasks.classification.label_issues.out_of_sample import METHODS

    assert get_args(OnBadFile) == ON_BAD_FILE_CHOICES
    assert get_args(LabelMethod) == METHODS
    assert get_args(ModelName) == tuple(MODELS)


def test_wrong_type_is_named_with_its_key_path(tmp_path):
    def edit(params):
        params["prepare"]["defects"]["blank_images"] = "three"

    with pytest.raises(ConfigError) as raised:
        load_config(edited_params(tmp_path, edit))
    assert "prepare.defects.blank_images: expected int, got 'three'" in str(
        raised.value
    )


def test_missing_file_says_how_to_fix_it(tmp_path):
    with pytest.raises(ConfigError, match="--params PATH"):
        load_config(tmp_path / "params.yaml")


def test_label_map_reads_numeric_folder_names_as_names(tmp_path):
    def edit(params):
        params["etl"]["labels"] = {3: "round", 8: "round", "7": 1}

    config = load_config(edited_params(tmp_path, edit))
    assert config.etl.labels == {"3": "round", "8": "round", "7": "1"}
    assert load_config(REPO / "params.yaml").etl.labels == {}


def test_label_map_must_map_names_to_names(tmp_path):
    message = load_edited(
        tmp_path, lambda p: p["etl"].update(labels=["bus", "car"])
    )
    assert message.startswith("etl.labels: expected a mapping of names")
    assert "{bus: vehicle, car: vehicle}" in message
