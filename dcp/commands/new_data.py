"""`dcp autolabel` and `dcp shift`: new images against a finished run."""

import argparse
import shlex
from pathlib import Path

from dcp.commands.data_folder import add_wait_argument, image_folder
from dcp.commands.run_arguments import add_run_arguments
from dcp.config import Config


def add_parser(commands: argparse._SubParsersAction) -> None:
    autolabel = commands.add_parser(
        "autolabel",
        help="label an unlabeled folder with the trained model"
        " (dcp autolabel FOLDER)",
        description="Predict the images below FOLDER with a finished run's"
        " model. Those predicted with at least the threshold's confidence"
        " join DATA_DIR/train/<class>/ as a new data version (moved if"
        " FOLDER is inside DATA_DIR, else copied); the rest are listed in"
        " review.csv.",
    )
    autolabel.add_argument("folder", metavar="FOLDER", help="images to label")
    autolabel.add_argument(
        "--threshold",
        type=float,
        help="confidence from which an image is accepted (default:"
        " autolabel.threshold in params.yaml)",
    )
    add_run_arguments(autolabel)
    autolabel.add_argument(
        "--data-root",
        help="the run's ETL output, for its class names (default: the one"
        " it read)",
    )
    autolabel.add_argument(
        "--data",
        metavar="DATA_DIR",
        help="raw image folder to add to (default: the one the run's ETL"
        " output was converted from, else etl.data)",
    )
    add_wait_argument(autolabel)
    autolabel.add_argument(
        "--output",
        metavar="DIR",
        help="folder of review.csv (default: autolabel.review)",
    )
    autolabel.set_defaults(run=_autolabel)

    shift = commands.add_parser(
        "shift",
        help="test new images for a shift from the training set"
        " (dcp shift NEW_FOLDER)",
        description="Compare the images below NEW_FOLDER with the training"
        " set of a finished run: drift of each image property, a"
        " two-sample test in the model's embedding space, clusters that"
        " training under-represents, and a ranking of candidate images.",
    )
    shift.add_argument("new_folder", metavar="NEW_FOLDER", help="new images")
    add_run_arguments(shift)
    shift.add_argument(
        "--candidates",
        metavar="DIR",
        help="images to rank by closeness to the new data (default: none)",
    )
    shift.add_argument(
        "--output", metavar="DIR", help="folder (default: shift.output)"
    )
    shift.set_defaults(run=_shift)


def _autolabel(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from tfx import v1 as tfx

    from core.dataset.etl.etl import read_classes
    from iteration.new_data.autolabel import autolabel_folder
    from iteration.new_data.finished_run import finished_run
    from pipeline.run_results import run_data_root

    name = args.name or config.pipeline.name
    run = finished_run(
        config.pipeline.metadata, name, args.run_id, task=config.task
    )
    data_root = args.data_root or run_data_root(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(
            config.pipeline.metadata
        ),
        name,
        run.run_id,
    )
    result = autolabel_folder(
        Path(args.folder),
        run=run,
        class_names=read_classes(data_root),
        data_dir=Path(args.data or image_folder(data_root, config.etl.data)),
        threshold=(
            config.autolabel.threshold
            if args.threshold is None
            else args.threshold
        ),
        review_dir=Path(args.output or config.autolabel.review),
        changelog=config.fix.changelog,
        wait=args.wait,
        command=shlex.join(
            ["dcp", "autolabel", args.folder]
            + (
                []
                if args.threshold is None
                else ["--threshold", str(args.threshold)]
            )
        ),
    )
    print(result.format())


def _shift(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from iteration.new_data.finished_run import finished_run
    from iteration.new_data.shift_job import detect_shift

    result = detect_shift(
        Path(args.new_folder),
        run=finished_run(
            config.pipeline.metadata,
            args.name or config.pipeline.name,
            args.run_id,
            task=config.task,
        ),
        candidates_folder=Path(args.candidates) if args.candidates else None,
        output_dir=Path(args.output or config.shift.output),
        settings=config.shift,
    )
    print(result.format())
