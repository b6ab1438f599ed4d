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
from training_run import train_fixed_model

from core.dataset.embedded.digits import write_embedded_dataset
from core.dataset.etl.etl import run_etl
from core.readers.example_tables import read_raw
from dcp.config import load_config
from models.preprocessing import decode_and_resize
from models.registry import get_model_spec
from pipeline.console import configure_logging
from tasks.classification.label_issues.folds import plan_folds
from tasks.classification.label_issues.ink_images import ink_crops
from tasks.classification.label_issues.out_of_sample import (
    AUDITOR,
    AUDITOR_IMAGE_SIZE,
    CROSS_TRAIN,
    PIXEL_PROBE,
    out_of_sample,
)
from tasks.classification.label_issues.ranking import rank_labels

REPO = Path(__file__).resolve().parents[1]
MODEL = "dcai_resnet50"
FOLDS = 5


def model_inputs(data_dir: Path, work: Path, splits: list[str]):
    """The embedded dataset through the ETL, decoded and resized by the
    Transform's own function: (paths, images, labels, split of each, the
    auditor's ink crops)."""
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
    crops = ink_crops(table.pngs, AUDITOR_IMAGE_SIZE)
    return table.paths, images, table.labels, split, crops


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
        paths, images, labels, split, crops = model_inputs(
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
        model = train_fixed_model(
            images, labels, split, spec, epochs=spec.epochs
        )
        # Its own predictions, and a probe on its embeddings, are in
        # sample: they show what memorising the train labels does.
        return model.predict(images, verbose=0)

    in_sample, train_seconds = timed(train_once)
    results["training_run_seconds"] = round(train_seconds, 1)
    results["trained_model_in_sample"] = score(paths, labels, in_sample, flips)
    plan = plan_folds(
        labels,
        [str(c) for c in range(num_classes)],
        folds=FOLDS,
        seed=spec.seed,
    )

    def round_of(method: str, inputs: np.ndarray, epochs: int | None):
        return lambda: (
            out_of_sample(
                method,
                inputs,
                labels,
                plan,
                spec=spec,
                num_classes=num_classes,
                epochs=epochs,
                seed=spec.seed,
            ).probabilities
        )

    methods = {
        "pixel_probe": round_of(PIXEL_PROBE, images, None),
        "auditor_one_round": round_of(AUDITOR, crops, None),
        f"cross_train_{args.short_epochs}_epochs": round_of(
            CROSS_TRAIN, images, args.short_epochs
        ),
    }
    if not args.skip_full:
        methods[f"cross_train_{spec.epochs}_epochs"] = round_of(
            CROSS_TRAIN, images, spec.epochs
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
