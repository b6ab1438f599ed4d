"""`dcp predict` with a detector: a CSV row per box, with its class,
confidence and corners in the image's pixels, and the boxes drawn.

The detector is exported by the Trainer's own export_serving_model, over
a real Transform graph (detection's preprocessing_fn run by tf.Transform
on a few images), so its signatures are the pipeline's. Its network is
not trained but a few fixed layers that find squares of one size in
pure red, green or blue and answer in CenterNet's head maps, so where
its boxes are is known: the squares, pasted on a photograph."""

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import apache_beam as beam
import imageio.v2 as imageio
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from apache_beam.options.pipeline_options import PipelineOptions
from ml_metadata.metadata_store import metadata_store
from PIL import Image
from tensorflow_transform.tf_metadata import (
    dataset_metadata,
    metadata_io,
    schema_utils,
)
from tfx import v1 as tfx

from core.task import Predicting, get_pipeline_task, get_predicting_task
from core.tflite import convert
from dcp.cli import main
from models import centernet, features
from prediction.inputs import FFMPEG, example_of
from prediction.predict_job import predict_files
from prediction.predictors import ModelFiles, pushed_model
from tasks.detection.drawing import class_colour, draw_boxes
from tasks.detection.preprocessing import BOX_FEATURES, preprocessing_fn
from tasks.detection.trainer import export_serving_model
from tests.conftest import IN_PROCESS_BEAM, save
from tests.test_config import edited_params

CLASSES = ["red", "blue", "green"]
COLOURS = [(255, 0, 0), (0, 0, 255), (0, 255, 0)]
HEIGHT, WIDTH = centernet.INPUT_HEIGHT, centernet.INPUT_WIDTH
# A square's side in the detector's input, and each class's square's
# top-left corner in a scene of that size. A corner 2 past a multiple of
# the stride puts the square's centre on a cell's centre, where the
# detector's fixed offset (half a cell) places it.
SIDE = 24
CORNERS = {0: (42, 30), 1: (150, 110), 2: (246, 186)}
VIDEO_FRAMES = 6
VIDEO_STEP = 8  # pixels the squares move right per frame
FPS = 5
ARTIFACTS = Path(__file__).parent / "artifacts"
DETECTION = get_pipeline_task("detection")
COLUMNS = [
    "path",
    "frame",
    "class",
    "confidence",
    "xmin",
    "ymin",
    "xmax",
    "ymax",
    "unreadable",
]


def square_finder() -> tf.keras.Model:
    """Head maps of squares of SIDE pixels in each class's colour: a
    class's heatmap is the share of a SIDE x SIDE window in its colour,
    1 where the window is the square, pooled to the output's stride; the
    sizes are SIDE and the offsets half a cell, everywhere."""
    image = tf.keras.Input((HEIGHT, WIDTH, 3), name=features.TRANSFORMED_IMAGE)
    # 1 on a pure colour; nothing on the photograph, whose most saturated
    # red is 0.45 above green and blue together.
    in_colour = tf.keras.layers.Conv2D(3, 1, activation="relu")
    heat = tf.keras.layers.MaxPooling2D(centernet.STRIDE)(
        tf.keras.layers.AveragePooling2D(SIDE, strides=1, padding="same")(
            in_colour(image)
        )
    )
    regression = tf.keras.layers.Conv2D(centernet.REGRESSION_CHANNELS, 1)
    model = tf.keras.Model(
        image, tf.keras.layers.Concatenate()([heat, regression(heat)])
    )
    # Class c's: 2 x its colour's channel - 2 x the others' - 1.
    in_colour.set_weights(
        [
            (4 * np.array(COLOURS).T / 255 - 2).reshape(1, 1, 3, 3),
            np.full(3, -1.0),
        ]
    )
    # The decoder's side is SIZE_RANGE ** (value - 1) of the image's.
    sides = [
        1 + np.log(SIDE / length) / np.log(centernet.SIZE_RANGE)
        for length in (HEIGHT, WIDTH)
    ]
    regression.set_weights(
        [np.zeros((1, 1, 3, 4)), np.array([*sides, 0.5, 0.5])]
    )
    return model


