"""The artifacts of a finished pipeline run that new images are judged
by: its Transform graph, its trained model and its training set."""

import dataclasses
import os
import posixpath

from tfx.dsl.io import fileio

from pipeline.run_results import (
    existing_store,
    latest_outputs,
    pipeline_runs,
)

# The TFX name of the training split.
TRAIN_SPLIT = "train"


@dataclasses.dataclass(frozen=True)
class FinishedRun:
    run_id: str
    transform_graph: str  # uri of the Transform's transform_graph
    model: str  # uri of the Trainer's model
    train_examples: str  # folder of the ETL's train examples
    transformed_train_examples: str  # folder of the Transform's output
    task: str  # params.yaml's task: what the model does (core/task.py)


def finished_run(
    metadata_path: str, pipeline_name: str, run_id: str | None, *, task: str
) -> FinishedRun:
    """The run `run_id` of `pipeline_name` (None: the latest) in the MLMD
    store at `metadata_path`, a run of `task`; ValueError if it has no
    trained model."""
    connection = existing_store(metadata_path)
    run_id = run_id or pipeline_runs(connection, pipeline_name)[-1]
    outputs = latest_outputs(connection, pipeline_name, run_id)
    wanted = {
        "transform_graph": ("Transform", "transform_graph"),
        "model": ("Trainer", "model"),
        "examples": ("ImportExampleGen", "examples"),
        "transformed": ("Transform", "transformed_examples"),
    }
    missing = [f"{c}.{k}" for c, k in wanted.values() if (c, k) not in outputs]
    if missing:
        raise ValueError(
            f"the run {run_id} of {pipeline_name!r} has no"
            f" {', '.join(missing)}: it did not finish; pass --run with a"
            " finished run"
        )
    uris = {name: outputs[key].uri for name, key in wanted.items()}
    return FinishedRun(
        run_id=run_id,
        transform_graph=uris["transform_graph"],
        model=uris["model"],
        train_examples=_split_dir(uris["examples"], TRAIN_SPLIT),
        transformed_train_examples=_split_dir(
            uris["transformed"], TRAIN_SPLIT
        ),
        task=task,
    )


def _split_dir(examples_uri: str, split: str) -> str:
    folder = posixpath.join(examples_uri, f"Split-{split}")
    if not fileio.isdir(folder):
        found = sorted(
            posixpath.basename(os.fsdecode(f).rstrip("/"))
            for f in fileio.glob(posixpath.join(examples_uri, "Split-*"))
        )
        raise ValueError(
            f"{examples_uri}: no {split} split (found {', '.join(found)})"
        )
    return folder
