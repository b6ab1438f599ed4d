"""The step entrypoint on what the open-source KFP 2 driver passes: input
artifacts whose type has an empty instanceSchema, and our own types."""

import json

import pytest
from tfx.orchestration.kubeflow.v2.container import (
    kubeflow_v2_entrypoint_utils,
)
from tfx.types import standard_artifacts
from tfx.utils import import_utils

from components.test_accuracy.keys import SplitAccuracy
from core.findings.quality_artifacts import DataQualityFindings
from dcp.kubeflow_entrypoint import (
    CUSTOM_ARTIFACT_TYPES,
    EXECUTOR_INPUT_FLAG,
    INPUTS_SPEC_FLAG,
    fixed_arguments,
    register_custom_artifact_types,
    with_declared_input_types,
)
from dcp.kubeflow_local import IMAGE_ENV
from tests.conftest import REPO

EXAMPLES_SCHEMA = (
    "title: tfx.Examples\ntype: object\nproperties:\n  split_names:\n"
    "    type: string\n"
)
INPUTS_SPEC = {
    "artifacts": {
        "examples": {"artifactType": {"instanceSchema": EXAMPLES_SCHEMA}},
        "model": {"artifactType": {"instanceSchema": "title: tfx.Model\n"}},
        "findings": {
            "artifactType": {
                "instanceSchema": "title: dcp.DataQualityFindings\n"
            }
        },
    },
    "parameters": {"fence": {"parameterType": "NUMBER_DOUBLE"}},
}


def driver_input() -> dict:
    """An ExecutorInput as the OSS driver builds it: inputs read back from
    MLMD, named by their id, the schema of their type left empty (or, from
    a KFP importer, a system.* title)."""
    return {
        "inputs": {
            "artifacts": {
                "examples": {
                    "artifacts": [
                        {
                            "name": "7",
                            "type": {"instanceSchema": ""},
                            "uri": "/root/ImportExampleGen/1/examples",
                            "metadata": {
                                "split_names": '["train", "eval"]',
                                "display_name": "examples",
                            },
                        }
                    ]
                },
                "model": {
                    "artifacts": [
                        {
                            "name": "9",
                            "type": {"schemaTitle": "system.Model"},
                            "uri": "/root/Trainer/3/model",
                        }
                    ]
                },
                "findings": {
                    "artifacts": [
                        {
                            "name": "11",
                            "type": {"instanceSchema": ""},
                            "uri": "/root/Duplicates/5/duplicates",
                        }
                    ]
                },
            },
            "parameterValues": {"fence": 1.5},
        },
        "outputs": {"outputFile": "/tmp/kfp_outputs/output_metadata.json"},
    }


def parse_inputs(executor_input: dict) -> dict:
    """The input artifacts as TFX's v2 entrypoint parses them."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    message = json_format.ParseDict(
        executor_input, pipeline_spec_pb2.ExecutorInput()
    )
    return kubeflow_v2_entrypoint_utils.parse_raw_artifact_dict(
        message.inputs.artifacts
    )


def test_tfx_alone_cannot_type_what_the_oss_driver_passes():
    executor_input = driver_input()
    artifacts = executor_input["inputs"]["artifacts"]
    executor_input["inputs"]["artifacts"] = {"examples": artifacts["examples"]}
    with pytest.raises(AttributeError, match="NoneType"):
        parse_inputs(executor_input)


def test_declared_types_stand_in_for_empty_and_system_ones():
    register_custom_artifact_types()
    inputs = parse_inputs(
        with_declared_input_types(driver_input(), INPUTS_SPEC)
    )
    (examples,) = inputs["examples"]
    assert isinstance(examples, standard_artifacts.Examples)
    assert examples.split_names == '["train", "eval"]'
    assert examples.uri == "/root/ImportExampleGen/1/examples"
    assert isinstance(inputs["model"][0], standard_artifacts.Model)
    assert type(inputs["findings"][0]) is DataQualityFindings


def test_a_type_with_its_schema_is_kept():
    executor_input = driver_input()
    examples = executor_input["inputs"]["artifacts"]["examples"]
    examples["artifacts"][0]["type"] = {"instanceSchema": "title: tfx.Model\n"}
    fixed = with_declared_input_types(executor_input, INPUTS_SPEC)
    (artifact,) = fixed["inputs"]["artifacts"]["examples"]["artifacts"]
    assert artifact["type"] == {"instanceSchema": "title: tfx.Model\n"}


def test_tfx_alone_takes_our_type_names_for_import_paths():
    with pytest.raises(ImportError, match=r"dcp\.DataQualityFindings"):
        import_utils.import_class_by_path(DataQualityFindings.TYPE_NAME)


def test_our_types_resolve_to_their_classes():
    register_custom_artifact_types()
    for cls in CUSTOM_ARTIFACT_TYPES:
        schema = {"instanceSchema": f"title: {cls.TYPE_NAME}\n"}
        executor_input = {
            "inputs": {
                "artifacts": {
                    "x": {"artifacts": [{"type": schema, "uri": "/x"}]}
                }
            }
        }
        assert type(parse_inputs(executor_input)["x"][0]) is cls
    assert SplitAccuracy in CUSTOM_ARTIFACT_TYPES


def test_the_arguments_get_the_fixed_executor_input():
    argv = [
        "entrypoint",
        "--executor_class_path",
        "tfx.components.pusher.executor.Executor",
        EXECUTOR_INPUT_FLAG,
        json.dumps(driver_input()),
        INPUTS_SPEC_FLAG,
        json.dumps(INPUTS_SPEC),
        "--direct_running_mode=in_memory",
    ]
    fixed = fixed_arguments(argv)
    executor_input = json.loads(fixed[4])
    examples = executor_input["inputs"]["artifacts"]["examples"]["artifacts"]
    assert examples[0]["type"] == {"instanceSchema": EXAMPLES_SCHEMA}
    assert fixed[:4] == argv[:4] and fixed[5:] == argv[5:]
    without_spec = argv[:5]
    assert fixed_arguments(without_spec) == without_spec


def test_run_local_sets_what_the_image_sets():
    dockerfile = (REPO / "Dockerfile").read_text()
    for name, value in IMAGE_ENV.items():
        assert f"{name}={value}" in dockerfile
    assert "dcp.kubeflow_entrypoint" in dockerfile
