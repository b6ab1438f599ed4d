"""What differs between tasks (classification, detection; segmentation
to come), as one object per task that the shared code asks.

The shared layers never name a task: they take its name from params.yaml's
`task:` and call `get_task(name)` (or `get_pipeline_task`,
`get_dataset_task` for what they need), as TFX resolves a `module_file`.
Each member of `Task` is one row of docs/tasks.md's table.
"""

import dataclasses
import importlib
import types
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Protocol,
    cast,
    runtime_checkable,
)

import numpy as np
import tensorflow as tf
import tensorflow_model_analysis as tfma
from PIL import Image

from core.dataset.etl.dataset_layout import DatasetLayout, SourceImage
from core.dataset.etl.image_records import ImageRecord

if TYPE_CHECKING:  # the ETL imports this module, not the settings
    from core.settings import PrepareConfig

DEFAULT_TASK: Final = "classification"
# Each task's module. It defines TASK, its Task object; a task still
# being built defines PIPELINE_TASK while its data-quality analyses and
# loop are missing, or DATASET_TASK, what the ETL asks, while its
# pipeline is.
_LEVELS = ("TASK", "PIPELINE_TASK", "DATASET_TASK")
TASK_MODULES = {
    "classification": "tasks.classification.task",
    "detection": "tasks.detection.task",
}


@dataclasses.dataclass(frozen=True)
class Misclassified:
    """An eval image the trained model gets wrong, for the report."""

    path: str
    given_label: str
    predicted_label: str
    confidence: float  # the predicted label's probability


class DatasetTask(Protocol):
    @property
    def name(self) -> str: ...

    # `dcp prepare`: the task's embedded dataset, with seeded defects and
    # their answer key; returns what to tell the user.
    def write_embedded_dataset(
        self, output: str, settings: "PrepareConfig"
    ) -> str: ...

    # The ETL: the images of the user's folder with their annotations,
    # the objects of each class an annotation holds (none where it is the
    # image's class), and the annotation keys of a record's
    # tf.train.Example, or BadImageError where it does not fit the image.
    def scan_dataset(
        self,
        root: str,
        splits: tuple[str, ...],
        labels: Mapping[str, str] = {},
    ) -> DatasetLayout: ...

    def instances(self, source: SourceImage) -> Mapping[str, int]: ...

    def annotation_features(
        self, record: ImageRecord
    ) -> dict[str, tf.train.Feature]: ...


