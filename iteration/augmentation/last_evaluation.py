"""What the latest run of a pipeline found weak: its Evaluator's
accuracy by class and by image-property slice, read back from MLMD."""

from pathlib import Path

from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx
from tfx.dsl.io import fileio

from components.image_etl.etl import read_classes
from components.quality_report.evaluation_results import read_evaluation
from iteration.augmentation.planning import Weakness
from pipeline.run_results import latest_outputs


def read_weakness(
    metadata: str | Path,
    pipeline_name: str,
    *,
    data_root: str,
    classes: set[str],
) -> tuple[Weakness | None, str]:
    """The latest evaluation of `pipeline_name` in the MLMD database
    `metadata`, with the ETL output `data_root` that names its classes;
    None, and why, where there is none or it is of other `classes`."""
    balance_only = "balancing the classes only"
    if not Path(metadata).is_file():
        return None, f"no run yet ({metadata} does not exist): {balance_only}"
    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(
        str(metadata)
    )
    connection.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    )
    try:
        outputs = latest_outputs(connection, pipeline_name)
    except ValueError:
        return None, f"no run of {pipeline_name!r} yet: {balance_only}"
    evaluation = outputs.get(("Evaluator", "evaluation"))
    if evaluation is None:
        return None, (
            f"the latest run of {pipeline_name!r} has no evaluation:"
            f" {balance_only}"
        )
    if not fileio.exists(evaluation.uri):
        # MLMD keeps artifact paths as the run gave them, maybe relative.
        return None, (
            f"the latest evaluation of {pipeline_name!r}, {evaluation.uri},"
            f" is not there from {Path.cwd()}: {balance_only} (run dcp"
            " from the folder the pipeline ran in)"
        )
    class_names = read_classes(data_root)
    if set(class_names) != classes:
        return None, (
            f"the latest run of {pipeline_name!r} is of classes"
            f" {', '.join(class_names)}, the folder has"
            f" {', '.join(sorted(classes))}: {balance_only} (pass --name"
            " and --data-root of this folder's pipeline to target)"
        )
    summary = read_evaluation(evaluation.uri, class_names)
    weakness = Weakness(
        source=evaluation.uri,
        accuracy=summary.accuracy,
        per_class_accuracy=summary.per_class_accuracy,
        slices=summary.slices,
    )
    return weakness, (
        f"the latest evaluation of {pipeline_name!r} (accuracy"
        f" {summary.accuracy:.3f}, {evaluation.uri})"
    )
