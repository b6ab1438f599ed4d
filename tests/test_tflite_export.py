"""The TFLite export on a small CNN trained on real digit images and saved
as the Trainer saves it: a SavedModel with a Transform layer attached."""

import dataclasses
import json
from pathlib import Path
from typing import Any

import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from apache_beam.options.pipeline_options import PipelineOptions
from sklearn.datasets import load_digits
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils
from tfx import v1 as tfx
from tfx.types import artifact_utils
from tfx.utils import import_utils, path_utils

from components.tflite_export import keys
from components.tflite_export.component import TFLiteExport
from core.code_version import CODE_VERSION_KEY
from core.dataset.embedded.digits import png_bytes, render_digit
from core.tflite import (
    input_image_shape,
    predict_tflite,
)
from models.features import (
    IMAGE,
    LABEL,
    TRANSFORMED_IMAGE,
    TRANSFORMED_LABEL,
)
from tasks.classification.tflite_accuracy import ExportMetrics
from tasks.classification.transformed_examples import read_split
from tests.conftest import IN_PROCESS_BEAM

SIZE = 32
TRAIN_IMAGES = 1400  # of the 1,797 digits; the rest are the eval split
REPRESENTATIVE_EXAMPLES = 200
RAW_FEATURES = {
    IMAGE: tf.io.FixedLenFeature([], tf.string),
    LABEL: tf.io.FixedLenFeature([], tf.int64),
}


@dataclasses.dataclass(frozen=True)
class Export:
    root: Path  # holds the input artifacts, see input_dict
    keras_model: tf.keras.Model
    eval_images: np.ndarray
    eval_labels: np.ndarray
    output_dir: Path  # the serving directory of the output Model


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Export:
    root = tmp_path_factory.mktemp("tflite_export")
    digits = load_digits()
    images = np.stack(
        [
            np.repeat(render_digit(scan, SIZE)[..., None], 3, -1)
            for scan in digits.images
        ]
    ) / np.float32(255)
    order = np.random.default_rng(0).permutation(len(images))
    train, held_out = order[:TRAIN_IMAGES], order[TRAIN_IMAGES:]
    keras_model = train_cnn(images[train], digits.target[train])
    save_like_trainer(keras_model, images[:8], digits.target[:8], root)
    write_transformed_examples(
        root / "examples",
        images,
        digits.target,
        {"train": train, "eval": held_out},
    )
    output = tfx.types.standard_artifacts.Model()
    output.uri = str(root / "tflite")
    run_executor(root, output, exec_properties())
    return Export(
        root,
        keras_model,
        images[held_out],
        digits.target[held_out],
        Path(path_utils.serving_model_dir(output.uri)),
    )


def train_cnn(images: np.ndarray, labels: np.ndarray) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((SIZE, SIZE, 3), name=TRANSFORMED_IMAGE)
    x = tf.keras.layers.Conv2D(16, 3, activation="relu")(inputs)
    x = tf.keras.layers.MaxPooling2D()(x)
    x = tf.keras.layers.Conv2D(32, 3, activation="relu")(x)
    x = tf.keras.layers.MaxPooling2D()(x)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(64, activation="relu")(x)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(10)(x))
    optimizer = tf.keras.optimizers.Adam()
    loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    # Not model.fit: AutoGraph's conversion of fit and the optimizer takes
    # about 20 s here, several times the training itself.
    @tf.function(autograph=False)
    def step(images: tf.Tensor, labels: tf.Tensor) -> None:
        with tf.GradientTape() as tape:
            batch_loss = loss(labels, model(images, training=True))
        variables = model.trainable_variables
        optimizer.apply_gradients(
            zip(tape.gradient(batch_loss, variables), variables, strict=True)
        )

    batches = (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .shuffle(len(labels), seed=0)
        .batch(32)
    )
    for _ in range(5):
        for image_batch, label_batch in batches:
            step(image_batch, label_batch)
    return model


