"""The `dcp predict` subcommand."""

import argparse
from pathlib import Path
from typing import get_args

from dcp.commands.run_arguments import add_run_arguments
from dcp.config import Config
from prediction.predictors import ModelKind


def add_parser(commands: argparse._SubParsersAction) -> None:
    predict = commands.add_parser(
        "predict",
        help="apply the model to images, folders or videos"
        " (dcp predict PATH...)",
        description="Predict the class (classification) or the boxes"
        " (detection) of each image, of each image below a folder and of"
        " each frame of a video file, with the pushed model or a run's"
        " SavedModel or int8 TFLite model. Writes predictions.csv (path,"
        " frame, class, confidence, for detection a row per box with its"
        " xmin, ymin, xmax, ymax in pixels, and unreadable: every input"
        " that cannot be read is listed with the reason) and, with"
        " --annotate, copies with the predictions drawn on each image or"
        " frame.",
    )
    predict.add_argument(
        "paths", nargs="+", metavar="PATH", help="image, folder or video"
    )
    predict.add_argument(
        "--model",
        choices=get_args(ModelKind),
        default="pushed",
        help="pushed: the latest in pipeline.serving_dir (default);"
        " savedmodel or tflite-int8: the run's Trainer or TFLiteExport",
    )
    add_run_arguments(predict)
    predict.add_argument(
        "--data-root",
        help="the run's ETL output, for its class names (default: the one"
        " it read)",
    )
    predict.add_argument(
        "--annotate",
        action="store_true",
        help="also write copies with the predictions drawn on",
    )
    predict.add_argument(
        "--output", metavar="DIR", help="folder (default: outputs/predict)"
    )
    predict.set_defaults(run=_predict)


def _predict(
    args: argparse.Namespace, config: Config, beam_args: list[str]
) -> None:
    from core.task import get_predicting_task
    from prediction.predict_job import predict

    summary = predict(
        [Path(path) for path in args.paths],
        kind=args.model,
        metadata_path=config.pipeline.metadata,
        pipeline_name=args.name or config.pipeline.name,
        run_id=args.run_id,
        serving_dir=config.pipeline.serving_dir,
        data_root=args.data_root,
        output_dir=Path(args.output or "outputs/predict"),
        annotate_copies=args.annotate,
        task=get_predicting_task(config.task),
    )
    print(summary.format())
