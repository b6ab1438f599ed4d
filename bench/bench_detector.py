"""Benchmark the fixed detector (models/centernet.py) on BCCD, real
microscope photographs with boxes of three blood-cell classes.

Trains on BCCD's train split (205 images) as tasks/detection/training.py
does, keeps the epoch of best val mAP50 (87 images), then measures on
test (72 images) the Keras model and its float32 and int8 TFLite models,
run by the interpreter one image at a time (core/tflite.py; the int8 one
calibrated on 100 training images), their peaks and NMS decoded outside
TFLite. mAP is COCO's, through pycocotools. Images are resized from
640x480 to the model's 320x240, so boxes scale exactly.

Prints each epoch and a summary, and writes it all as JSON (--output).
Skips, with exit status 0, where the dataset folder is absent.

The images and boxes are read as the ETL reads them
(tasks.detection.annotations): BCCD's two zero-area boxes are left out.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import dataclasses
import json
import logging
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from core.tflite import convert, predict_tflite
from models import centernet
from tasks.detection.annotations import scan_detection_dataset
from tasks.detection.mean_average_precision import (
    ImageBoxes,
    MeanAveragePrecision,
    mean_average_precision,
)
from tasks.detection.training import (
    detection_dataset,
    evaluate,
    train_detector,
)

REPO = Path(__file__).resolve().parents[1]
BCCD = REPO.parent / "shared" / "datasets" / "bccd"
CALIBRATION_IMAGES = 100
SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class Split:
    images: np.ndarray  # [n, 240, 320, 3] uint8
    boxes: list[np.ndarray]  # [k, 4] normalised [ymin, xmin, ymax, xmax]
    classes: list[np.ndarray]  # [k] indices into the class names

    def dataset(self) -> tf.data.Dataset:
        return detection_dataset(self.images, self.boxes, self.classes)

    def ground_truth(self) -> list[ImageBoxes]:
        return [
            ImageBoxes(b, c)
            for b, c in zip(self.boxes, self.classes, strict=True)
        ]


def read_splits(root: Path) -> tuple[list[str], dict[str, Split]]:
    """The class names, and each split's images resized to the model's
    input with their boxes, as the ETL reads them (bad boxes left out)."""
    scan = scan_detection_dataset(str(root), SPLITS)
    splits = {}
    for split in SPLITS:
        images, boxes, classes = [], [], []
        for annotated in (i for i in scan.images if i.split == split):
            with Image.open(root / annotated.path) as image:
                images.append(
                    np.asarray(
                        image.convert("RGB").resize(
                            (centernet.INPUT_WIDTH, centernet.INPUT_HEIGHT),
                            Image.Resampling.BILINEAR,
                        )
                    )
                )
            boxes.append(
                np.array(
                    [
                        [b.ymin, b.xmin, b.ymax, b.xmax]
                        for b in annotated.boxes
                    ],
                    np.float32,
                ).reshape(-1, 4)
            )
            classes.append(
                np.array(
                    [
                        scan.classes.index(b.class_name)
                        for b in annotated.boxes
                    ],
                    np.int32,
                )
            )
        splits[split] = Split(np.stack(images), boxes, classes)
    return list(scan.classes), splits


def tflite_map(
    tflite_model: bytes, split: Split, class_names: list[str]
) -> MeanAveragePrecision:
    """mAP of a TFLite model run by the interpreter, decoded in TF."""
    outputs = predict_tflite(
        tflite_model, split.images.astype(np.float32) / 255.0
    )
    found = []
    for start in range(0, len(outputs), 16):
        detections = centernet.detect(outputs[start : start + 16])
        boxes, classes, scores, counts = (t.numpy() for t in detections)
        found += [
            ImageBoxes(boxes[i, :n], classes[i, :n], scores[i, :n])
            for i, n in enumerate(counts)
        ]
    return mean_average_precision(split.ground_truth(), found, class_names)


def map_json(result: MeanAveragePrecision) -> dict:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return {
        "map50": rounded(result.map50),
        "map50_95": rounded(result.map50_95),
        "per_class": {
            c.name: {
                "boxes": c.boxes,
                "ap50": rounded(c.ap50),
                "ap50_95": rounded(c.ap50_95),
            }
            for c in result.per_class
        },
    }


def multiply_adds(model: tf.keras.Model) -> int:
    """Of the convolutions, for one image: nearly all of the model's."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.DepthwiseConv2D):
            per_pixel = int(np.prod(layer.weights[0].shape[:3]))
        elif isinstance(layer, tf.keras.layers.Conv2D):
            per_pixel = int(np.prod(layer.weights[0].shape))
        else:
            continue
        total += per_pixel * int(np.prod(layer.output.shape[1:3]))
    return total