def save_like_trainer(
    model: tf.keras.Model, images: np.ndarray, labels: np.ndarray, root: Path
) -> None:
    """Attach a real Transform layer (PNG bytes → image_xf) and save with
    the serving and transform_features signatures, as the Trainer does."""
    model.tft_layer = transform_output(
        images, labels, root
    ).transform_features_layer()

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        raw = tf.io.parse_example(serialized, {IMAGE: RAW_FEATURES[IMAGE]})
        return {"outputs": model(model.tft_layer(raw)[TRANSFORMED_IMAGE])}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def transform_features(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        return model.tft_layer(tf.io.parse_example(serialized, RAW_FEATURES))

    model.save(
        path_utils.serving_model_dir(str(root / "model")),
        save_format="tf",
        signatures={
            "serving_default": serve,
            "transform_features": transform_features,
        },
    )


def transform_output(
    images: np.ndarray, labels: np.ndarray, root: Path
) -> tft.TFTransformOutput:
    def preprocessing_fn(inputs: dict[str, tf.Tensor]) -> dict[str, Any]:
        pixels = tf.map_fn(
            lambda png: tf.io.decode_png(png, channels=3),
            inputs[IMAGE],
            fn_output_signature=tf.TensorSpec([SIZE, SIZE, 3], tf.uint8),
        )
        return {
            TRANSFORMED_IMAGE: tf.cast(pixels, tf.float32) / 255.0,
            TRANSFORMED_LABEL: inputs[LABEL],
        }

    raw = [
        {
            IMAGE: png_bytes(np.round(image * 255).astype(np.uint8)),
            LABEL: label,
        }
        for image, label in zip(images, labels, strict=True)
    ]
    metadata = dataset_metadata.DatasetMetadata(
        schema_utils.schema_from_feature_spec(RAW_FEATURES)
    )
    options = PipelineOptions(list(IN_PROCESS_BEAM))
    with (
        beam.Pipeline(options=options) as pipeline,
        tft_beam.Context(temp_dir=str(root / "tft_tmp")),
    ):
        transform_fn = (
            pipeline | beam.Create(raw),
            metadata,
        ) | tft_beam.AnalyzeDataset(preprocessing_fn)
        _ = transform_fn | tft_beam.WriteTransformFn(str(root / "transform"))
    return tft.TFTransformOutput(str(root / "transform"))


def write_transformed_examples(
    examples_dir: Path,
    images: np.ndarray,
    labels: np.ndarray,
    splits: dict[str, np.ndarray],
) -> None:
    """Gzip'd TFRecords as the Transform writes them; two shards a split."""
    for split, indices in splits.items():
        split_dir = examples_dir / f"Split-{split}"
        split_dir.mkdir(parents=True)
        for shard, part in enumerate(np.array_split(indices, 2)):
            name = f"transformed_examples-{shard:05d}-of-00002.gz"
            with tf.io.TFRecordWriter(
                str(split_dir / name), options="GZIP"
            ) as writer:
                for i in part:
                    writer.write(example(images[i], labels[i]))


def example(image: np.ndarray, label: int) -> bytes:
    feature = {
        TRANSFORMED_IMAGE: tf.train.Feature(
            float_list=tf.train.FloatList(value=image.ravel())
        ),
        TRANSFORMED_LABEL: tf.train.Feature(
            int64_list=tf.train.Int64List(value=[label])
        ),
    }
    return tf.train.Example(
        features=tf.train.Features(feature=feature)
    ).SerializeToString()


def run_executor(
    root: Path, output: tfx.dsl.Artifact, exec_properties: dict[str, Any]
) -> None:
    """Run the component's executor, as an orchestrator does, on the
    model and examples under `root`."""
    model = tfx.types.standard_artifacts.Model()
    model.uri = str(root / "model")
    examples = tfx.types.standard_artifacts.Examples()
    examples.uri = str(root / "examples")
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    TFLiteExport.EXECUTOR_SPEC.executor_class().Do(
        {"model": [model], "examples": [examples]},
        {"tflite_model": [output]},
        exec_properties,
    )


def exec_properties(**overrides: Any) -> dict[str, Any]:
    return {
        "representative_examples": REPRESENTATIVE_EXAMPLES,
        "train_split": "train",
        "eval_split": "eval",
        **overrides,
    }


def read_model(export: Export, name: str) -> bytes:
    return (export.output_dir / name).read_bytes()


def test_int8_is_full_integer_and_about_4x_smaller(export):
    float32_model = read_model(export, keys.FLOAT32_FILE)
    int8_model = read_model(export, keys.INT8_FILE)
    interpreter = tf.lite.Interpreter(model_content=int8_model)
    interpreter.allocate_tensors()
    io_tensors = (
        interpreter.get_input_details() + interpreter.get_output_details()
    )
    assert [t["dtype"] for t in io_tensors] == [np.int8, np.int8]
    dtypes = {t["dtype"] for t in interpreter.get_tensor_details()}
    assert np.float32 not in dtypes
    assert 3.5 < len(float32_model) / len(int8_model) < 4.5


def test_tflite_models_predict_like_keras(export):
    keras_scores = export.keras_model.predict(export.eval_images, verbose=0)
    float32_scores = predict_tflite(
        read_model(export, keys.FLOAT32_FILE), export.eval_images
    )
    int8_scores = predict_tflite(
        read_model(export, keys.INT8_FILE), export.eval_images
    )
    np.testing.assert_allclose(float32_scores, keras_scores, atol=1e-4)
    # Dequantised int8 logits stay close to the float ones (0.04 here;
    # 3.9 if the input is cast to int8 instead of quantised).
    assert np.mean(np.abs(int8_scores - keras_scores)) < 0.25
    agreement = np.mean(
        np.argmax(int8_scores, -1) == np.argmax(keras_scores, -1)
    )
    assert agreement >= 0.95


def test_metrics_equal_a_recomputation(export):
    metrics = json.loads((export.output_dir / keys.METRICS_FILE).read_text())
    float32_model = read_model(export, keys.FLOAT32_FILE)
    int8_model = read_model(export, keys.INT8_FILE)
    images, labels = export.eval_images, export.eval_labels
    keras_classes = np.argmax(
        export.keras_model.predict(images, verbose=0), -1
    )
    int8_classes = np.argmax(predict_tflite(int8_model, images), -1)
    float32_classes = np.argmax(predict_tflite(float32_model, images), -1)
    assert ExportMetrics(**metrics) == ExportMetrics(
        float32_bytes=len(float32_model),
        int8_bytes=len(int8_model),
        eval_examples=len(labels),
        keras_accuracy=np.mean(keras_classes == labels),
        float32_accuracy=np.mean(float32_classes == labels),
        int8_accuracy=np.mean(int8_classes == labels),
        int8_keras_agreement=np.mean(int8_classes == keras_classes),
    )
    # A model that learned nothing would agree with int8 trivially.
    assert metrics["keras_accuracy"] > 0.9


def test_an_unknown_split_names_the_splits_there_are(export, tmp_path):
    output = tfx.types.standard_artifacts.Model()
    output.uri = str(tmp_path)
    with pytest.raises(
        ValueError,
        match=r"no split 'val'; they have \['train', 'eval'\]\. Set the"
        r" component's eval_split",
    ):
        run_executor(export.root, output, exec_properties(eval_split="val"))


def test_read_split_reads_the_shards_in_order(export):
    split_dir = str(export.root / "examples" / "Split-eval")
    images, labels = read_split(split_dir, (SIZE, SIZE, 3))
    np.testing.assert_array_equal(images, export.eval_images)
    np.testing.assert_array_equal(labels, export.eval_labels)
    first, _ = read_split(split_dir, (SIZE, SIZE, 3), limit=5)
    np.testing.assert_array_equal(first, export.eval_images[:5])


def test_read_split_rejects_images_of_another_shape(export):
    split_dir = str(export.root / "examples" / "Split-eval")
    with pytest.raises(ValueError, match="image_xf as 2352 floats"):
        read_split(split_dir, (28, 28, 3))


def test_a_model_without_a_fixed_image_shape_is_refused():
    inputs = tf.keras.Input((None, None, 3))
    pooled = tf.keras.layers.GlobalAveragePooling2D()(inputs)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(10)(pooled))
    with pytest.raises(ValueError, match="fixed image shape"):
        input_image_shape(model)