def scene(
    background: np.ndarray, corners: dict[int, tuple[int, int]], scale: int
) -> np.ndarray:
    """The background at `scale` times the detector's input size, with
    each class's square at its corner (in input pixels), scaled."""
    picture = np.array(
        Image.fromarray(background).resize((WIDTH * scale, HEIGHT * scale))
    )
    for class_id, (x, y) in corners.items():
        picture[
            y * scale : (y + SIDE) * scale, x * scale : (x + SIDE) * scale
        ] = COLOURS[class_id]
    return picture


def expected_boxes(
    corners: dict[int, tuple[int, int]], scale: int
) -> dict[str, list[int]]:
    """Class → its square's (xmin, ymin, xmax, ymax) in pixels."""
    return {
        CLASSES[class_id]: [
            x * scale,
            y * scale,
            (x + SIDE) * scale,
            (y + SIDE) * scale,
        ]
        for class_id, (x, y) in corners.items()
    }


def moved(frame: int) -> dict[int, tuple[int, int]]:
    return {c: (x + VIDEO_STEP * frame, y) for c, (x, y) in CORNERS.items()}


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def raw_feature_spec(example: tf.train.Example) -> dict[str, Any]:
    """The spec SchemaGen infers of detection examples: the boxes and
    their class names variable-length, every other feature one value."""
    dtypes = {
        "bytes_list": tf.string,
        "float_list": tf.float32,
        "int64_list": tf.int64,
    }
    spec: dict[str, Any] = {}
    for name, feature in example.features.feature.items():
        dtype = dtypes[feature.WhichOneof("kind")]
        many = name in (*BOX_FEATURES, features.OBJECT_TEXT)
        spec[name] = (
            tf.io.VarLenFeature(dtype)
            if many
            else tf.io.FixedLenFeature([], dtype)
        )
    return spec


def instance(example: tf.train.Example, spec: dict[str, Any]) -> dict:
    """`example` as tf.Transform's instance dicts hold it."""
    row = {}
    for name, feature in example.features.feature.items():
        values = list(getattr(feature, feature.WhichOneof("kind")).value)
        many = isinstance(spec[name], tf.io.VarLenFeature)
        row[name] = values if many else values[0]
    return row


def transform_graph(images: list[bytes], root: Path) -> tft.TFTransformOutput:
    """detection's preprocessing_fn analysed by tf.Transform on the ETL's
    examples of `images`, as the Transform component writes its graph."""
    examples = [
        tf.train.Example.FromString(
            example_of(image, f"scene{i}.png", DETECTION)
        )
        for i, image in enumerate(images)
    ]
    spec = raw_feature_spec(examples[0])
    metadata = dataset_metadata.DatasetMetadata(
        schema_utils.schema_from_feature_spec(spec)
    )
    with (
        beam.Pipeline(options=PipelineOptions(list(IN_PROCESS_BEAM))) as run,
        tft_beam.Context(temp_dir=str(root / "tft_tmp")),
    ):
        rows = run | beam.Create([instance(e, spec) for e in examples])
        transform_fn = (rows, metadata) | tft_beam.AnalyzeDataset(
            lambda inputs: preprocessing_fn(inputs, {})
        )
        _ = transform_fn | tft_beam.WriteTransformFn(str(root / "graph"))
    # The raw examples' schema, which the Trainer's serving spec reads.
    metadata_io.write_metadata(metadata, str(root / "graph" / "metadata"))
    return tft.TFTransformOutput(str(root / "graph"))