class CpuUse:
    """The cores other programs kept busy between two readings: the
    machine's busy time (/proc/stat) less this process's."""

    def __init__(self) -> None:
        self._start = self._read()

    @staticmethod
    def _read() -> tuple[float, float, float]:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(
            int, fields[1:9]
        )
        busy = (user + nice + system + irq + softirq + steal) / os.sysconf(
            "SC_CLK_TCK"
        )
        ours = os.times()
        return time.perf_counter(), busy, ours.user + ours.system

    def others(self) -> float:
        now, busy, ours = self._read()
        then, busy_then, ours_then = self._start
        return max(0.0, (busy - busy_then) - (ours - ours_then)) / (now - then)


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [
        line.split(":", 1)[1].strip()
        for line in cpuinfo
        if line.startswith("model name")
    ]
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "CPU": models[0] if models else platform.processor(),
        "Python": platform.python_version(),
        "TensorFlow": tf.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=BCCD)
    parser.add_argument(
        "--epochs",
        type=int,
        default=centernet.SETTINGS.epochs,
        help="fewer than the fixed number only to time an epoch",
    )
    parser.add_argument("--seed", type=int, default=centernet.SETTINGS.seed)
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bench_detector.json",
    )
    args = parser.parse_args()
    if not (args.data / "Annotations").is_dir():
        print(f"skipped: no Pascal VOC dataset at {args.data}")
        sys.exit(0)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout
    )
    settings = dataclasses.replace(
        centernet.SETTINGS, epochs=args.epochs, seed=args.seed
    )
    class_names, splits = read_splits(args.data)
    print(
        "BCCD:",
        ", ".join(
            f"{name} {len(s.images)} images, {sum(map(len, s.classes))} boxes"
            for name, s in splits.items()
        ),
        f"; classes {class_names}",
        flush=True,
    )
    load_before = os.getloadavg()
    cpu = CpuUse()
    model, training = train_detector(
        splits["train"].dataset(),
        splits["val"].dataset(),
        class_names,
        settings=settings,
    )
    others = cpu.others()
    load_after = os.getloadavg()

    started = time.perf_counter()
    keras = evaluate(
        model, splits["test"].dataset(), class_names, settings=settings
    ).map
    keras_seconds = time.perf_counter() - started
    calibration = splits["train"].images[
        np.random.default_rng(settings.seed).permutation(
            len(splits["train"].images)
        )[:CALIBRATION_IMAGES]
    ]
    started = time.perf_counter()
    float32_model, int8_model = convert(
        model, calibration.astype(np.float32) / 255.0
    )
    convert_seconds = time.perf_counter() - started
    started = time.perf_counter()
    int8 = tflite_map(int8_model, splits["test"], class_names)
    int8_seconds = time.perf_counter() - started
    float32 = tflite_map(float32_model, splits["test"], class_names)

    # The first epoch also traces the training step.
    later = [e.train_seconds for e in training.epochs[1:]] or [
        training.epochs[0].train_seconds
    ]
    results = {
        "machine": machine(),
        "dataset": str(args.data),
        "images": {name: len(s.images) for name, s in splits.items()},
        "classes": class_names,
        "settings": dataclasses.asdict(settings),
        "parameters": model.count_params(),
        "multiply_adds": multiply_adds(model),
        "epochs": settings.epochs,
        "best_epoch": training.best_epoch,
        "seconds_per_epoch_training": round(float(np.median(later)), 2),
        "seconds_per_epoch_with_validation": round(
            training.seconds / settings.epochs, 2
        ),
        "first_epoch_seconds": round(training.epochs[0].train_seconds, 1),
        "training_seconds": round(training.seconds, 1),
        "other_programs_cores": round(others, 2),
        "load_average_1min": [load_before[0], load_after[0]],
        "keras": map_json(keras),
        "tflite_int8": map_json(int8),
        "tflite_float32": map_json(float32),
        "tflite_int8_bytes": len(int8_model),
        "tflite_float32_bytes": len(float32_model),
        "seconds": {
            "keras_test_evaluation": round(keras_seconds, 1),
            "tflite_conversion": round(convert_seconds, 1),
            "int8_test_evaluation": round(int8_seconds, 1),
        },
        "history": [dataclasses.asdict(e) for e in training.epochs],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    summary = {k: v for k, v in results.items() if k != "history"}
    print(json.dumps(summary, indent=2))
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
