"""Benchmark the whole pipeline against a plain Keras script on
dcai-roman (`make bench-pipeline`); results go in bench/RESULTS.md.

In one run: (1) ETL + the TFX pipeline with the Beam runner, as
`dcp run --data` does; (2) the same again with nothing changed, served
from the cache; (3) the organisers' style of script that only trains the
same fixed model on the same images with the same settings.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import dataclasses
import platform
import tempfile
import time
from pathlib import Path

import tensorflow as tf

from core.dataset.etl.etl import run_etl
from dcp.config import Config, load_config
from dcp.main_job import train_and_report
from models.registry import compile_model, get_model_spec
from models.trainer import train_best
from pipeline.console import configure_logging

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO.parent / "shared" / "datasets" / "dcai-roman"
MODEL = "dcai_resnet50"


def pipeline_config(work: Path, epochs: int) -> Config:
    config = load_config(REPO / "params.yaml")
    return dataclasses.replace(
        config,
        etl=dataclasses.replace(
            config.etl, output=str(work / "tfrecords"), splits=("train", "val")
        ),
        pipeline=dataclasses.replace(
            config.pipeline,
            root=str(work / "tfx"),
            metadata=str(work / "metadata.sqlite"),
            serving_dir=str(work / "serving"),
            metrics=str(work / "metrics.json"),
            plots=str(work / "plots"),
        ),
        trainer=dataclasses.replace(
            config.trainer, model=MODEL, epochs=epochs
        ),
        quality=dataclasses.replace(
            config.quality, report=str(work / "report")
        ),
    )


def run_pipeline(config: Config) -> float:
    """ETL then the TFX pipeline; return the wall time in seconds."""
    started = time.monotonic()
    etl = config.etl
    run_etl(
        str(DATASET),
        etl.output,
        splits=etl.splits,
        on_bad_file=etl.on_bad_file,
        images_per_shard=etl.images_per_shard,
        parallel_from_images=etl.parallel_from_images,
        beam_args=etl.beam_args,
        reuse_unchanged=True,  # as dcp run does
    )
    train_and_report(config, data_root=etl.output, pipeline_name="dcai-roman")
    return time.monotonic() - started


def run_plain_script(work: Path, epochs: int) -> tuple[float, float]:
    """The organisers' way: Keras reads the folders and trains; return
    the wall time and the best validation accuracy."""
    started = time.monotonic()
    spec = get_model_spec(MODEL)
    tf.keras.utils.set_random_seed(spec.seed)

    def folder(split: str, shuffle: bool) -> tuple[tf.data.Dataset, int]:
        dataset = tf.keras.utils.image_dataset_from_directory(
            DATASET / split,
            image_size=(spec.image_size, spec.image_size),
            batch_size=spec.batch_size,
            shuffle=shuffle,
            seed=spec.seed,
        )
        classes = len(dataset.class_names)
        return dataset.map(
            lambda image, label: (image / 255.0, label)
        ), classes

    train, classes = folder("train", shuffle=True)
    val, _ = folder("val", shuffle=False)
    model = spec.build(classes)
    compile_model(model, spec)
    # The same fit-and-keep-the-best-epoch as the pipeline's Trainer.
    history = train_best(
        model, train, val, epochs=epochs, checkpoint_dir=str(work / "plain")
    )
    return time.monotonic() - started, max(history.history["val_accuracy"])


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()},"
        f" TensorFlow {tf.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--epochs",
        type=int,
        default=get_model_spec(MODEL).epochs,
        help="the competition's 100 by default",
    )
    args = parser.parse_args()
    if not DATASET.is_dir():
        print(f"{DATASET} is absent: nothing to benchmark.")
        return
    configure_logging()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        config = pipeline_config(work, args.epochs)
        full = run_pipeline(config)
        rerun = run_pipeline(config)
        metrics = (work / "metrics.json").read_text()
        plain, plain_accuracy = run_plain_script(work, args.epochs)
    print(f"\nMachine: {machine()}")
    print(f"Data: {DATASET.name} (train 2,067, val 813), {args.epochs} epochs")
    print("| run | seconds | vs plain script |")
    print("|---|---:|---:|")
    print(f"| plain Keras script | {plain:.0f} | 1.00 |")
    print(f"| ETL + TFX pipeline | {full:.0f} | {full / plain:.2f} |")
    print(
        f"| rerun, nothing changed | {rerun:.0f} | {rerun / plain:.2f}"
        f" ({rerun / full:.1%} of a full run) |"
    )
    print(f"\nPlain script: best val accuracy {plain_accuracy:.4f}")
    print(f"Pipeline metrics.json:\n{metrics}")


if __name__ == "__main__":
    main()
