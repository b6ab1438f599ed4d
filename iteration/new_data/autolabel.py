"""`dcp autolabel`: label a folder of unlabeled images with a finished
run's model. Confident predictions join the training split as a new
data version; the rest are listed for a person to review."""

import csv
import dataclasses
import logging
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from components import trained_model
from iteration.data_versions import Change, ensure_recorded, record_version
from iteration.new_data.finished_run import FinishedRun
from iteration.new_data.folder_images import UnreadableFile, load_folder

REVIEW_FILE = "review.csv"
REVIEW_COLUMNS = (
    "path",
    "predicted_label",
    "confidence",
    "runner_up",
    "runner_up_probability",
    "reason",
)
SOURCE = "dcp autolabel"
# Accepted images go here only: never into val/ or test/.
TRAIN_DIR = "train"
_HELD_OUT_DIRS = ("val", "test")


@dataclasses.dataclass(frozen=True)
class Prediction:
    path: str  # relative to the labelled folder
    label: str
    confidence: float
    runner_up: str
    runner_up_probability: float


@dataclasses.dataclass(frozen=True)
class AutolabelResult:
    accepted: dict[str, int]  # class → images added to train
    review: int  # images and unreadable files left for review
    unreadable: int
    previous_version: str
    version: str | None  # None when nothing was accepted
    review_csv: Path

    def format(self) -> str:
        added = sum(self.accepted.values())
        per_class = ", ".join(
            f"{name}: {n}" for name, n in sorted(self.accepted.items())
        )
        lines = [
            f"Accepted {added} images into train"
            + (f" ({per_class})" if per_class else "")
            + f"; {self.review} left for review"
            + (
                f", {self.unreadable} of them unreadable"
                if self.unreadable
                else ""
            )
            + "."
        ]
        if self.version:
            lines.append(
                f"  data version: {self.version} (before:"
                f" {self.previous_version})"
            )
        else:
            lines.append(
                f"  no new data version: still {self.previous_version}"
            )
        lines.append(f"  to review: {self.review_csv}")
        return "\n".join(lines)


def top_two(
    paths: Sequence[str], probabilities: np.ndarray, class_names: list[str]
) -> list[Prediction]:
    """The most likely class of each image and the runner-up."""
    if probabilities.shape[1] != len(class_names):
        raise ValueError(
            f"the model predicts {probabilities.shape[1]} classes but the"
            f" dataset has {len(class_names)} ({', '.join(class_names)}):"
            " label with the run of this dataset (--name, --run), or pass"
            " --data-root with its ETL output"
        )
    order = np.argsort(-probabilities, axis=1, kind="stable")
    return [
        Prediction(
            path=path,
            label=class_names[ranked[0]],
            confidence=float(row[ranked[0]]),
            runner_up=class_names[ranked[1]],
            runner_up_probability=float(row[ranked[1]]),
        )
        for path, row, ranked in zip(paths, probabilities, order, strict=True)
    ]


def split_by_confidence(
    predictions: Sequence[Prediction], threshold: float
) -> tuple[list[Prediction], list[Prediction]]:
    """(accepted, for review): accepted from `threshold` on."""
    check_threshold(threshold)
    accepted = [p for p in predictions if p.confidence >= threshold]
    review = [p for p in predictions if p.confidence < threshold]
    return accepted, review


def check_threshold(threshold: float) -> None:
    if not 0.0 < threshold <= 1.0:
        raise ValueError(
            f"threshold {threshold}: must be a probability in (0, 1], e.g. 0.9"
        )


def free_path(folder: Path, name: str) -> Path:
    """`folder/name`, or with -1, -2, ... before the suffix if taken."""
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    number = 0
    while candidate.exists():
        number += 1
        candidate = folder / f"{stem}-{number}{suffix}"
    return candidate