def test_compiles_for_kubeflow_v2(tmp_path):
    model = tfx.dsl.Importer(
        source_uri="gs://bucket/model",
        artifact_type=tfx.types.standard_artifacts.Model,
    ).with_id("model_importer")
    examples = tfx.dsl.Importer(
        source_uri="gs://bucket/examples",
        artifact_type=tfx.types.standard_artifacts.Examples,
    ).with_id("examples_importer")
    tflite_export = TFLiteExport(
        model=model.outputs["result"],
        examples=examples.outputs["result"],
        representative_examples=100,
        eval_split="val",
        code_version="0123abcd",
    )
    tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image="dcp:test"
        ),
        output_dir=str(tmp_path),
        output_filename="pipeline.json",
    ).run(
        tfx.dsl.Pipeline(
            pipeline_name="tflite-export",
            pipeline_root="gs://bucket/root",
            components=[model, examples, tflite_export],
        )
    )
    spec = json.loads((tmp_path / "pipeline.json").read_text())["pipelineSpec"]
    container = spec["deploymentSpec"]["executors"]["TFLiteExport_executor"][
        "container"
    ]
    executor_path = "components.tflite_export.component.TFLiteExport_Executor"
    assert container["args"][:2] == ["--executor_class_path", executor_path]
    # The step imports the executor by that path.
    assert (
        import_utils.import_class_by_path(executor_path)
        is TFLiteExport.EXECUTOR_SPEC.executor_class
    )
    parameters = spec["root"]["dag"]["tasks"]["TFLiteExport"]["inputs"][
        "parameters"
    ]
    assert {
        name: value["runtimeValue"]["constantValue"]
        for name, value in parameters.items()
    } == {  # train_split is left to the function's default
        "representative_examples": {"intValue": "100"},
        "eval_split": {"stringValue": "val"},
        CODE_VERSION_KEY: {"stringValue": "0123abcd"},
    }
