"""`dcp predict`: a model applied to every frame of the inputs, into a
CSV and, on request, annotated copies."""

import csv
import dataclasses
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from core.dataset.etl.etl import read_classes
from core.dataset.staged_output import make_output_folder
from core.task import Predicting, Task
from pipeline.run_results import existing_store, run_data_root
from prediction.annotated_copies import VideoWriter, annotated_path
from prediction.inputs import Frame, Source, find_sources, read_frames
from prediction.predictors import (
    Model,
    ModelKind,
    Outputs,
    pushed_model,
    run_model,
)
from prediction.readers import (
    CLASS_COLUMNS,
    PredictionReader,
    prediction_reader,
)

CSV_FILE = "predictions.csv"
ANNOTATED_DIR = "annotated"
# A row's columns: where the image is, the task's prediction columns,
# and why it could not be read.
PLACE_COLUMNS = ("path", "frame")
REASON_COLUMN = "unreadable"
# A classifier's row.
COLUMNS = (*PLACE_COLUMNS, *CLASS_COLUMNS, REASON_COLUMN)
_BATCH = 64
_PROGRESS_SECONDS = 10.0
# The writer named in the marker of every output (staged_output).
OUTPUT_KIND = "dcp predict"


@dataclasses.dataclass(frozen=True)
class PredictionSummary:
    inputs: int  # files, a video counting once
    videos: int
    images: int  # predicted
    frames: int  # of videos, predicted
    unreadable: int  # rows with a reason
    csv: Path
    annotated: Path | None
    model: str = ""  # which, and where

    def format(self) -> str:
        line = (
            f"Predicted {self.images} images and {self.frames} frames of"
            f" {self.videos} videos, {self.inputs} inputs, with the"
            f" {self.model}; {self.unreadable} unreadable, with the reason"
            f" in the CSV. CSV: {self.csv}"
        )
        if self.annotated is not None:
            line += f"; annotated copies: {self.annotated}"
        return line


def predict(
    paths: list[Path],
    *,
    kind: ModelKind,
    metadata_path: str,
    pipeline_name: str,
    run_id: str | None,
    serving_dir: str,
    data_root: str | None,
    output_dir: Path,
    annotate_copies: bool,
    task: Predicting | Task,
) -> PredictionSummary:
    """`dcp predict`: the pushed model in `serving_dir` (kind "pushed"),
    or the run `run_id`'s (None: the latest) SavedModel or int8 TFLite
    model, applied to `paths`; class names from the ETL output the run
    read, or `data_root`. A Predicting task reads its model's outputs;
    a full Task's model scores classes."""
    connection = existing_store(metadata_path)
    files = (
        pushed_model(serving_dir)
        if kind == "pushed"
        else run_model(kind, connection, pipeline_name, run_id)
    )
    class_names = read_classes(
        data_root or run_data_root(connection, pipeline_name, run_id)
    )
    logging.info("predict: loading the %s", files.describe())
    decode_tflite = (
        task.decode_tflite if isinstance(task, Predicting) else None
    )
    summary = predict_files(
        paths,
        files.load(decode_tflite),
        class_names,
        output_dir,
        task=task,
        annotate_copies=annotate_copies,
    )
    return dataclasses.replace(summary, model=files.describe())


