"""The pipeline as params.yaml describes it, for every runner."""

import posixpath
from collections.abc import Sequence

from tfx import v1 as tfx
from tfx.dsl.io import fileio
from tfx.orchestration import metadata

from core.dataset.etl.etl import read_classes
from core.task import get_pipeline_task
from dcp.config import Config
from models.registry import get_model_spec
from pipeline.tfx_pipeline import SPLIT_FOLDERS, create_pipeline


def pipeline_from_params(
    config: Config,
    *,
    metadata_connection_config: metadata.ConnectionConfigType | None,
    data_root: str | None = None,
    pipeline_name: str | None = None,
    beam_pipeline_args: Sequence[str] = (),
    compare_with_blessed: bool = True,
) -> tfx.dsl.Pipeline:
    """Build the pipeline over `data_root` (default: the ETL output in
    params.yaml); `beam_pipeline_args` come after those of params.yaml."""
    data_root = data_root or config.etl.output
    classes = read_classes(data_root)
    splits = [
        split
        for split, folder in SPLIT_FOLDERS.items()
        if fileio.isdir(posixpath.join(data_root, folder))
    ]
    for needed in ("train", "eval"):
        if needed not in splits:
            raise ValueError(
                f"{data_root}/{SPLIT_FOLDERS[needed]}: not found; the"
                " pipeline trains on train/ and evaluates on val/"
            )
    model = get_model_spec(config.trainer.model)
    transform = config.transform
    task = get_pipeline_task(config.task)
    return create_pipeline(
        task=task,
        pipeline_name=pipeline_name or config.pipeline.name,
        pipeline_root=config.pipeline.root,
        data_root=data_root,
        splits=splits,
        transform_config={
            "image_size": model.image_size,
            "channels": model.channels,
            "median_filter": transform.median_filter,
            "opening": transform.opening,
            "adaptive_threshold": transform.adaptive_threshold,
        },
        trainer_config=task.trainer_config(
            classes,
            model=model.name,
            epochs=config.trainer.epochs,
            augment=config.trainer.augment,
        ),
        eval_config=task.eval_config(
            classes,
            min_accuracy=config.evaluator.min_accuracy,
            max_accuracy_drop=config.evaluator.max_accuracy_drop,
        ),
        class_names=classes,
        quality=config.quality,
        serving_dir=config.pipeline.serving_dir,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=[*config.pipeline.beam_args, *beam_pipeline_args],
        compare_with_blessed=compare_with_blessed,
    )
