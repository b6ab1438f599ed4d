"""The Trainer's `run_fn`: train the fixed model on the Transform's output
and export a serving model that reads raw tf.Examples.

custom_config keys (from params.yaml, set in create_pipeline):
  model: the registry name, e.g. "dcai_resnet50".
  num_classes: how many classes the labels index.
  epochs: None for the model's own number; a smaller one only for
    smoke tests.
  augment: online augmentation of training batches (bool).
"""

import logging
import posixpath
from typing import Any

import tensorflow as tf
import tensorflow_transform as tft
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from models import features
from models.augmentation import augmentation
from models.registry import ModelSpec, compile_model, get_model_spec

SERVING_SIGNATURE = "serving_default"
TRANSFORM_SIGNATURE = "transform_features"
_CHECKPOINT = "best_checkpoint"


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    config: dict[str, Any] = fn_args.custom_config or {}
    spec = get_model_spec(config["model"])
    tf.keras.utils.set_random_seed(spec.seed)
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    train = make_dataset(
        fn_args.train_files,
        fn_args.data_accessor,
        tft_output,
        spec,
        training=True,
        augment=bool(config.get("augment")),
    )
    evaluation = make_dataset(
        fn_args.eval_files,
        fn_args.data_accessor,
        tft_output,
        spec,
        training=False,
    )
    model = spec.build(int(config["num_classes"]))
    compile_model(model, spec)
    train_best(
        model,
        train,
        evaluation,
        epochs=config.get("epochs") or spec.epochs,
        checkpoint_dir=fn_args.model_run_dir,
    )
    export_serving_model(model, tft_output, fn_args.serving_model_dir)


def make_dataset(
    file_pattern: list[str],
    data_accessor: tfx.components.DataAccessor,
    tft_output: tft.TFTransformOutput,
    spec: ModelSpec,
    *,
    training: bool,
    augment: bool = False,
) -> tf.data.Dataset:
    """(image, label) batches of the transformed examples, one epoch."""
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(
            batch_size=spec.batch_size,
            num_epochs=1,
            shuffle=training,
            shuffle_seed=spec.seed,
            label_key=features.TRANSFORMED_LABEL,
        ),
        tft_output.transformed_metadata.schema,
    )
    dataset = dataset.map(
        lambda inputs, label: (inputs[features.TRANSFORMED_IMAGE], label)
    )
    if augment:
        layers = augmentation(spec.image_size, spec.seed)
        dataset = dataset.map(
            lambda image, label: (layers(image, training=True), label)
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def train_best(
    model: tf.keras.Model,
    train: tf.data.Dataset,
    evaluation: tf.data.Dataset,
    *,
    epochs: int,
    checkpoint_dir: str,
) -> tf.keras.callbacks.History:
    """Fit, then restore the weights of the epoch with the best eval
    accuracy, as the competition's training did."""
    checkpoint = posixpath.join(checkpoint_dir, _CHECKPOINT)
    history = model.fit(
        train,
        validation_data=evaluation,
        epochs=epochs,
        verbose=2,
        callbacks=[
            tf.keras.callbacks.ModelCheckpoint(
                checkpoint,
                monitor="val_accuracy",
                save_best_only=True,
                save_weights_only=True,
            )
        ],
    )
    model.load_weights(checkpoint)
    best = max(history.history["val_accuracy"])
    logging.info("Trainer: best eval accuracy %.4f of %d epochs", best, epochs)
    return history


def export_serving_model(
    model: tf.keras.Model, tft_output: tft.TFTransformOutput, path: str
) -> None:
    """Save a SavedModel whose `serving_default` takes serialized raw
    tf.Examples, and whose `transform_features` lets TFMA slice on the
    Transform's features. Loaded with tf.keras, it is the bare model
    over transformed images, which the TFLite export converts."""
    model.tft_layer = tft_output.transform_features_layer()
    raw_spec = tft_output.raw_feature_spec()
    serving_spec = {
        name: spec for name, spec in raw_spec.items() if name != features.LABEL
    }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(examples: tf.Tensor) -> dict[str, tf.Tensor]:
        raw = tf.io.parse_example(examples, serving_spec)
        transformed = model.tft_layer(raw)
        return {
            "probabilities": model(transformed[features.TRANSFORMED_IMAGE])
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def transform(examples: tf.Tensor) -> dict[str, tf.Tensor]:
        return model.tft_layer(tf.io.parse_example(examples, raw_spec))

    model.save(
        path,
        save_format="tf",
        signatures={SERVING_SIGNATURE: serve, TRANSFORM_SIGNATURE: transform},
    )
    logging.info("Trainer: serving model saved to %s", path)