def add_to_train(
    folder: Path,
    accepted: Sequence[Prediction],
    data_dir: Path,
    *,
    run_id: str,
) -> list[Change]:
    """Move (inside `data_dir`) or copy (outside) each accepted image to
    `data_dir/train/<label>/`, keeping its name unless taken."""
    inside = folder.resolve().is_relative_to(data_dir.resolve())
    changes = []
    for prediction in accepted:
        source = folder / prediction.path
        target_dir = data_dir / TRAIN_DIR / prediction.label
        target_dir.mkdir(parents=True, exist_ok=True)
        target = free_path(target_dir, source.name)
        reason = (
            f"predicted {prediction.label} with confidence"
            f" {prediction.confidence:.3f} by run {run_id}"
        )
        if inside:
            shutil.move(source, target)
            old = source.resolve().relative_to(data_dir.resolve()).as_posix()
        else:
            shutil.copy2(source, target)
            old, reason = "", f"{reason}; copied from {source}"
        new = target.relative_to(data_dir).as_posix()
        changes.append(Change("autolabel", old, new, reason, SOURCE))
    return changes


def write_review_csv(
    path: Path,
    folder: Path,
    review: Sequence[Prediction],
    unreadable: Sequence[UnreadableFile],
    *,
    threshold: float,
) -> None:
    """The images left to a person, most confident first, then the
    files that could not be read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(REVIEW_COLUMNS)
        for p in sorted(review, key=lambda p: -p.confidence):
            writer.writerow(
                (
                    folder / p.path,
                    p.label,
                    f"{p.confidence:.4f}",
                    p.runner_up,
                    f"{p.runner_up_probability:.4f}",
                    f"confidence below {threshold}",
                )
            )
        for bad in unreadable:
            writer.writerow((folder / bad.path, "", "", "", "", bad.reason))


def autolabel_folder(
    folder: Path,
    *,
    run: FinishedRun,
    class_names: list[str],
    data_dir: Path,
    threshold: float,
    review_dir: Path,
    changelog: str | Path,
    command: str,
) -> AutolabelResult:
    """Label the images below `folder` with the model of `run`: accepted
    ones go to `data_dir/train/<class>/` as a new data version of
    `data_dir`, the rest to `review_dir/review.csv`."""
    check_folders(folder, data_dir)
    check_threshold(threshold)
    previous = ensure_recorded(data_dir, changelog=changelog)
    images = load_folder(folder, transform_graph=run.transform_graph)
    model = trained_model.load_keras_model(run.model)
    logging.info("Predicting %d images with run %s", len(images), run.run_id)
    predictions = top_two(
        images.paths, trained_model.predict(model, images.images), class_names
    )
    accepted, review = split_by_confidence(predictions, threshold)
    changes = add_to_train(folder, accepted, data_dir, run_id=run.run_id)
    review_csv = review_dir / REVIEW_FILE
    write_review_csv(
        review_csv, folder, review, images.unreadable, threshold=threshold
    )
    version = None
    if changes:
        version = record_version(
            data_dir, command=command, changes=changes, changelog=changelog
        ).tag
    return AutolabelResult(
        accepted=dict(Counter(p.label for p in accepted)),
        review=len(review) + len(images.unreadable),
        unreadable=len(images.unreadable),
        previous_version=previous,
        version=version,
        review_csv=review_csv,
    )


def check_folders(folder: Path, data_dir: Path) -> None:
    """ValueError unless both folders exist and `folder` neither holds
    nor lies inside train/, val/ or test/ of `data_dir`."""
    if not data_dir.is_dir():
        raise ValueError(
            f"{data_dir}: no such data folder; pass --data with the raw"
            " image folder (split/class/image)"
        )
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder of images to label")
    labelled = [data_dir / name for name in (TRAIN_DIR, *_HELD_OUT_DIRS)]
    resolved = folder.resolve()
    if any(
        resolved.is_relative_to(split.resolve())
        or split.resolve().is_relative_to(resolved)
        for split in labelled
    ):
        raise ValueError(
            f"{folder}: holds or lies inside the labelled splits of"
            f" {data_dir}; autolabel a folder of unlabeled images, such as"
            f" {data_dir}/unlabeled"
        )
