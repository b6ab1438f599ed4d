"""The `dcp augment` subcommand."""

import argparse
from pathlib import Path

from dcp.commands.data_folder import add_wait_argument, latest_run_folder
from dcp.config import Config


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "augment",
        help="new train images up to the budget, aimed at the weak classes"
        " and slices (dcp augment --budget N)",
        description="Rotated, zoomed, cropped, brightened and cleaned-up"
        " copies of train images, added to train until train + val hold"
        " the budget: augment.weak_share of them for the classes and"
        " image-property slices the latest run found worst, the rest for"
        " the smallest classes. Each is listed with its parent in"
        " DATA/lineage.csv; the result is a new data version.",
    )
    parser.add_argument(
        "--budget",
        type=int,
        help="train + val images afterwards (default: quality.budget)",
    )
    parser.add_argument(
        "--data",
        help="image folder, split/class/image (default: the one the latest"
        " run read, else etl.data)",
    )
    parser.add_argument(
        "--name",
        help="pipeline whose latest run to target (default:"
        " pipeline.name; for --data, the folder's name, as dcp run names"
        " it)",
    )
    parser.add_argument(
        "--data-root",
        help="that run's ETL output, for its class names (default: as"
        " dcp run places it)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the plan, write nothing"
    )
    add_wait_argument(parser)
    parser.set_defaults(run=_augment)


def _augment(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from core.task import get_task
    from iteration.augmentation.job import augment_folder

    data = args.data or latest_run_folder(
        config.pipeline.metadata, config.etl.data, args.name
    )
    name, data_root = config.pipeline.name, config.etl.output
    if Path(data).resolve() != Path(config.etl.data).resolve():
        # A folder of the user's own: `dcp run --data` names its runs so.
        name = Path(data).resolve().name
        data_root = str(
            Path(config.etl.output).parent / "external" / name / "tfrecords"
        )
    augment_folder(
        config.augment,
        data_dir=data,
        budget=config.quality.budget if args.budget is None else args.budget,
        pipeline_name=args.name or name,
        data_root=args.data_root or data_root,
        metadata=config.pipeline.metadata,
        changelog=config.fix.changelog,
        max_distance=config.quality.near_duplicate_distance,
        dry_run=args.dry_run,
        task=get_task(config.task),
        labels=config.etl.labels,
        wait=args.wait,
    )
