"""The pipeline's components that run this package's code carry its
fingerprint, so TFX reruns them after the code changed instead of
serving what older code made from its cache."""

import dataclasses
import json
import shutil

import pytest

from components.code_version import CODE_VERSION_KEY, code_fingerprint
from pipeline.config import load_config
from pipeline.from_params import pipeline_from_params
from tests.conftest import REPO

# Nodes whose executors run our code: custom components, and the
# Transform and Trainer through preprocessing_fn and run_fn.
OWN_CODE = {"TFLiteExport", "LabelIssues", "Duplicates", "Outliers"}
OWN_CODE |= {"QualityReport"}
USER_CODE = {"Transform", "Trainer"}


@pytest.fixture
def code_copy(tmp_path):
    for package in ("components", "models"):
        shutil.copytree(
            REPO / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return tmp_path


def test_the_fingerprint_follows_the_code_and_nothing_else(code_copy):
    before = code_fingerprint(code_copy)
    assert len(before) == 16
    assert before == code_fingerprint(code_copy)
    cache = code_copy / "models" / "__pycache__"
    cache.mkdir()
    (cache / "registry.cpython-310.pyc").write_bytes(b"bytecode")
    (code_copy / "components" / "notes.txt").write_text("not code")
    assert code_fingerprint(code_copy) == before

    module = code_copy / "models" / "preprocessing.py"
    module.write_text(module.read_text() + "\n# changed\n")
    assert code_fingerprint(code_copy) != before


def test_a_renamed_module_is_a_change(code_copy):
    before = code_fingerprint(code_copy)
    module = code_copy / "components" / "trained_model.py"
    module.rename(module.with_name("model_reader.py"))
    assert code_fingerprint(code_copy) != before


def test_every_component_running_our_code_carries_it(tmp_path):
    data_root = tmp_path / "tfrecords"
    for folder in ("train", "val"):
        (data_root / folder).mkdir(parents=True)
    (data_root / "classes.json").write_text(json.dumps(list("0123456789")))
    config = load_config(REPO / "params.yaml")
    config = dataclasses.replace(
        config, etl=dataclasses.replace(config.etl, output=str(data_root))
    )
    pipeline = pipeline_from_params(config, metadata_connection_config=None)
    nodes = {node.id: node for node in pipeline.components}
    version = code_fingerprint()
    for node in OWN_CODE:
        assert nodes[node].exec_properties[CODE_VERSION_KEY] == version
    for node in USER_CODE:
        custom_config = json.loads(
            nodes[node].exec_properties["custom_config"]
        )
        assert custom_config[CODE_VERSION_KEY] == version
