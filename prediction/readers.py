"""What a model's outputs say of an image, as `dcp predict` writes and
draws it: a Predicting task reads its model's outputs itself; a full
Task's model scores classes, read here as the best class and its
probability."""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from PIL import Image

from core.task import Predicting, Task

CLASS_COLUMNS = ("class", "confidence")


class PredictionReader(Protocol):
    """The members of Predicting that read and draw an image's
    predictions (core/task.py), `outputs` being that image's row of the
    model's outputs."""

    @property
    def prediction_columns(self) -> tuple[str, ...]: ...

    def read_predictions(
        self,
        outputs: Any,
        class_names: Sequence[str],
        image_size: tuple[int, int],
    ) -> list[dict[str, Any]]: ...

    def draw_predictions(
        self, image: bytes, predictions: Sequence[Mapping[str, Any]]
    ) -> Image.Image: ...


@dataclasses.dataclass(frozen=True)
class ClassScores:
    """A classifier's scores of an image: its one prediction, the best
    class and its probability, drawn by the task."""

    task: Task
    prediction_columns: tuple[str, ...] = CLASS_COLUMNS

    def read_predictions(
        self,
        outputs: np.ndarray,
        class_names: Sequence[str],
        image_size: tuple[int, int],
    ) -> list[dict[str, Any]]:
        _check_classes(outputs, class_names)
        return [
            {
                "class": class_names[int(outputs.argmax())],
                "confidence": float(outputs.max()),
            }
        ]

    def draw_predictions(
        self, image: bytes, predictions: Sequence[Mapping[str, Any]]
    ) -> Image.Image:
        (prediction,) = predictions
        return self.task.draw(image, prediction)


def prediction_reader(task: Predicting | Task) -> PredictionReader:
    return task if isinstance(task, Predicting) else ClassScores(task)


def _check_classes(scores: np.ndarray, class_names: Sequence[str]) -> None:
    if scores.shape[-1] != len(class_names):
        raise ValueError(
            f"the model scores {scores.shape[-1]} classes, but the run's"
            f" classes.json names {len(class_names)}: the model was trained"
            " on another dataset; pass the --name (or --run, --data-root)"
            " of the run that trained it"
        )
