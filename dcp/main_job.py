"""Train and evaluate the fixed model on an ETL output with the Beam
runner, then report: the summary on the terminal, metrics and plots for
DVC."""

import logging
from collections.abc import Sequence

from tfx import v1 as tfx

from core.dataset.etl.etl import read_classes
from core.task import get_pipeline_task
from dcp.beam_runner import run_pipeline
from dcp.config import Config
from pipeline.run_report import (
    check_report_folder,
    format_summary,
    publish_report,
    write_dvc_files,
)
from pipeline.run_results import read_results


def train_and_report(
    config: Config,
    *,
    data_root: str,
    pipeline_name: str,
    beam_args: Sequence[str] = (),
) -> int:
    """Run the pipeline; return the exit status: 1 when the data has
    anomalies and params.yaml says to fail on them, else 0."""
    check_report_folder(config.quality.report)
    logging.info("Pipeline %s on %s", pipeline_name, data_root)
    run_pipeline(
        config,
        data_root=data_root,
        pipeline_name=pipeline_name,
        beam_args=beam_args,
    )
    results = read_results(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(
            config.pipeline.metadata
        ),
        pipeline_name,
        read_classes(data_root),
        get_pipeline_task(config.task),
    )
    write_dvc_files(
        results,
        metrics_file=config.pipeline.metrics,
        plots_dir=config.pipeline.plots,
    )
    report_file, issues_file = publish_report(
        results.artifacts["report"], config.quality.report
    )
    print(
        format_summary(
            results,
            metrics_file=config.pipeline.metrics,
            report_file=report_file,
            issues_file=issues_file,
        )
    )
    if config.pipeline.on_anomalies == "fail" and any(
        results.anomalies.values()
    ):
        print(
            "The data has anomalies and pipeline.on_anomalies is 'fail':"
            " fix the data, or update the schema if the change is intended."
        )
        return 1
    return 0