def predict_files(
    paths: list[Path],
    model: Model,
    class_names: list[str],
    output_dir: Path,
    *,
    task: Predicting | Task,
    annotate_copies: bool = False,
) -> PredictionSummary:
    """Predict every image and video frame of `paths` (files or folders)
    with `model`, a model of `task`, into output_dir/predictions.csv, a
    row per prediction (a classifier's one per image or frame, a
    detector's one per box) and one per image or frame without any, and
    per input that cannot be read with the reason; with
    `annotate_copies`, copies in output_dir/annotated/ keep the inputs'
    layout below their common folder. `output_dir` must be new, empty or
    an earlier output of `dcp predict`, outside `paths`
    (staged_output)."""
    sources = find_sources(paths)
    make_output_folder(output_dir, kind=OUTPUT_KIND, inputs=paths)
    reader = prediction_reader(task)
    columns = reader.prediction_columns
    annotated = output_dir / ANNOTATED_DIR if annotate_copies else None
    counts = {"images": 0, "frames": 0, "unreadable": 0}
    copies = _Annotator(annotated, reader) if annotated is not None else None
    started = last_report = time.monotonic()
    with (output_dir / CSV_FILE).open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow((*PLACE_COLUMNS, *columns, REASON_COLUMN))
        for batch in _batches(sources, task):
            outputs = _predict(model, batch)
            for frame in batch:
                if id(frame) not in outputs:
                    counts["unreadable"] += 1
                    writer.writerow(_row(frame, columns, {}, frame.unreadable))
                    continue
                predictions = reader.read_predictions(
                    outputs[id(frame)], class_names, frame.size
                )
                counts["images" if frame.index is None else "frames"] += 1
                # An image without predictions keeps its row.
                for prediction in predictions or [{}]:
                    writer.writerow(_row(frame, columns, prediction, ""))
                if copies is not None:
                    copies.add(frame, predictions)
            if time.monotonic() - last_report > _PROGRESS_SECONDS:
                last_report = time.monotonic()
                logging.info(
                    "predict: %d images, %d frames, %d unreadable, %.0f s",
                    counts["images"],
                    counts["frames"],
                    counts["unreadable"],
                    last_report - started,
                )
        if copies is not None:
            copies.close()
    return PredictionSummary(
        inputs=len(sources),
        videos=sum(source.is_video for source in sources),
        images=counts["images"],
        frames=counts["frames"],
        unreadable=counts["unreadable"],
        csv=output_dir / CSV_FILE,
        annotated=annotated,
    )


def _predict(model: Model, batch: list[Frame]) -> dict[int, Any]:
    """id of each readable frame of `batch` → its row of the model's
    outputs."""
    readable = [frame for frame in batch if frame.example is not None]
    examples = [frame.example for frame in batch if frame.example is not None]
    if not examples:
        return {}
    outputs = model.predict(examples)
    return {
        id(frame): _output_row(outputs, i) for i, frame in enumerate(readable)
    }


def _output_row(outputs: Outputs, index: int) -> Any:
    if isinstance(outputs, dict):
        return {name: value[index] for name, value in outputs.items()}
    return outputs[index]


def _batches(
    sources: list[Source], task: Predicting | Task
) -> Iterator[list[Frame]]:
    """The frames of all sources in order, in lists of up to _BATCH
    readable frames and the unreadable ones among them."""
    batch: list[Frame] = []
    for source in sources:
        if source.is_video:
            logging.info("predict: reading the video %s", source.path)
        for frame in read_frames(source, task):
            batch.append(frame)
            if sum(bool(f.example) for f in batch) == _BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _row(
    frame: Frame,
    columns: Sequence[str],
    prediction: Mapping[str, Any],
    reason: str,
) -> list:
    index = "" if frame.index is None else frame.index
    cells = [_cell(prediction.get(column, "")) for column in columns]
    return [str(frame.source.path), index, *cells, reason]


def _cell(value: Any) -> Any:
    return f"{value:.4f}" if isinstance(value, float) else value


class _Annotator:
    """Writes annotated images, and videos frame by frame, below `root`."""

    def __init__(self, root: Path, reader: PredictionReader):
        self._root = root
        self._reader = reader
        self._video: tuple[Source, VideoWriter] | None = None

    def add(
        self, frame: Frame, predictions: Sequence[Mapping[str, Any]]
    ) -> None:
        picture = self._reader.draw_predictions(frame.image, predictions)
        source = frame.source
        path = annotated_path(
            self._root, source.relative, video=source.is_video
        )
        if not source.is_video:
            path.parent.mkdir(parents=True, exist_ok=True)
            picture.save(path)
            return
        if self._video is None or self._video[0] != source:
            self.close()
            self._video = (source, VideoWriter(path, frame.fps))
        self._video[1].append(picture)

    def close(self) -> None:
        if self._video is not None:
            self._video[1].close()
            self._video = None
