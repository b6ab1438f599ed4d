"""The `dcp review` subcommand."""

import argparse
from pathlib import Path

from dcp.commands.data_folder import latest_run_folder
from dcp.config import Config


def add_parser(commands: argparse._SubParsersAction) -> None:
    review = commands.add_parser(
        "review",
        help="review a run's findings in a local page, with the keyboard,"
        " and apply them as a new data version",
        description="Serve the findings of a run's report as cards on"
        " http://127.0.0.1:PORT/. Each decision is saved at once in"
        " decisions.json beside the report; Apply runs what dcp fix"
        " runs. No browser is opened: open the URL it prints.",
    )
    review.add_argument(
        "report",
        nargs="?",
        metavar="REPORT_DIR",
        help="the report folder with issues.csv (default: quality.report)",
    )
    review.add_argument(
        "--data",
        help="image folder (default: the one the latest run read, else"
        " etl.data)",
    )
    review.add_argument(
        "--port",
        type=int,
        default=0,
        help="port on 127.0.0.1 (default: a free one)",
    )
    review.set_defaults(run=_review)


def _review(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from core.findings.issues_csv import read_issues_csv
    from core.findings.quality_artifacts import ISSUES_FILE
    from core.task import get_task
    from iteration.fixes.plan import class_folders
    from iteration.review.cards import cards_of
    from iteration.review.server import ReviewSession
    from iteration.review.serving import serve

    report_dir = Path(args.report or config.quality.report)
    data_dir = Path(
        args.data
        or latest_run_folder(config.pipeline.metadata, config.etl.data)
    )
    issues = report_dir / ISSUES_FILE
    if not issues.is_file():
        raise ValueError(
            f"{issues}: not found; give the folder of a run's report"
            " (dcp run or make run writes one)"
        )
    serve(
        ReviewSession(
            title=f"{report_dir}",
            cards=cards_of(read_issues_csv(str(issues))),
            class_names=class_folders(data_dir),
            report_dir=report_dir,
            data_dir=data_dir,
            changelog=config.fix.changelog,
            task=get_task(config.task),
        ),
        port=args.port,
    )
