"""Benchmark the label-issue step (`make bench-quality`); results go in
bench/RESULTS.md.

On the embedded dataset, whose flipped labels are known, in one run:
one training run of the fixed model as the Trainer does it (the unit of
cost), then each way of getting out-of-sample probabilities on train +
val, timed, and the ranking it gives scored against the injected flips:
average precision, and recall within the top 2x(flips).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf
from sklearn.metrics import average_precision_score

from components.embedded_dataset.digits import write_embedded_dataset
from components.example_tables import read_raw
from components.image_etl.etl import run_etl
from components.label_issues.out_of_sample import (
    cross_train_probabilities,
    pixel_probe_probabilities,
)
from components.label_issues.ranking import rank_labels
from models.preprocessing import decode_and_resize
from models.registry import compile_model, get_model_spec
from models.trainer import train_best
from pipeline.config import load_config
from pipeline.console import configure_logging

REPO = Path(__file__).resolve().parents[1]
MODEL = "dcai_resnet50"
FOLDS = 5


def model_inputs(data_dir: Path, work: Path, splits: list[str]):
    """The embedded dataset through the ETL, decoded and resized by the
    Transform's own function: (paths, images, labels, split of each)."""
    config = load_config(REPO / "params.yaml")
    run_etl(
        str(data_dir),
        str(work / "tfrecords"),
        splits=splits,
        on_bad_file="skip",
        images_per_shard=config.etl.images_per_shard,
        parallel_from_images=config.etl.parallel_from_images,
    )
    table = read_raw([str(work / "tfrecords" / split) for split in splits])
    spec = get_model_spec(MODEL)
    images = decode_and_resize(
        tf.constant(table.pngs), spec.image_size, spec.channels
    ).numpy()
    split = np.array([path.split("/", 1)[0] for path in table.paths])
    return table.paths, images, table.labels, split


def score(paths, labels, probabilities, flips: set[str]) -> dict:
    ranked = rank_labels(paths, labels, probabilities)
    truth = np.array([r.path in flips for r in ranked])
    scores = np.array([r.score for r in ranked])
    top = 2 * len(flips)
    return {
        "average_precision": round(
            float(average_precision_score(truth, scores)), 3
        ),
        f"recall_at_{top}": round(float(truth[:top].sum() / len(flips)), 3),
        "flagged": int(sum(r.flagged for r in ranked)),
    }


def timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short-epochs", type=int, default=10)
    parser.add_argument(
        "--skip-full", action="store_true", help="no full cross-training"
    )
    args = parser.parse_args()
    configure_logging()
    spec = get_model_spec(MODEL)
    prepare = load_config(REPO / "params.yaml").prepare
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        key = write_embedded_dataset(
            work / "raw",
            seed=prepare.seed,
            image_size=prepare.image_size,
            val_fraction=prepare.val_fraction,
            test_fraction=prepare.test_fraction,
            unlabeled_fraction=prepare.unlabeled_fraction,
            defects=prepare.defects,
        )
        paths, images, labels, split = model_inputs(
            work / "raw", work, ["train", "val"]
        )
    flips = {flip["path"] for flip in key["label_flips"]}
    num_classes = int(labels.max()) + 1
    results: dict = {
        "machine": f"{platform.node()}, {os.cpu_count()} CPUs",
        "images": len(labels),
        "injected_flips": len(flips),
        "folds": FOLDS,
    }

    # The unit of cost: the Trainer's training run, train split only.
    def train_once() -> np.ndarray:
        tf.keras.utils.set_random_seed(spec.seed)
        model = spec.build(num_classes)
        compile_model(model, spec)
        batches = {
            name: tf.data.Dataset.from_tensor_slices(
                (images[split == name], labels[split == name])
            ).batch(spec.batch_size)
            for name in ("train", "val")
        }
        with tempfile.TemporaryDirectory() as checkpoints:
            train_best(
                model,
                batches["train"].shuffle(4096, seed=spec.seed),
                batches["val"],
                epochs=spec.epochs,
                checkpoint_dir=checkpoints,
            )
        # Its own predictions, and a probe on its embeddings, are in
        # sample: they show what memorising the train labels does.
        return model.predict(images, verbose=0)

    in_sample, train_seconds = timed(train_once)
    results["training_run_seconds"] = round(train_seconds, 1)
    results["trained_model_in_sample"] = score(paths, labels, in_sample, flips)
    methods = {
        "pixel_probe": lambda: pixel_probe_probabilities(
            images,
            labels,
            num_classes=num_classes,
            folds=FOLDS,
            seed=spec.seed,
        ),
        f"cross_train_{args.short_epochs}_epochs": (
            lambda: cross_train_probabilities(
                images,
                labels,
                spec=spec,
                num_classes=num_classes,
                folds=FOLDS,
                epochs=args.short_epochs,
            )
        ),
    }
    if not args.skip_full:
        methods[f"cross_train_{spec.epochs}_epochs"] = lambda: (
            cross_train_probabilities(
                images,
                labels,
                spec=spec,
                num_classes=num_classes,
                folds=FOLDS,
                epochs=spec.epochs,
            )
        )
    for name, method in methods.items():
        probabilities, seconds = timed(method)
        results[name] = {
            "seconds": round(seconds, 1),
            "training_runs": round(seconds / train_seconds, 2),
            **score(paths, labels, probabilities, flips),
        }
        print(json.dumps({name: results[name]}), flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
