"""Run a compiled PipelineJob task by task on this machine, as the
open-source Kubeflow Pipelines 2 backend would, without a cluster:

  dcp kubeflow run-local digits.json --pipeline-root outputs/kfp-local

For each task of `root.dag`, in dependency order, it builds the
ExecutorInput KFP's driver builds (upstream outputs as inputs, their type
left with an empty instanceSchema as the OSS driver leaves it; outputs
under the pipeline root), runs the driver and the command the spec
declares in a subprocess with this Python and the image's environment,
and reads the ExecutorOutput back for the tasks downstream.
"""

import dataclasses
import datetime
import graphlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from kfp.local import executor_input_utils, placeholder_utils
from kfp.pipeline_spec import pipeline_spec_pb2 as pb

import dcp
from core.dataset.staged_output import make_output_folder
from dcp.kubeflow_runner import read_pipeline_job

# What the Dockerfile's ENV sets in every step of the image.
IMAGE_ENV = {"TF_USE_LEGACY_KERAS": "1"}
# The image has this project installed; here the steps import the same
# copy as this process, wherever it is.
PROJECT_ROOT = str(Path(dcp.__file__).resolve().parents[1])
# Where KFP's launcher asks the executor to write its ExecutorOutput, in
# the pod; here it is a folder of each task.
OUTPUT_METADATA_FILE = "output_metadata.json"
LOG_TAIL_LINES = 30
# The writer named in the marker of every output (staged_output).
OUTPUT_KIND = "dcp kubeflow run-local"


@dataclasses.dataclass(frozen=True)
class TaskRun:
    name: str
    seconds: float
    outputs: dict[str, pb.RuntimeArtifact]  # output key → artifact
    log: Path


@dataclasses.dataclass(frozen=True)
class LocalRun:
    run_root: Path  # <pipeline root>/<pipeline name>/<run id>
    tasks: dict[str, TaskRun]  # in the order they ran

    def uris(self) -> dict[tuple[str, str], str]:
        """(task, output key) → uri, as pipeline.run_results takes them."""
        return {
            (task.name, key): artifact.uri
            for task in self.tasks.values()
            for key, artifact in task.outputs.items()
        }

    def summary(self) -> str:
        total = sum(task.seconds for task in self.tasks.values())
        lines = [
            f"{len(self.tasks)} tasks ran in {total:.0f} s;"
            f" outputs under {self.run_root}:"
        ]
        for task in self.tasks.values():
            for key, artifact in sorted(task.outputs.items()):
                lines.append(f"  {task.name}.{key}: {artifact.uri}")
        return "\n".join(lines)


def run_local(
    spec_file: str,
    pipeline_root: str,
    *,
    progress: Callable[[str], None] = print,
) -> LocalRun:
    """Run every task of the PipelineJob in `spec_file`, its outputs under
    `pipeline_root` (a local folder: new, empty or an earlier output of
    run-local), with this Python for the image's. Raises ValueError
    naming the task that failed and its log."""
    if "://" in pipeline_root:
        raise ValueError(
            f"{pipeline_root}: run-local writes the outputs on this machine;"
            " give a local folder as --pipeline-root"
        )
    job = read_pipeline_job(spec_file)
    spec = json_format.ParseDict(
        job["pipelineSpec"], pb.PipelineSpec(), ignore_unknown_fields=True
    )
    executors = job["pipelineSpec"]["deploymentSpec"]["executors"]
    make_output_folder(
        pipeline_root, kind=OUTPUT_KIND, option="--pipeline-root"
    )
    pipeline_name = spec.pipeline_info.name
    run_id = f"run-local-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    run_root = Path(pipeline_root).absolute() / pipeline_name / run_id
    order = _task_order(spec.root.dag.tasks)
    store = _ArtifactStore()
    done: dict[str, TaskRun] = {}
    for number, name in enumerate(order, 1):
        task = spec.root.dag.tasks[name]
        component = spec.components[task.component_ref.name]
        container = executors[component.executor_label].get("container")
        if container is None:
            raise ValueError(
                f"{spec_file}: task {name} is no container (a resolver or"
                " an importer), which run-local cannot run; compile the"
                " spec with `dcp kubeflow compile`, which leaves them out"
            )
        progress(f"[{number}/{len(order)}] {name} ...")
        done[name] = _run_task(
            name,
            task,
            component,
            container,
            store=store,
            execution_id=store.new_execution_id(),
            pipeline_name=pipeline_name,
            run_root=run_root,
        )
        progress(
            f"[{number}/{len(order)}] {name} done in"
            f" {done[name].seconds:.0f} s"
        )
    return LocalRun(run_root, done)


def _task_order(tasks: Mapping[str, pb.PipelineTaskSpec]) -> list[str]:
    sorter = graphlib.TopologicalSorter(
        {name: sorted(task.dependent_tasks) for name, task in tasks.items()}
    )
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())  # the same order every run
        order += ready
        sorter.done(*ready)
    return order


class _ArtifactStore:
    """What MLMD holds for the driver: each task's output artifacts, with
    the ids the driver passes as artifact names."""

    def __init__(self) -> None:
        self.outputs: dict[tuple[str, str], pb.RuntimeArtifact] = {}
        self._last_id = 0

    def new_execution_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def record(
        self, task: str, key: str, artifact: pb.RuntimeArtifact
    ) -> None:
        recorded = pb.RuntimeArtifact()
        recorded.CopyFrom(artifact)
        self._last_id += 1
        recorded.name = str(self._last_id)
        # The launcher adds these custom properties to every output.
        recorded.metadata.update(
            {"display_name": key, "store_session_info": "null"}
        )
        self.outputs[task, key] = recorded

    def as_input(self, task: str, key: str) -> pb.RuntimeArtifact:
        """The artifact as the OSS driver passes it downstream: from MLMD,
        with the instanceSchema of its type empty (metadata/client.go:
        GetOutputArtifactsByExecutionId, "TODO: figure out how to get
        schema")."""
        artifact = pb.RuntimeArtifact()
        artifact.CopyFrom(self.outputs[task, key])
        artifact.type.Clear()
        artifact.type.instance_schema = ""
        return artifact