@pytest.fixture(scope="module")
def detector(tmp_path_factory, photo) -> dict[str, Path]:
    """The exported SavedModel, pushed into serving/, and its int8 TFLite
    model."""
    root = tmp_path_factory.mktemp("detector")
    scenes = [png(scene(photo, moved(frame), 1)) for frame in range(4)]
    model = square_finder()
    saved_model = root / "serving" / "1700000000"
    export_serving_model(
        model, transform_graph(scenes, root), str(saved_model)
    )
    # Calibrated on the scenes as the Transform graph makes them.
    loaded = tf.saved_model.load(str(saved_model))
    images = loaded.signatures["transform_features"](
        examples=tf.constant(
            [example_of(image, "", DETECTION) for image in scenes]
        )
    )[features.TRANSFORMED_IMAGE].numpy()
    _, int8_model = convert(model, images)
    (root / "int8.tflite").write_bytes(int8_model)
    return {
        "serving": root / "serving",
        "saved_model": saved_model,
        "tflite": root / "int8.tflite",
    }


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, photo) -> Path:
    """A PNG scene at the detector's input size, a JPEG one at twice it,
    the photograph without squares, a video of the squares moving with a
    last frame without them, a truncated PNG and a text file."""
    folder = tmp_path_factory.mktemp("inputs") / "inputs"
    (folder / "png").mkdir(parents=True)
    (folder / "jpeg").mkdir()
    (folder / "png" / "scene.png").write_bytes(png(scene(photo, CORNERS, 1)))
    save(
        folder / "jpeg" / "scene.jpg",
        Image.fromarray(scene(photo, CORNERS, 2)),
        quality=95,
    )
    (folder / "photo.png").write_bytes(png(scene(photo, {}, 1)))
    frames = [scene(photo, moved(i), 1) for i in range(VIDEO_FRAMES)]
    frames[-1] = scene(photo, {}, 1)
    imageio.mimwrite(folder / "clip.mp4", frames, format=FFMPEG, fps=FPS)
    (folder / "broken.png").write_bytes(png(frames[0])[:60])
    (folder / "notes.txt").write_text("taken on Monday\n")
    return folder


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def boxes_of(rows: list[dict[str, str]]) -> dict[str, list[int]]:
    """Class → its row's corners, of rows one per class."""
    found = {row["class"]: row for row in rows}
    assert len(found) == len(rows), rows
    return {
        name: [int(row[k]) for k in ("xmin", "ymin", "xmax", "ymax")]
        for name, row in found.items()
    }


def assert_boxes_near(
    found: dict[str, list[int]], expected: dict[str, list[int]], pixels: int
) -> None:
    assert sorted(found) == sorted(expected)
    for name, box in expected.items():
        np.testing.assert_allclose(found[name], box, atol=pixels, err_msg=name)


def by_place(
    rows: list[dict[str, str]], root: Path
) -> dict[tuple[str, str], list[dict[str, str]]]:
    """(path below `root`, frame) → its rows, in the CSV's order."""
    grouped: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        key = (Path(row["path"]).relative_to(root).as_posix(), row["frame"])
        grouped.setdefault(key, []).append(row)
    return grouped


@pytest.fixture(scope="module")
def saved_model_run(detector, inputs, tmp_path_factory) -> dict[str, Any]:
    """The SavedModel on the inputs folder, with annotated copies."""
    out = tmp_path_factory.mktemp("predict") / "out"
    model = ModelFiles("savedmodel", str(detector["saved_model"])).load(
        DETECTION.decode_tflite
    )
    summary = predict_files(
        [inputs], model, CLASSES, out, task=DETECTION, annotate_copies=True
    )
    rows = read_csv(out / "predictions.csv")
    return {"out": out, "summary": summary, "rows": rows}


def test_detection_predicts_and_classification_is_a_full_task():
    assert isinstance(DETECTION, Predicting)
    assert get_predicting_task("detection") is DETECTION
    classification = get_predicting_task("classification")
    assert not isinstance(classification, Predicting)
    assert classification.name == "classification"


def test_a_row_per_box_with_its_class_and_pixel_corners(
    saved_model_run, inputs
):
    rows = saved_model_run["rows"]
    assert list(rows[0]) == COLUMNS
    places = by_place(rows, inputs)
    assert list(places) == [
        ("broken.png", ""),
        *[("clip.mp4", str(i)) for i in range(VIDEO_FRAMES)],
        ("jpeg/scene.jpg", ""),
        ("notes.txt", ""),
        ("photo.png", ""),
        ("png/scene.png", ""),
    ]
    assert_boxes_near(
        boxes_of(places[("png/scene.png", "")]),
        expected_boxes(CORNERS, 1),
        pixels=1,
    )
    # Twice the size: the boxes are in the JPEG's own pixels.
    assert_boxes_near(
        boxes_of(places[("jpeg/scene.jpg", "")]),
        expected_boxes(CORNERS, 2),
        pixels=2,
    )
    # The PNG's squares are exact; JPEG and H.264 blur their colours.
    assert {r["confidence"] for r in places[("png/scene.png", "")]} == {
        "1.0000"
    }
    scored = [row for row in rows if row["class"]]
    assert all(0.8 < float(row["confidence"]) <= 1 for row in scored)
    assert all(not row["unreadable"] for row in scored)


