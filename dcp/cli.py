"""`dcp`: the command line of the data-centric pipeline."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import get_args

from core.settings import OnBadFile
from dcp.commands import (
    augment,
    compare,
    fix,
    new_data,
    predict,
    review,
)
from dcp.config import Config, ConfigError, load_config
from dcp.user_errors import UNCHANGED_WHEN_INTERRUPTED, environment_error
from pipeline.console import (
    configure_logging,
    quiet_on_interrupt,
    was_interrupted,
)

EXAMPLES = """\
commands:
  prepare   write the task's embedded dataset with seeded defects
              dcp prepare
  etl       convert an image folder into TFRecords with Apache Beam
              dcp etl
              dcp etl --data ~/photos --output data/photos-tfrecords
              dcp etl --on-bad-file fail -- --runner=FlinkRunner
  pipeline  train, evaluate and export the fixed model with TFX
              dcp pipeline
              dcp pipeline -- --direct_running_mode=multi_processing
  run       ETL and pipeline in one go, on your own folder too
              dcp run --data ~/photos
  report    the data-quality report on a finished run
              dcp report
              dcp report RUN_ID --output outputs/report-RUN_ID
  review    decide on a run's findings in a local page, and apply them
              dcp review
  fix       apply a reviewed issues.csv as a new data version (scripts)
              dcp fix outputs/report/issues.csv
              dcp fix outputs/report/issues.csv --accept-suggestions \\
                --min-confidence 0.9 --splits train
              dcp fix --undo
  augment   new train images up to the budget, for the weak classes
              dcp augment --budget 3000 --dry-run
  compare   two runs or data versions side by side
              dcp compare
              dcp compare data-v1 data-v2 --output outputs/compare-v1-v2
  autolabel label an unlabeled folder with the trained model
              dcp autolabel data/raw/unlabeled --threshold 0.9
  shift     how a new image set differs from the training data
              dcp shift ~/new-photos --candidates ~/more-photos
  predict   the model on images, folders or a video: a CSV, annotated
              dcp predict photo.png data/raw/test/3
              dcp predict data/raw/test --model tflite-int8
              dcp predict clip.mp4 --annotate --output outputs/clip
  kubeflow  compile for Kubeflow Pipelines 2, check locally, submit a run
              dcp kubeflow compile --image REGISTRY/dcp:1 \\
                --pipeline-root gs://BUCKET/tfx --data-root gs://BUCKET/data
              dcp kubeflow run-local digits.json --pipeline-root outputs/kfp
              dcp kubeflow submit digits.json --endpoint http://localhost:8080