class PipelineTask(DatasetTask, Protocol):
    # The pipeline: Transform's and Trainer's code, as the dotted names
    # TFX takes, the task's fixed models, and what the Evaluator measures.
    @property
    def preprocessing_fn(self) -> str: ...

    @property
    def run_fn(self) -> str: ...

    @property
    def models(self) -> tuple[str, ...]: ...

    @property
    def slice_features(self) -> tuple[str, ...]: ...

    # The Trainer's custom_config from params.yaml's trainer section.
    def trainer_config(
        self,
        class_names: Sequence[str],
        *,
        model: str,
        epochs: int | None,
        augment: bool,
    ) -> dict[str, Any]: ...

    def eval_config(
        self,
        class_names: Sequence[str],
        *,
        min_accuracy: float,
        max_accuracy_drop: float,
    ) -> tfma.EvalConfig: ...

    # The figure a run is judged by ("accuracy", "mAP50"): the summary's
    # word for it and its key in the TFLite and test figures; the
    # Evaluator's metric behind it; and the Evaluator's metric per class,
    # "{}" standing for the class name ("" where the Evaluator slices by
    # label instead).
    @property
    def headline(self) -> str: ...

    @property
    def headline_metric(self) -> str: ...

    @property
    def class_metric(self) -> str: ...

    # The TFLite export: the calibration and measuring inputs of a
    # transformed split, and the models' figures on them.
    def read_tflite_split(
        self,
        split_dir: str,
        input_shape: tuple[int, ...],
        *,
        limit: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def measure_tflite(
        self,
        keras_model: tf.keras.Model,
        float32_model: bytes,
        int8_model: bytes,
        inputs: np.ndarray,
        targets: np.ndarray,
    ) -> Any: ...  # a dataclass of figures, written as metrics.json

    # TestAccuracy: the Keras and int8 models' figures on the test split,
    # {"examples", "images_sha256", "keras", "int8", ...}, "keras" and
    # "int8" each with the headline, "per_class_<headline>" and "slices".
    def measure_split(
        self,
        keras_model_dir: str,
        int8_model_file: str,
        raw_dir: str,
        transformed_dir: str,
        *,
        class_names: Sequence[str],
        slice_features: Sequence[str],
    ) -> dict[str, Any]: ...


@runtime_checkable
class EvaluationReporter(PipelineTask, Protocol):
    # The report of a task without data-quality analyses: its model's
    # figures and curves on the transformed splits (split name → folder),
    # written as report.html into output_dir, whose path it returns.
    def write_evaluation_report(
        self,
        model_dir: str,
        transformed_split_dirs: Mapping[str, str],
        output_dir: str,
        *,
        class_names: Sequence[str],
        title: str,
    ) -> str: ...


class Task(PipelineTask, Protocol):
    # Data quality: out-of-sample label issues, into output_dir.
    def find_label_issues(
        self,
        raw_split_dirs: list[str],
        transformed_split_dirs: list[str],
        output_dir: str,
        *,
        class_names: list[str],
        method: str,
        model: str,
        folds: int,
        epochs: int | None,
        rounds: int = 1,
        never_fit_folders: Sequence[str] = (),
    ) -> Sequence[Any]: ...

    # The report's error analysis.
    def error_analysis(
        self, model_uri: str, eval_split_dir: str, class_names: list[str]
    ) -> list[Misclassified]: ...

    # The loop: what a finding is on, what `dcp fix` can do with it and
    # where a fixed file goes in the user's folder.
    @property
    def finding_target(self) -> str: ...

    @property
    def fix_actions(self) -> tuple[str, ...]: ...

    def fixed_path(
        self,
        path: PurePosixPath,
        action: str,
        label: str,
        trash: PurePosixPath,
    ) -> PurePosixPath: ...

    def fix_reason(
        self, path: PurePosixPath, action: str, label: str, why: str
    ) -> str: ...

    # `dcp augment`: where the n-th augmented copy of a file goes, with
    # its annotation; the shared code transforms the pixels.
    def augmented_path(
        self, parent: PurePosixPath, n: int
    ) -> PurePosixPath: ...

    # `dcp predict --annotate`: a prediction drawn on its image.
    def draw(
        self, image: bytes, prediction: Mapping[str, Any]
    ) -> Image.Image: ...


@runtime_checkable
class Predicting(PipelineTask, Protocol):
    # `dcp predict` of a task whose model says more of an image than its
    # class (a full Task's model scores the image's classes, which the
    # prediction layer reads as they are). A new image's annotation, for
    # its example to hold the keys the serving signature parses
    # (detection: no boxes).
    def unannotated(self, path: str) -> Any: ...

    # The CSV columns of a prediction, between the image's path and
    # frame and the reason it is unreadable.
    @property
    def prediction_columns(self) -> tuple[str, ...]: ...

    # The int8 TFLite model's outputs [n, ...] decoded as the serving
    # signature decodes the network's: its outputs by name, [n, ...].
    def decode_tflite(self, outputs: np.ndarray) -> dict[str, np.ndarray]: ...

    # One image's serving outputs (name → its row) as its predictions,
    # each keyed by prediction_columns (and what draw_predictions needs
    # besides); none where the model finds nothing. `image_size` is
    # (width, height) as the ETL decodes the image.
    def read_predictions(
        self,
        outputs: Mapping[str, np.ndarray],
        class_names: Sequence[str],
        image_size: tuple[int, int],
    ) -> list[dict[str, Any]]: ...

    # `dcp predict --annotate`: an image's predictions drawn on it.
    def draw_predictions(
        self, image: bytes, predictions: Sequence[Mapping[str, Any]]
    ) -> Image.Image: ...


def get_dataset_task(name: str) -> DatasetTask:
    """What the ETL asks of task `name`; ValueError naming the tasks
    there are."""
    found: DatasetTask = getattr(_task_module(name), _level(name))
    return found


def get_pipeline_task(name: str) -> PipelineTask:
    """What the pipeline asks of task `name`; ValueError naming the tasks
    there are, or saying what a task whose pipeline is not built yet can
    do."""
    task = get_dataset_task(name)
    if _level(name) == "DATASET_TASK":
        raise ValueError(
            f"task: {name!r}: its images and annotations convert (dcp"
            " prepare, dcp etl), but its pipeline is not built yet; set"
            " params.yaml's task to one of"
            f" {', '.join(_tasks_from('PIPELINE_TASK'))} to run one."
        )
    return cast(PipelineTask, task)


def get_evaluation_reporter(name: str) -> EvaluationReporter:
    """Task `name`, which reports its evaluation alone; ValueError if it
    does not."""
    task = get_pipeline_task(name)
    if not isinstance(task, EvaluationReporter):
        raise ValueError(
            f"task: {name!r} writes no evaluation report of its own; its"
            " report is the data-quality report"
        )
    return task


def get_task(name: str) -> Task:
    """The Task object of `name`, for the data-quality analyses and the
    loop; ValueError naming the tasks there are, or saying what a task
    whose loop is not built yet can do."""
    task = get_pipeline_task(name)
    if _level(name) != "TASK":
        raise ValueError(
            f"task: {name!r}: its pipeline runs (dcp run, make run), but"
            " its data-quality analyses and the loop (dcp report, fix,"
            " review, augment) are not built yet; set"
            " params.yaml's task to one of"
            f" {', '.join(_tasks_from('TASK'))} for those."
        )
    return cast(Task, task)


def get_predicting_task(name: str) -> Predicting | Task:
    """Task `name` for `dcp predict`: a Predicting task, which reads its
    model's outputs itself, or else a full Task, whose model scores
    classes; ValueError saying what a task that is neither can do."""
    task = get_pipeline_task(name)
    if isinstance(task, Predicting):
        return task
    return get_task(name)


def _task_module(name: str) -> types.ModuleType:
    if name not in TASK_MODULES:
        raise ValueError(
            f"task: {name!r} is not a task of this package; set params.yaml's"
            f" task to one of {', '.join(sorted(TASK_MODULES))}."
        )
    return importlib.import_module(TASK_MODULES[name])


def _level(name: str) -> str:
    """The fullest object task `name`'s module defines."""
    module = _task_module(name)
    return next(level for level in _LEVELS if hasattr(module, level))


def _tasks_from(level: str) -> list[str]:
    """The tasks whose module defines `level` or a fuller one."""
    fuller = _LEVELS[: _LEVELS.index(level) + 1]
    return [name for name in sorted(TASK_MODULES) if _level(name) in fuller]
