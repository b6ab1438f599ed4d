"""What differs between tasks (classification today; detection and
segmentation to come), as one object per task that the shared code asks.

The shared layers never name a task: they take its name from params.yaml's
`task:` and call `get_task(name)`, as TFX resolves a `module_file`. Each
member of `Task` is one row of docs/tasks.md's table.
"""

import dataclasses
import importlib
import types
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Final, Protocol

import numpy as np
import tensorflow as tf
import tensorflow_model_analysis as tfma
from PIL import Image

from core.dataset.etl.dataset_layout import DatasetLayout, SourceImage
from core.dataset.etl.image_records import ImageRecord

if TYPE_CHECKING:  # the ETL imports this module, not the settings
    from core.settings import PrepareConfig

DEFAULT_TASK: Final = "classification"
# Each task's module, defining TASK, its Task object; a task whose
# pipeline is still being built defines only DATASET_TASK, what the ETL
# asks of it.
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


class Task(DatasetTask, Protocol):
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

    def eval_config(
        self,
        class_names: Sequence[str],
        *,
        min_accuracy: float,
        max_accuracy_drop: float,
    ) -> tfma.EvalConfig: ...

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


def get_dataset_task(name: str) -> DatasetTask:
    """What the ETL asks of task `name`; ValueError naming the tasks
    there are."""
    module = _task_module(name)
    return getattr(module, "TASK", None) or module.DATASET_TASK


def get_task(name: str) -> Task:
    """The Task object of `name`; ValueError naming the tasks there are,
    or saying what a task whose pipeline is not built yet can do."""
    module = _task_module(name)
    if not hasattr(module, "TASK"):
        raise ValueError(
            f"task: {name!r}: its images and annotations convert (dcp"
            " prepare, dcp etl), but its pipeline is not built yet; set"
            f" params.yaml's task to one of {', '.join(_pipeline_tasks())}"
            " to run one."
        )
    task: Task = module.TASK
    return task


def _task_module(name: str) -> types.ModuleType:
    if name not in TASK_MODULES:
        raise ValueError(
            f"task: {name!r} is not a task of this package; set params.yaml's"
            f" task to one of {', '.join(sorted(TASK_MODULES))}."
        )
    return importlib.import_module(TASK_MODULES[name])


def _pipeline_tasks() -> list[str]:
    return [
        name
        for name in sorted(TASK_MODULES)
        if hasattr(_task_module(name), "TASK")
    ]
