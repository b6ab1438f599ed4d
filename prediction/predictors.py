"""The models `dcp predict` applies, each taking serialized
tf.train.Examples as the ETL writes them and giving a classifier's class
scores, or a task's serving outputs."""

import dataclasses
import os
import posixpath
from collections.abc import Callable
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
# A classifier's serving output: its class scores.
CLASS_SCORES = "probabilities"
# A classifier's [n, classes] scores, or every serving output by name,
# each [n, ...].
Outputs = np.ndarray | dict[str, np.ndarray]
# A task's decoding of the int8 TFLite model's outputs [n, ...] into its
# serving outputs.
TFLiteDecoder = Callable[[np.ndarray], dict[str, np.ndarray]]


class Model(Protocol):
    def predict(self, examples: list[bytes]) -> Outputs:
        """The outputs of n serialized tf.train.Examples."""
        ...


class SavedModel:
    """The Trainer's serving SavedModel: its signature parses the
    examples and runs the Transform graph and the model. It gives the
    class scores (`output`), or with `output` None all its outputs."""

    def __init__(self, path: str, output: str | None = CLASS_SCORES):
        self._loaded = tf.saved_model.load(path)
        self._serve = _signature(self._loaded, path, SERVING_SIGNATURE)
        self._output = output

    def predict(self, examples: list[bytes]) -> Outputs:
        found = self._serve(examples=tf.constant(examples))
        if self._output is not None:
            return found[self._output].numpy()
        return {name: value.numpy() for name, value in found.items()}


class TFLiteInt8:
    """The int8 TFLite model, fed the transformed image made by the
    Trainer's SavedModel's Transform signature, as a device would be fed
    after the same preprocessing. It gives the model's outputs (a
    classifier's scores), or what `decode` makes of them."""

    def __init__(
        self,
        tflite_path: str,
        saved_model_path: str,
        decode: TFLiteDecoder | None = None,
    ):
        with fileio.open(tflite_path, "rb") as file:
            self._tflite = file.read()
        self._loaded = tf.saved_model.load(saved_model_path)
        self._transform = _signature(
            self._loaded, saved_model_path, TRANSFORM_SIGNATURE
        )
        self._decode = decode

    def predict(self, examples: list[bytes]) -> Outputs:
        images = self._transform(examples=tf.constant(examples))[
            features.TRANSFORMED_IMAGE
        ]
        outputs = predict_tflite(self._tflite, images.numpy())
        return outputs if self._decode is None else self._decode(outputs)


@dataclasses.dataclass(frozen=True)
class ModelFiles:
    kind: ModelKind
    saved_model: str  # the SavedModel, or the one whose Transform it uses
    tflite: str | None = None

    def load(self, decode_tflite: TFLiteDecoder | None = None) -> Model:
        """A classifier, giving class scores; or, with `decode_tflite`,
        a task's model, giving its serving outputs, the int8 model's
        decoded by `decode_tflite`."""
        if self.tflite is not None:
            return TFLiteInt8(self.tflite, self.saved_model, decode_tflite)
        if decode_tflite is None:
            return SavedModel(self.saved_model)
        return SavedModel(self.saved_model, output=None)

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
