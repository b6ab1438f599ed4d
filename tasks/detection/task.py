"""The detection task, as the shared layers ask for it (core/task.py):
its ETL, its pipeline and its evaluation report. Its data-quality
analyses and loop are still to come, so it is a PipelineTask that
reports its evaluation alone (EvaluationReporter)."""

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tensorflow_model_analysis as tfma

from core.settings import PrepareConfig
from core.task import EvaluationReporter
from models.features import bucket_key
from tasks.detection import (
    dataset,
    drawing,
    embedded_scenes,
    evaluation,
    measured_split,
    prediction,
    report,
)


@dataclasses.dataclass(frozen=True)
class Detection:
    name: str = "detection"
    preprocessing_fn: str = "tasks.detection.preprocessing.preprocessing_fn"
    run_fn: str = "tasks.detection.trainer.run_fn"
    models: tuple[str, ...] = ("centernet",)
    slice_features: tuple[str, ...] = tuple(
        bucket_key(name) for name in evaluation.SLICE_PROPERTIES
    )
    headline: str = evaluation.MAP50
    headline_metric: str = evaluation.MAP50
    class_metric: str = "AP50/{}"

    def write_embedded_dataset(
        self, output: str, settings: PrepareConfig
    ) -> str:
        """Scenes of digits pasted on scikit-learn's sample photos, boxed
        in YOLO files; of `settings`, only the seed applies."""
        summary = embedded_scenes.write_scenes(
            Path(output), seed=settings.seed
        )
        return f"Embedded detection dataset written to {output}:\n" + (
            summary.describe()
        )

    scan_dataset = staticmethod(dataset.scan_dataset)
    instances = staticmethod(dataset.instances)
    annotation_features = staticmethod(dataset.annotation_features)

    def trainer_config(
        self,
        class_names: Sequence[str],
        *,
        model: str,
        epochs: int | None,
        augment: bool,
    ) -> dict[str, Any]:
        """trainer.py's custom_config: the detector is fixed, its
        augmentation always on, so only the epochs setting applies."""
        return {"class_names": list(class_names), "epochs": epochs}

    def eval_config(
        self,
        class_names: Sequence[str],
        *,
        min_accuracy: float,
        max_accuracy_drop: float,
    ) -> tfma.EvalConfig:
        """Blessed on mAP50: params.yaml's evaluator thresholds apply to
        it."""
        return evaluation.eval_config(
            class_names, min_map=min_accuracy, max_map_drop=max_accuracy_drop
        )

    read_tflite_split = staticmethod(measured_split.read_split)
    measure_tflite = staticmethod(measured_split.measure_tflite)
    measure_split = staticmethod(measured_split.measure_split)
    write_evaluation_report = staticmethod(report.write_report)

    # dcp predict: a CSV row and a drawn box per detection.
    prediction_columns: tuple[str, ...] = prediction.COLUMNS
    unannotated = staticmethod(prediction.unannotated)
    decode_tflite = staticmethod(prediction.decode_tflite)
    read_predictions = staticmethod(prediction.read_predictions)
    draw_predictions = staticmethod(drawing.draw_boxes)


# Typed as the protocol, so that mypy checks that it is one.
PIPELINE_TASK: EvaluationReporter = Detection()
