import pytest
import yaml

from pipeline.config import ConfigError, load_config
from tests.conftest import REPO


def test_reads_the_projects_params():
    config = load_config(REPO / "params.yaml")
    assert config.etl.splits == ("train", "val", "test")
    assert config.etl.on_bad_file == "skip"
    assert "--runner=DirectRunner" in config.etl.beam_args
    assert config.prepare.defects.label_flip_fraction == 0.05


def edited_params(tmp_path, edit):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    edit(params)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def test_unknown_key_is_named(tmp_path):
    path = edited_params(tmp_path, lambda p: p["etl"].update(shards=3))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(
        f"{path}: etl: unknown keys ['shards']"
    )


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
