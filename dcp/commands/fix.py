"""The `dcp fix` subcommand."""

import argparse

from dcp.commands.data_folder import add_wait_argument, latest_run_folder
from dcp.config import Config


def add_parser(commands: argparse._SubParsersAction) -> None:
    fix = commands.add_parser(
        "fix",
        help="apply a reviewed issues.csv as a new data version"
        " (dcp fix ISSUES.csv)",
        description="Apply the action column of an issues.csv: relabel"
        " moves a file to its new class folder, remove moves it to"
        " trash/<version>/, accept takes the report's suggestion. The"
        " result is a new data version (DVC, a git commit and a tag"
        " data-vN, a changelog entry).",
    )
    fix.add_argument(
        "issues",
        nargs="?",
        metavar="ISSUES.csv",
        help="issues.csv with its action column filled",
    )
    fix.add_argument(
        "--data",
        help="image folder (default: the one the latest run read, else"
        " etl.data)",
    )
    fix.add_argument(
        "--accept-suggestions",
        action="store_true",
        help="treat an empty action as accept where the report suggests"
        " a relabel or a remove with at least --min-confidence, outside"
        " test; the rest is left for review",
    )
    fix.add_argument(
        "--min-confidence",
        type=float,
        help="suggestion confidence to accept from (default:"
        " fix.min_confidence)",
    )
    fix.add_argument(
        "--splits",
        help="change only these splits, e.g. train, to keep eval fixed"
        " (default: all but test; a row's own action changes test only"
        " if this names it)",
    )
    fix.add_argument(
        "--undo",
        action="store_true",
        help="restore the data version before the latest one",
    )
    add_wait_argument(fix)
    fix.set_defaults(run=_fix)


def _fix(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> int:
    from core.task import get_task
    from iteration.fixes.fix_job import fix_data, undo_last_version

    data_dir = args.data or latest_run_folder(
        config.pipeline.metadata, config.etl.data
    )
    changelog = config.fix.changelog
    if args.undo:
        if args.issues:
            raise ValueError("--undo takes no issues.csv")
        restored, version = undo_last_version(
            data_dir, changelog=changelog, wait=args.wait
        )
        print(
            f"{version.tag}: {data_dir} is back to {restored}, exactly."
            f"\n  changelog: {changelog}"
        )
        return 0
    if not args.issues:
        raise ValueError(
            "give the reviewed issues.csv, e.g. dcp fix"
            f" {config.quality.report}/issues.csv, or --undo"
        )
    result = fix_data(
        args.issues,
        data_dir,
        changelog=changelog,
        accept_suggestions=args.accept_suggestions,
        min_confidence=(
            config.fix.min_confidence
            if args.min_confidence is None
            else args.min_confidence
        ),
        splits=args.splits.split(",") if args.splits else None,
        task=get_task(config.task),
        wait=args.wait,
    )
    print(result.format(data_dir, changelog))
    return 0
