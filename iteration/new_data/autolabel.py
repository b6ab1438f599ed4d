"""`dcp autolabel`: label a folder of unlabeled images with a finished
run's model. Confident predictions join the training split as a new
data version; the rest are listed for a person to review."""

import csv
import dataclasses
import logging
import shutil
from collections import Counter
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from core.readers import trained_model
from core.task import get_task
from iteration.data_versions import (
    Change,
    ensure_recorded,
    record_change,
    sole_writer,
)
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


def free_path(folder: Path, name: str, taken: Collection[Path] = ()) -> Path:
    """`folder/name`, or with -1, -2, ... before the suffix if it exists
    or is in `taken`."""
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    number = 0
    while candidate.exists() or candidate in taken:
        number += 1
        candidate = folder / f"{stem}-{number}{suffix}"
    return candidate


def train_targets(
    accepted: Sequence[Prediction], data_dir: Path
) -> list[Path]:
    """Where each accepted image goes, `data_dir/train/<label>/`, keeping
    its name unless taken; decided before any moves, for the journal."""
    targets: list[Path] = []
    for prediction in accepted:
        name = Path(prediction.path).name
        folder = data_dir / TRAIN_DIR / prediction.label
        targets.append(free_path(folder, name, taken=targets))
    return targets


def add_to_train(
    folder: Path,
    accepted: Sequence[Prediction],
    data_dir: Path,
    *,
    targets: Sequence[Path],
    run_id: str,
) -> list[Change]:
    """Move (inside `data_dir`) or copy (outside) each accepted image to
    its target (see train_targets)."""
    inside = _inside(folder, data_dir)
    changes = []
    for prediction, target in zip(accepted, targets, strict=True):
        source = folder / prediction.path
        target.parent.mkdir(parents=True, exist_ok=True)
        reason = (
            f"predicted {prediction.label} with confidence"
            f" {prediction.confidence:.3f} by run {run_id}"
        )
        if inside:
            shutil.move(source, target)
            old = _relative(source, data_dir)
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
    wait: float | None = None,
) -> AutolabelResult:
    """Label the images below `folder` with the model of `run`: accepted
    ones go to `data_dir/train/<class>/` as a new data version of
    `data_dir`, the rest to `review_dir/review.csv`. `wait`: see
    data_versions.sole_writer."""
    check_folders(folder, data_dir)
    check_threshold(threshold)
    # From reading the images on: another writer could move them.
    with sole_writer(data_dir, wait=wait):
        images = load_folder(
            folder,
            transform_graph=run.transform_graph,
            task=get_task(run.task),
        )
        model = trained_model.load_keras_model(run.model)
        logging.info(
            "Predicting %d images with run %s", len(images), run.run_id
        )
        predictions = top_two(
            images.paths,
            trained_model.predict(model, images.images),
            class_names,
        )
        accepted, review = split_by_confidence(predictions, threshold)
        previous = ensure_recorded(data_dir, changelog=changelog)
        version = _record(
            folder, accepted, data_dir, run.run_id, command, changelog
        )
        review_csv = review_dir / REVIEW_FILE
        write_review_csv(
            review_csv, folder, review, images.unreadable, threshold=threshold
        )
    return AutolabelResult(
        accepted=dict(Counter(p.label for p in accepted)),
        review=len(review) + len(images.unreadable),
        unreadable=len(images.unreadable),
        previous_version=previous,
        version=version,
        review_csv=review_csv,
    )


def _record(
    folder: Path,
    accepted: Sequence[Prediction],
    data_dir: Path,
    run_id: str,
    command: str,
    changelog: str | Path,
) -> str | None:
    """Add the accepted images to train as a data version; its tag, None
    if there are none."""
    if not accepted:
        return None
    targets = train_targets(accepted, data_dir)
    new = [target.relative_to(data_dir).as_posix() for target in targets]
    moves: list[tuple[str, str]] = []
    added: list[str] = []
    if _inside(folder, data_dir):
        moves = [
            (_relative(folder / p.path, data_dir), path)
            for p, path in zip(accepted, new, strict=True)
        ]
    else:
        added = new
    version, _ = record_change(
        data_dir,
        command=command,
        changelog=changelog,
        change=lambda: add_to_train(
            folder, accepted, data_dir, targets=targets, run_id=run_id
        ),
        moves=moves,
        added=added,
    )
    return version.tag


def _inside(folder: Path, data_dir: Path) -> bool:
    return folder.resolve().is_relative_to(data_dir.resolve())


def _relative(path: Path, data_dir: Path) -> str:
    return path.resolve().relative_to(data_dir.resolve()).as_posix()


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
