"""What the latest run of a pipeline found: its Evaluator's accuracy by
class and by image-property slice (what is weak), and its report's
population table (which parents to prefer), read back from MLMD."""

import dataclasses
from pathlib import Path

from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx
from tfx.dsl.io import fileio

from components.quality_report.evaluation_results import read_evaluation
from core.dataset.etl.etl import read_classes
from iteration.augmentation.allocation import Weakness
from iteration.augmentation.parent_preference import (
    ParentPreference,
    read_preference,
)
from pipeline.run_results import latest_outputs


@dataclasses.dataclass(frozen=True)
class LastRun:
    weakness: Weakness | None  # None: balance the classes only
    note: str  # what was found, or why nothing was
    preference: ParentPreference | None  # None: parents drawn evenly


def read_last_run(
    metadata: str | Path,
    pipeline_name: str,
    *,
    data_root: str,
    classes: set[str],
) -> LastRun:
    """The latest evaluation and population table of `pipeline_name` in
    the MLMD database `metadata`, with the ETL output `data_root` that
    names its classes; None, and why, where there is none or it is of
    other `classes`."""

    def nothing(note: str) -> LastRun:
        return LastRun(None, f"{note}: balancing the classes only", None)

    if not Path(metadata).is_file():
        return nothing(f"no run yet ({metadata} does not exist)")
    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(
        str(metadata)
    )
    connection.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    )
    try:
        outputs = latest_outputs(connection, pipeline_name)
    except ValueError:
        return nothing(f"no run of {pipeline_name!r} yet")
    evaluation = outputs.get(("Evaluator", "evaluation"))
    if evaluation is None:
        return nothing(
            f"the latest run of {pipeline_name!r} has no evaluation"
        )
    if not fileio.exists(evaluation.uri):
        # MLMD keeps artifact paths as the run gave them, maybe relative.
        return nothing(
            f"the latest evaluation of {pipeline_name!r}, {evaluation.uri},"
            f" is not there from {Path.cwd()} (run dcp from the folder the"
            " pipeline ran in)"
        )
    class_names = read_classes(data_root)
    if set(class_names) != classes:
        return nothing(
            f"the latest run of {pipeline_name!r} is of classes"
            f" {', '.join(class_names)}, the folder has"
            f" {', '.join(sorted(classes))} (pass --name and --data-root of"
            " this folder's pipeline to target)"
        )
    summary = read_evaluation(evaluation.uri, class_names)
    weakness = Weakness(
        source=evaluation.uri,
        accuracy=summary.accuracy,
        per_class_accuracy=summary.per_class_accuracy,
        slices=summary.slices,
    )
    report = outputs.get(("QualityReport", "report"))
    return LastRun(
        weakness,
        f"the latest evaluation of {pipeline_name!r} (accuracy"
        f" {summary.accuracy:.3f}, {evaluation.uri})",
        read_preference(report.uri) if report is not None else None,
    )