Defaults come from params.yaml; flags override them. Arguments after
`--` go to Apache Beam.
"""


def main(argv: Sequence[str] | None = None) -> int:
    args, beam_args = _parse(sys.argv[1:] if argv is None else list(argv))
    configure_logging()
    quiet_on_interrupt()
    command = " ".join(filter(None, [args.command, vars(args).get("action")]))
    try:
        config = load_config(args.params)
        return int(args.run(args, config, beam_args) or 0)
    except BaseException as error:
        # Whatever the interrupted libraries raised in their wake.
        if was_interrupted():
            unchanged = UNCHANGED_WHEN_INTERRUPTED.get(command, "rerun it")
            print(f"dcp {command}: interrupted; {unchanged}", file=sys.stderr)
            return 130
        # Bad input, or a place that cannot be written: say what and how
        # to fix it, without a stack trace.
        if isinstance(error, ConfigError | ValueError):
            print(f"dcp {command}: error: {error}", file=sys.stderr)
            return 2
        environment = environment_error(error)
        if environment is None:
            raise
        print(f"dcp {command}: error: {environment}", file=sys.stderr)
        return 1


def _prepare(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from core.task import get_dataset_task

    output = args.output or config.prepare.output
    task = get_dataset_task(config.task)
    print(task.write_embedded_dataset(output, config.prepare))
    print(f"  answer key: {output}/defects.json")


def _etl(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    _convert(
        config,
        data=args.data or config.etl.data,
        output=args.output or config.etl.output,
        splits=tuple(args.splits.split(",")) if args.splits else None,
        on_bad_file=args.on_bad_file,
        beam_args=beam_args,
    )


def _convert(
    config: Config,
    *,
    data: str,
    output: str,
    splits: tuple[str, ...] | None,
    on_bad_file: str | None,
    beam_args: list[str],
    reuse_unchanged: bool = False,
    output_option: str = "--output",
) -> None:
    from core.dataset.etl.etl import run_etl

    etl = config.etl
    summary = run_etl(
        data,
        output,
        splits=splits or etl.splits,
        on_bad_file=on_bad_file or etl.on_bad_file,
        images_per_shard=etl.images_per_shard,
        parallel_from_images=etl.parallel_from_images,
        beam_args=[*etl.beam_args, *beam_args],
        reuse_unchanged=reuse_unchanged,
        labels=etl.labels,
        output_option=output_option,
        task=config.task,
    )
    print(summary.format())


def _pipeline(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> int:
    from dcp.main_job import train_and_report

    return train_and_report(
        config,
        data_root=args.data_root or config.etl.output,
        pipeline_name=args.name or config.pipeline.name,
        beam_args=beam_args,
    )


def _run(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> int:
    """ETL then pipeline; a folder of the user's own gets its own output
    and pipeline name, so its runs are compared with each other only."""
    from dcp.main_job import train_and_report
    from pipeline.run_report import check_report_folder

    check_report_folder(config.quality.report)
    data_root, name = config.etl.output, config.pipeline.name
    if args.data:
        name = Path(args.data).resolve().name
        data_root = str(
            Path(config.etl.output).parent / "external" / name / "tfrecords"
        )
    _convert(
        config,
        data=args.data or config.etl.data,
        output=data_root,
        splits=None,
        on_bad_file=args.on_bad_file,
        beam_args=[],
        # Unchanged images keep their TFRecords, so TFX reuses its cache.
        reuse_unchanged=True,
        # dcp run has no --output: its place for a folder's TFRecords.
        output_option="`dcp etl --output`",
    )
    return train_and_report(
        config, data_root=data_root, pipeline_name=name, beam_args=beam_args
    )


def _report(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from core.task import get_task
    from pipeline.report_job import report_on_run

    report, issues = report_on_run(
        config.quality,
        get_task(config.task),
        model_name=config.trainer.model,
        metadata=config.pipeline.metadata,
        pipeline_name=args.name or config.pipeline.name,
        data_root=args.data_root,
        run_id=args.run_id,
        output_dir=args.output or config.quality.report,
    )
    print(f"Report: {report}\nIssues to review: {issues}")


def _kubeflow_compile(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from dcp.kubeflow_runner import compile_pipeline

    output = compile_pipeline(
        config,
        image=args.image,
        output_file=args.output or f"{config.pipeline.name}.json",
        pipeline_root=args.pipeline_root,
        data_root=args.data_root,
        serving_dir=args.serving_dir,
        beam_pipeline_args=beam_args,
    )
    print(
        f"Kubeflow pipeline written to {output}; its steps run {args.image}."
    )


def _kubeflow_run_local(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from dcp.kubeflow_local import run_local

    run = run_local(args.file, args.pipeline_root)
    print(run.summary())


def _kubeflow_submit(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from dcp.kubeflow_runner import submit

    run_id = submit(
        args.file,
        endpoint=args.endpoint,
        run_name=args.run_name,
        experiment=args.experiment,
        timeout=args.timeout,
    )
    print(f"Run {run_id} started on {args.endpoint}.")


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    beam_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, beam_args = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(
        prog="dcp",
        description="Data-centric pipeline for image classifiers.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--params", default="params.yaml", help="parameters file"
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND"
    )
    prepare = commands.add_parser(
        "prepare", help="write the embedded dataset (dcp prepare)"
    )
    prepare.add_argument("--output", help="folder (default: params.yaml)")
    prepare.set_defaults(run=_prepare)
    etl = commands.add_parser(
        "etl",
        help="image folder → TFRecords (dcp etl --data DIR)",
        epilog="Beam options go after `--`, e.g."
        " dcp etl -- --runner=SparkRunner",
    )
    etl.add_argument("--data", help="image folder: split/class/image")
    etl.add_argument("--output", help="TFRecord folder")
    etl.add_argument("--splits", help="comma-separated, e.g. train,val")
    etl.add_argument(
        "--on-bad-file",
        choices=get_args(OnBadFile),
        help="skip: quarantine bad files and go on; fail: stop the run",
    )
    etl.set_defaults(run=_etl)
    pipeline = commands.add_parser(
        "pipeline",
        help="train and evaluate on the ETL output (dcp pipeline)",
        epilog="Beam options go after `--`, e.g."
        " dcp pipeline -- --direct_num_workers=2",
    )
    pipeline.add_argument(
        "--data-root", help="ETL output folder (default: params.yaml)"
    )
    pipeline.add_argument("--name", help="pipeline name (default: params)")
    pipeline.set_defaults(run=_pipeline)
    run = commands.add_parser(
        "run", help="ETL and pipeline in one go (dcp run --data DIR)"
    )
    run.add_argument(
        "--data", help="image folder (default: the embedded dataset)"
    )
    run.add_argument("--on-bad-file", choices=get_args(OnBadFile))
    run.set_defaults(run=_run)
    report = commands.add_parser(
        "report", help="data-quality report on a run (dcp report [RUN])"
    )
    report.add_argument(
        "run_id", nargs="?", metavar="RUN", help="run id (default: latest)"
    )
    report.add_argument(
        "--output", help="folder (default: quality.report in params.yaml)"
    )
    report.add_argument(
        "--data-root", help="the run's ETL output (default: the one it read)"
    )
    report.add_argument("--name", help="pipeline name (default: params)")
    report.set_defaults(run=_report)
    fix.add_parser(commands)
    augment.add_parser(commands)
    compare.add_parser(commands)
    new_data.add_parser(commands)
    predict.add_parser(commands)
    review.add_parser(commands)
    kubeflow = commands.add_parser(
        "kubeflow",
        help="compile for, check locally and submit to Kubeflow Pipelines 2",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    compile_ = kubeflow.add_parser(
        "compile",
        help="write the pipeline spec (dcp kubeflow compile --image IMAGE)",
    )
    compile_.add_argument(
        "--image", required=True, help="container image built from Dockerfile"
    )
    compile_.add_argument("--output", help="spec file (default: NAME.json)")
    compile_.add_argument("--pipeline-root", help="e.g. gs://bucket/tfx")
    compile_.add_argument("--data-root", help="ETL output the pods can read")
    compile_.add_argument("--serving-dir", help="where the Pusher pushes")
    compile_.set_defaults(run=_kubeflow_compile)
    run_local = kubeflow.add_parser(
        "run-local",
        help="run a spec's tasks here as KFP 2 would, without a cluster"
        " (dcp kubeflow run-local digits.json --pipeline-root DIR)",
    )
    run_local.add_argument("file", help="a spec from `dcp kubeflow compile`")
    run_local.add_argument(
        "--pipeline-root", required=True, help="local folder for the outputs"
    )
    run_local.set_defaults(run=_kubeflow_run_local)
    submit = kubeflow.add_parser(
        "submit",
        help="start a run (dcp kubeflow submit digits.json --endpoint URL)",
    )
    submit.add_argument("file", help="a spec from `dcp kubeflow compile`")
    submit.add_argument(
        "--endpoint", required=True, help="KFP API, e.g. http://localhost:8080"
    )
    submit.add_argument("--run-name")
    submit.add_argument("--experiment")
    submit.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for the KFP API to answer (default: 10)",
    )
    submit.set_defaults(run=_kubeflow_submit)
    return parser.parse_args(argv), beam_args


if __name__ == "__main__":
    sys.exit(main())