def test_every_frame_has_a_row_per_box_and_an_empty_one_without(
    saved_model_run, inputs
):
    places = by_place(saved_model_run["rows"], inputs)
    for frame in range(VIDEO_FRAMES - 1):
        assert_boxes_near(
            boxes_of(places[("clip.mp4", str(frame))]),
            expected_boxes(moved(frame), 1),
            pixels=1,
        )
    # No squares: the frame and the photograph keep a row each, empty.
    for place in (("clip.mp4", str(VIDEO_FRAMES - 1)), ("photo.png", "")):
        (row,) = places[place]
        assert row["class"] == row["confidence"] == row["xmin"] == ""
        assert row["unreadable"] == ""
    summary = saved_model_run["summary"]
    assert (summary.images, summary.frames, summary.unreadable) == (
        3,
        VIDEO_FRAMES,
        2,
    )


def test_an_unreadable_input_has_its_row_with_the_reason(
    saved_model_run, inputs
):
    places = by_place(saved_model_run["rows"], inputs)
    (broken,) = places[("broken.png", "")]
    (notes,) = places[("notes.txt", "")]
    assert broken["class"] == broken["xmin"] == ""
    assert "fix:" in broken["unreadable"]
    assert "not an image or video" in notes["unreadable"]


def edge_colour(picture: np.ndarray, box: list[int], scale: int) -> Any:
    """The copy's pixel on the middle of the box's left edge."""
    xmin, ymin, _, ymax = (corner * scale for corner in box)
    return tuple(picture[(ymin + ymax) // 2, xmin])


def enlarged(pixels: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)


def test_annotated_copies_draw_each_box_in_its_class_colour(
    saved_model_run, photo
):
    annotated = saved_model_run["out"] / "annotated"
    copies = sorted(
        p.relative_to(annotated).as_posix()
        for p in annotated.rglob("*")
        if p.is_file()
    )
    assert copies == [
        "clip.mp4.mp4",
        "jpeg/scene.jpg",
        "photo.png",
        "png/scene.png",
    ]
    drawn = np.asarray(Image.open(annotated / "png" / "scene.png"))
    # 320x240 enlarged twice, without smoothing, for the labels.
    assert drawn.shape == (2 * HEIGHT, 2 * WIDTH, 3)
    plain = enlarged(scene(photo, CORNERS, 1), 2)
    for name, box in expected_boxes(CORNERS, 1).items():
        colour = class_colour(CLASSES.index(name))
        assert edge_colour(plain, box, 2) != colour
        assert edge_colour(drawn, box, 2) == colour
        # The square inside its box is left as it was.
        xmin, ymin, xmax, ymax = (2 * corner for corner in box)
        inside = (slice(ymin + 8, ymax - 8), slice(xmin + 8, xmax - 8))
        np.testing.assert_array_equal(drawn[inside], plain[inside])
    # Labels and boxes only: most of the image is untouched.
    assert np.mean(np.any(drawn != plain, axis=2)) < 0.05
    # No boxes, nothing drawn.
    np.testing.assert_array_equal(
        np.asarray(Image.open(annotated / "photo.png")),
        enlarged(scene(photo, {}, 1), 2),
    )


def test_the_annotated_video_has_every_frame_with_its_boxes(
    saved_model_run,
):
    video = imageio.mimread(
        saved_model_run["out"] / "annotated" / "clip.mp4.mp4", format=FFMPEG
    )
    assert len(video) == VIDEO_FRAMES
    for frame, pixels in enumerate(video[:-1]):
        assert pixels.shape == (2 * HEIGHT, 2 * WIDTH, 3)
        for name, box in expected_boxes(moved(frame), 1).items():
            colour = class_colour(CLASSES.index(name))
            # H.264 is lossy: near the class's colour.
            found = np.asarray(edge_colour(pixels, box, 2), int)
            assert np.abs(found - colour).max() < 40, (frame, name)


def test_save_an_annotated_scene(saved_model_run):
    """The annotated PNG, for a person to look at:
    tests/artifacts/predict_detection.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    copy = saved_model_run["out"] / "annotated" / "png" / "scene.png"
    shutil.copyfile(copy, ARTIFACTS / "predict_detection.png")


def test_int8_finds_the_same_boxes(detector, inputs, tmp_path):
    model = ModelFiles(
        "tflite-int8",
        str(detector["saved_model"]),
        str(detector["tflite"]),
    ).load(DETECTION.decode_tflite)

    predict_files(
        [inputs / "png", inputs / "jpeg"],
        model,
        CLASSES,
        tmp_path / "out",
        task=DETECTION,
    )

    places = by_place(read_csv(tmp_path / "out" / "predictions.csv"), inputs)
    assert_boxes_near(
        boxes_of(places[("png/scene.png", "")]),
        expected_boxes(CORNERS, 1),
        pixels=1,
    )
    assert_boxes_near(
        boxes_of(places[("jpeg/scene.jpg", "")]),
        expected_boxes(CORNERS, 2),
        pixels=2,
    )


def test_a_detector_of_other_classes_is_refused(detector, inputs, tmp_path):
    model = ModelFiles("savedmodel", str(detector["saved_model"])).load(
        DETECTION.decode_tflite
    )
    with pytest.raises(ValueError, match="finds class 2, but the run's"):
        predict_files(
            [inputs / "png"],
            model,
            CLASSES[:2],
            tmp_path / "out",
            task=DETECTION,
        )


def test_dcp_predict_applies_the_pushed_detector(
    detector, inputs, saved_model_run, tmp_path
):
    """`dcp predict` with task: detection, the pushed model and the class
    names of --data-root's classes.json."""
    metadata = tmp_path / "metadata.sqlite"
    metadata_store.MetadataStore(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(metadata)
        )
    )
    data_root = tmp_path / "tfrecords"
    data_root.mkdir()
    (data_root / "classes.json").write_text(json.dumps(CLASSES))

    def edit(params: dict[str, Any]) -> None:
        params["task"] = "detection"
        params["pipeline"].update(
            metadata=str(metadata), serving_dir=str(detector["serving"])
        )

    params = edited_params(tmp_path, edit)
    assert pushed_model(str(detector["serving"])).saved_model == str(
        detector["saved_model"]
    )
    out = tmp_path / "out"

    code = main(
        [
            "--params",
            str(params),
            "predict",
            str(inputs),
            "--data-root",
            str(data_root),
            "--output",
            str(out),
        ]
    )

    assert code == 0
    assert read_csv(out / "predictions.csv") == saved_model_run["rows"]


def test_a_label_stays_inside_a_small_image():
    """A box at the top-left corner of a small black image: the image is
    enlarged, and the label hangs inside the box, in the image."""
    box = {"xmin": 0, "ymin": 0, "xmax": 30, "ymax": 20}
    prediction = {"class": "red", "class_id": 0, "confidence": 0.87, **box}

    drawn = np.asarray(
        draw_boxes(png(np.zeros((48, 64, 3), np.uint8)), [prediction])
    )

    scale = 6  # the shorter side from 48 to 256 pixels or more
    assert drawn.shape == (48 * scale, 64 * scale, 3)
    rows, columns = np.nonzero(np.all(drawn == class_colour(0), axis=2))
    # The outline and the tab, inside the box.
    assert (rows.min(), columns.min()) == (0, 0)
    assert (rows.max(), columns.max()) == (20 * scale - 1, 30 * scale - 1)
    # The label, light on the red tab, along the box's top.
    light_rows, _ = np.nonzero(np.all(drawn > 160, axis=2))
    assert len(light_rows) > 30
    assert light_rows.max() < 20