def executor_input_for(
    task: pb.PipelineTaskSpec,
    component: pb.ComponentSpec,
    *,
    store: _ArtifactStore,
    pipeline_root: str,
    task_name: str,
    execution_id: int,
    output_file: str,
) -> pb.ExecutorInput:
    """The ExecutorInput KFP's driver (backend/src/v2/driver) builds for
    `task`: constant parameters, upstream artifacts from `store`, outputs
    at <pipeline_root>/<task>/<execution id>/<output key>."""
    executor_input = pb.ExecutorInput()
    inputs = executor_input.inputs
    for key, spec in component.input_definitions.parameters.items():
        if key in task.inputs.parameters:
            value = task.inputs.parameters[key]
            if value.runtime_value.WhichOneof("value") != "constant":
                raise ValueError(
                    f"task {task_name}: parameter {key} is not a constant;"
                    " compile with schema 2.1 (dcp kubeflow compile)"
                )
            inputs.parameter_values[key].CopyFrom(value.runtime_value.constant)
        elif spec.HasField("default_value"):
            inputs.parameter_values[key].CopyFrom(spec.default_value)
    for key, spec in task.inputs.artifacts.items():
        producer = spec.task_output_artifact
        inputs.artifacts[key].artifacts.append(
            store.as_input(
                producer.producer_task, producer.output_artifact_key
            )
        )
    for key, spec in component.output_definitions.artifacts.items():
        artifact = executor_input.outputs.artifacts[key].artifacts.add()
        artifact.uri = f"{pipeline_root}/{task_name}/{execution_id}/{key}"
        artifact.type.CopyFrom(spec.artifact_type)
        artifact.metadata.CopyFrom(spec.metadata)
    executor_input.outputs.output_file = output_file
    return executor_input


def _run_task(
    name: str,
    task: pb.PipelineTaskSpec,
    component: pb.ComponentSpec,
    container: dict[str, Any],
    *,
    store: _ArtifactStore,
    execution_id: int,
    pipeline_name: str,
    run_root: Path,
) -> TaskRun:
    start = time.monotonic()
    work_dir = run_root / name / str(execution_id)
    kfp_outputs = work_dir / "kfp_outputs"
    kfp_outputs.mkdir(parents=True)
    executor_input = executor_input_for(
        task,
        component,
        store=store,
        pipeline_root=str(run_root),
        task_name=name,
        execution_id=execution_id,
        output_file=str(kfp_outputs / OUTPUT_METADATA_FILE),
    )
    (work_dir / "executor_input.json").write_text(
        json_format.MessageToJson(executor_input)
    )
    # A bucket (gs://, s3://) needs no folders: on a local disk, make the
    # outputs' so that a step writes into them as it would into a bucket.
    for artifacts in executor_input.outputs.artifacts.values():
        for artifact in artifacts.artifacts:
            Path(artifact.uri).mkdir(parents=True, exist_ok=True)
    as_dict = executor_input_utils.executor_input_to_dict(
        executor_input, component
    )
    log = work_dir / "log.txt"
    # The driver the spec declares (ImportExampleGen's: span, version and
    # fingerprint of the input) runs first, into the same output file.
    driver = container.get("lifecycle", {}).get("preCacheCheck")
    for declared in [driver, container] if driver else [container]:
        command = placeholder_utils.replace_placeholders(
            [*declared["command"], *declared.get("args", [])],
            as_dict,
            pipeline_resource_name=pipeline_name,
            task_resource_name=name,
            pipeline_root=str(run_root),
        )
        _run_command(
            _with_this_python(command), cwd=work_dir, log=log, task=name
        )
    output_file = Path(executor_input.outputs.output_file)
    if not output_file.is_file():
        raise ValueError(
            f"task {name} wrote no ExecutorOutput to {output_file}; its"
            f" log: {log}"
        )
    executor_output = json_format.Parse(
        output_file.read_text(),
        pb.ExecutorOutput(),
        ignore_unknown_fields=True,
    )
    outputs = {}
    for key, provisioned in executor_input.outputs.artifacts.items():
        artifact = provisioned.artifacts[0]
        if key in executor_output.artifacts:
            artifact.MergeFrom(executor_output.artifacts[key].artifacts[0])
        store.record(name, key, artifact)
        outputs[key] = artifact
    return TaskRun(name, time.monotonic() - start, outputs, log)


def _with_this_python(command: list[str]) -> list[str]:
    """The command with this Python for the image's."""
    if command and command[0] in ("python", "python3"):
        return [sys.executable, *command[1:]]
    return command


def _python_path() -> str:
    inherited = os.environ.get("PYTHONPATH")
    return os.pathsep.join(filter(None, [PROJECT_ROOT, inherited]))


def _run_command(
    command: list[str], *, cwd: Path, log: Path, task: str
) -> None:
    with log.open("a") as output:
        output.write(f"$ {' '.join(command)[:500]}\n")
        output.flush()
        status = subprocess.run(
            command,
            cwd=cwd,
            env={**os.environ, **IMAGE_ENV, "PYTHONPATH": _python_path()},
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    if status != 0:
        tail = log.read_text().splitlines()[-LOG_TAIL_LINES:]
        raise ValueError(
            f"task {task} failed (exit status {status}); the end of its log"
            f" {log}:\n" + "\n".join(tail)
        )
