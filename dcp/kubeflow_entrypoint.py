"""What every Kubeflow step runs (the compiled spec's command):

  python -m dcp.kubeflow_entrypoint --executor_class_path ... \\
    --json_serialized_invocation_args EXECUTOR_INPUT ...

TFX's v2 container entrypoint, after two fixes to what it is given:

- the open-source KFP 2 driver passes each input artifact with an empty
  instanceSchema (it does not keep the schema in MLMD), from which TFX
  cannot tell the artifact's class: the type the component declares for
  that input (--json_serialized_inputs_spec_args) takes its place, as it
  does for a type TFX cannot import (a KFP `system.*` title);
- TFX imports a custom artifact type by its schema title, which for ours
  is the type name (dcp.SplitAccuracy), not an import path: the titles of
  ours are mapped to their classes.
"""

import json
import sys
from collections.abc import Sequence
from typing import Any

from absl import app
from tfx.orchestration.kubeflow.v2 import compiler_utils
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor

from components.test_accuracy.keys import SplitAccuracy
from core.findings.quality_artifacts import (
    DataQualityFindings,
    DataQualityReport,
)

CUSTOM_ARTIFACT_TYPES = (DataQualityFindings, DataQualityReport, SplitAccuracy)
EXECUTOR_INPUT_FLAG = "--json_serialized_invocation_args"
INPUTS_SPEC_FLAG = "--json_serialized_inputs_spec_args"


def with_declared_input_types(
    executor_input: dict[str, Any], inputs_spec: dict[str, Any]
) -> dict[str, Any]:
    """`executor_input` (JSON) with the declared type of each input
    artifact whose own type TFX cannot resolve to a class."""
    declared = inputs_spec.get("artifacts", {})
    artifacts = executor_input.get("inputs", {}).get("artifacts", {})
    for key, artifact_list in artifacts.items():
        for artifact in artifact_list.get("artifacts", []):
            if key in declared and not _resolvable(artifact.get("type", {})):
                artifact["type"] = declared[key]["artifactType"]
    return executor_input


def _resolvable(artifact_type: dict[str, Any]) -> bool:
    if artifact_type.get("instanceSchema"):
        return True
    title = artifact_type.get("schemaTitle", "")
    return bool(title) and not title.startswith("system.")


def register_custom_artifact_types() -> None:
    compiler_utils.TITLE_TO_CLASS_PATH.update(
        {
            cls.TYPE_NAME: f"{cls.__module__}.{cls.__qualname__}"
            for cls in CUSTOM_ARTIFACT_TYPES
        }
    )


def fixed_arguments(argv: Sequence[str]) -> list[str]:
    """`argv` with the ExecutorInput given its declared input types."""
    argv = list(argv)
    if INPUTS_SPEC_FLAG not in argv[:-1]:
        return argv  # a component without inputs spec: nothing to fill in
    inputs_spec = json.loads(argv[argv.index(INPUTS_SPEC_FLAG) + 1])
    at = argv.index(EXECUTOR_INPUT_FLAG) + 1
    argv[at] = json.dumps(
        with_declared_input_types(json.loads(argv[at]), inputs_spec)
    )
    return argv


def main(argv: Sequence[str] | None = None) -> None:
    register_custom_artifact_types()
    app.run(
        kubeflow_v2_run_executor.main,
        argv=fixed_arguments(sys.argv if argv is None else argv),
        flags_parser=kubeflow_v2_run_executor._parse_flags,
    )


if __name__ == "__main__":
    main()
