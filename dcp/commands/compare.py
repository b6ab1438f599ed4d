"""The `dcp compare` subcommand."""

import argparse
import posixpath

from dcp.config import Config


def add_parser(commands: argparse._SubParsersAction) -> None:
    compare = commands.add_parser(
        "compare",
        help="two runs or data versions side by side (dcp compare [A [B]])",
        description="Compare run A with run B on the task's headline figure"
        " (accuracy; mAP50 for detection): on test first when both"
        " measured the same test images, images per class and split"
        " (boxes for detection), the files that changed, statistics drift"
        " (TFDV), the figure on eval overall, per class and per slice, the"
        " TFLite models, the eval images that flipped (classification),"
        " and dvc metrics/plots diff for git revisions. A and B are run"
        " ids, latest, previous (the run before the latest) or git"
        " revisions whose committed metrics.json records their run, e.g."
        " data-v1 or HEAD~1.",
    )
    compare.add_argument(
        "a",
        nargs="?",
        default="previous",
        metavar="A",
        help="default: previous",
    )
    compare.add_argument(
        "b", nargs="?", default="latest", metavar="B", help="default: latest"
    )
    compare.add_argument(
        "--output", help="folder (default: compare.output in params.yaml)"
    )
    compare.add_argument(
        "--data-root",
        help="the runs' ETL output (default: the one each run read)",
    )
    compare.add_argument("--name", help="pipeline name (default: params)")
    compare.set_defaults(run=_compare)


def _compare(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from core.task import get_pipeline_task
    from iteration.comparison.compare_job import (
        HTML_FILE,
        JSON_FILE,
        compare_runs,
    )
    from iteration.comparison.comparison import format_summary

    output = args.output or config.compare.output
    comparison = compare_runs(
        config.compare,
        a=args.a,
        b=args.b,
        pipeline_name=args.name or config.pipeline.name,
        metadata=config.pipeline.metadata,
        metrics_file=config.pipeline.metrics,
        data_root=args.data_root,
        output_dir=output,
        task=get_pipeline_task(config.task),
    )
    print(
        format_summary(
            comparison,
            html_file=posixpath.join(output, HTML_FILE),
            json_file=posixpath.join(output, JSON_FILE),
        )
    )
