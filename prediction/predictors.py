"""The models `dcp predict` applies, each taking serialized
tf.train.Examples as the ETL writes them and giving class scores."""

import dataclasses
import os
import posixpath
from typing import Any, Literal, Protocol

import numpy as np
import tensorflow as tf
from tfx.dsl.io import fileio
from tfx.orchestration import metadata
from tfx.utils import path_utils

from components.tflite_export import keys as tflite_keys
from core.tflite import predict_tflite
from models import features
from models.trainer import SERVING_SIGNATURE, TRANSFORM_SIGNATURE
from pipeline.run_results import latest_outputs

ModelKind = Literal["pushed", "savedmodel", "tflite-int8"]


class Model(Protocol):
    def predict(self, examples: list[bytes]) -> np.ndarray:
        """[n, classes] scores of n serialized tf.train.Examples."""
        ...


class SavedModel:
    """The Trainer's serving SavedModel: its signature parses the
    examples and runs the Transform graph and the model."""

    def __init__(self, path: str):
        self._loaded = tf.saved_model.load(path)
        self._serve = _signature(self._loaded, path, SERVING_SIGNATURE)

    def predict(self, examples: list[bytes]) -> np.ndarray:
        return self._serve(examples=tf.constant(examples))[
            "probabilities"
        ].numpy()


class TFLiteInt8:
    """The int8 TFLite model, fed the transformed image made by the
    Trainer's SavedModel's Transform signature, as a device would be fed
    after the same preprocessing."""

    def __init__(self, tflite_path: str, saved_model_path: str):
        with fileio.open(tflite_path, "rb") as file:
            self._tflite = file.read()
        self._loaded = tf.saved_model.load(saved_model_path)
        self._transform = _signature(
            self._loaded, saved_model_path, TRANSFORM_SIGNATURE
        )

    def predict(self, examples: list[bytes]) -> np.ndarray:
        images = self._transform(examples=tf.constant(examples))[
            features.TRANSFORMED_IMAGE
        ]
        return predict_tflite(self._tflite, images.numpy())


@dataclasses.dataclass(frozen=True)
class ModelFiles:
    kind: ModelKind
    saved_model: str  # the SavedModel, or the one whose Transform it uses
    tflite: str | None = None

    def load(self) -> Model:
        if self.tflite is not None:
            return TFLiteInt8(self.tflite, self.saved_model)
        return SavedModel(self.saved_model)

    def describe(self) -> str:
        what = {
            "pushed": "pushed model",
            "savedmodel": "run's SavedModel",
            "tflite-int8": "run's int8 TFLite model",
        }[self.kind]
        return f"{what} {self.tflite or self.saved_model}"


def pushed_model(serving_dir: str) -> ModelFiles:
    """The latest model the Pusher copied to `serving_dir` (a folder per
    push, named by its time in seconds)."""
    names = (
        [os.fsdecode(name).rstrip("/") for name in fileio.listdir(serving_dir)]
        if fileio.isdir(serving_dir)
        else []
    )
    versions = [name for name in names if name.isdigit()]
    if not versions:
        raise ValueError(
            f"{serving_dir}: no pushed model; the Pusher copies a model"
            " there once the Evaluator blesses one (dcp pipeline), or use"
            " --model savedmodel for a run's model (pipeline.serving_dir"
            " in params.yaml sets the folder)"
        )
    latest = max(versions, key=int)
    return ModelFiles("pushed", posixpath.join(serving_dir, latest))


def run_model(
    kind: ModelKind,
    connection_config: metadata.ConnectionConfigType,
    pipeline_name: str,
    run_id: str | None,
) -> ModelFiles:
    """The Trainer's SavedModel (`savedmodel`) or the TFLiteExport's int8
    model (`tflite-int8`) of the run `run_id` (None: the latest)."""
    outputs = latest_outputs(connection_config, pipeline_name, run_id)
    wanted = [("Trainer", "model")]
    if kind == "tflite-int8":
        wanted.append(("TFLiteExport", "tflite_model"))
    missing = [f"{c}.{k}" for c, k in wanted if (c, k) not in outputs]
    if missing:
        raise ValueError(
            f"the run {run_id or '(latest)'} of {pipeline_name!r} has no"
            f" {', '.join(missing)}: it did not get that far; pass --run"
            " with a finished run"
        )
    saved_model = path_utils.serving_model_path(
        outputs[("Trainer", "model")].uri
    )
    if kind == "savedmodel":
        return ModelFiles(kind, saved_model)
    tflite = posixpath.join(
        path_utils.serving_model_path(
            outputs[("TFLiteExport", "tflite_model")].uri
        ),
        tflite_keys.INT8_FILE,
    )
    return ModelFiles(kind, saved_model, tflite)


def _signature(loaded: Any, path: str, name: str) -> Any:
    """The signature `name` of `loaded`, which must stay referenced: its
    variables go with it."""
    signatures = loaded.signatures
    if name not in signatures:
        raise ValueError(
            f"{path}: the SavedModel has no {name!r} signature (it has"
            f" {', '.join(signatures) or 'none'}); use a model the"
            " pipeline's Trainer exported"
        )
    return signatures[name]
