"""The classification task, as the shared layers ask for it
(core/task.py)."""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow_model_analysis as tfma
from PIL import Image

from core.dataset.embedded import digits
from core.dataset.etl import dataset_layout
from core.findings.finding import RELABEL, REMOVE
from core.settings import PrepareConfig
from core.task import Task
from models.features import bucket_key
from models.registry import MODELS
from tasks.classification import (
    annotations,
    drawing,
    error_analysis,
    evaluation,
    folders,
    split_accuracy,
    tflite_accuracy,
    transformed_examples,
)
from tasks.classification.label_issues.analysis import find_label_issues


@dataclasses.dataclass(frozen=True)
class Classification:
    name: str = "classification"
    preprocessing_fn: str = "models.preprocessing.preprocessing_fn"
    run_fn: str = "models.trainer.run_fn"
    models: tuple[str, ...] = tuple(MODELS)
    # The Transform's image-property buckets the Evaluator slices by.
    slice_features: tuple[str, ...] = tuple(
        bucket_key(name) for name in evaluation.SLICE_PROPERTIES
    )
    headline: str = "accuracy"
    headline_metric: str = "sparse_categorical_accuracy"
    class_metric: str = ""  # the Evaluator slices by label
    finding_target: str = "image"
    fix_actions: tuple[str, ...] = (RELABEL, REMOVE)

    def write_embedded_dataset(
        self, output: str, settings: PrepareConfig
    ) -> str:
        """scikit-learn's digit scans, in class folders."""
        key = digits.write_embedded_dataset(
            output,
            seed=settings.seed,
            image_size=settings.image_size,
            val_fraction=settings.val_fraction,
            test_fraction=settings.test_fraction,
            unlabeled_fraction=settings.unlabeled_fraction,
            defects=settings.defects,
        )
        injected = ", ".join(
            f"{len(v)} {k.replace('_', ' ')}"
            for k, v in key.items()
            if isinstance(v, list)
        )
        return f"Embedded dataset written to {output}: injected {injected}."

    scan_dataset = staticmethod(dataset_layout.scan_dataset)
    annotation_features = staticmethod(annotations.annotation_features)
    instances = staticmethod(annotations.instances)

    def trainer_config(
        self,
        class_names: Sequence[str],
        *,
        model: str,
        epochs: int | None,
        augment: bool,
    ) -> dict[str, Any]:
        """models/trainer.py's custom_config."""
        return {
            "model": model,
            "num_classes": len(class_names),
            "epochs": epochs,
            "augment": augment,
        }

    def eval_config(
        self,
        class_names: Sequence[str],
        *,
        min_accuracy: float,
        max_accuracy_drop: float,
    ) -> tfma.EvalConfig:
        return evaluation.eval_config(
            len(class_names),
            min_accuracy=min_accuracy,
            max_accuracy_drop=max_accuracy_drop,
        )

    read_tflite_split = staticmethod(transformed_examples.read_split)
    measure_tflite = staticmethod(tflite_accuracy.evaluate)
    measure_split = staticmethod(split_accuracy.measure_split)
    find_label_issues = staticmethod(find_label_issues)
    error_analysis = staticmethod(error_analysis.find_misclassified)
    fixed_path = staticmethod(folders.fixed_path)
    fix_reason = staticmethod(folders.fix_reason)
    augmented_path = staticmethod(folders.augmented_path)

    def draw(self, image: bytes, prediction: Mapping[str, Any]) -> Image.Image:
        """The class and its confidence on a banner along the top."""
        return drawing.annotate(
            image, drawing.label(prediction["class"], prediction["confidence"])
        )


# Typed as the protocol, so that mypy checks that it is one.
TASK: Task = Classification()
