"""`dcp predict`: image files, folders and videos through a model into a
CSV and annotated copies. The unit tests run real pixels (digit scans, a
photograph, a generated video) through the ETL's own example building
into a stand-in model that reads each example's brightness; the e2e
tests use the real trained models of a small run."""

import csv
import io
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tfx import v1 as tfx

from core.dataset.embedded.digits import png_bytes
from core.dataset.etl.dataset_layout import SourceImage
from core.dataset.etl.image_records import load_image_record
from dcp.cli import main
from models import features
from pipeline.run_results import pipeline_runs
from prediction.inputs import (
    FFMPEG,
    example_of,
    find_sources,
    read_frames,
)
from prediction.predict_job import COLUMNS, predict_files
from prediction.predictors import pushed_model
from tasks.classification.drawing import annotate
from tasks.classification.task import TASK
from tests.conftest import save
from tests.new_data_run import SmallRun, served_run

CLASSES = ["dark", "light"]
FPS = 5


class BrightnessModel:
    """Scores "dark" or "light" from the brightness the ETL measured in
    each example: proof that the model saw that image's own pixels."""

    def __init__(self) -> None:
        self.examples = 0

    def predict(self, examples: list[bytes]) -> np.ndarray:
        self.examples += len(examples)
        parsed = tf.io.parse_example(
            tf.constant(examples),
            {features.BRIGHTNESS: tf.io.FixedLenFeature([], tf.float32)},
        )
        light = parsed[features.BRIGHTNESS].numpy() / 255.0
        return np.stack([1 - light, light], axis=1)


def write_video(path: Path, frames: list[np.ndarray]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.mimwrite(path, frames, format=FFMPEG, fps=FPS)
    return path


@pytest.fixture
def video_frames(digit_images) -> list[np.ndarray]:
    """Six 64x64 RGB frames: three dark digits, then three inverted."""
    frames = []
    for i, digit in enumerate(digit_images[:6]):
        gray = np.kron(digit, np.ones((2, 2), np.uint8))
        gray = gray if i < 3 else 255 - gray
        frames.append(np.repeat(gray[..., None], 3, axis=2))
    return frames


@pytest.fixture
def inputs(tmp_path, digit_images, photo, video_frames) -> Path:
    """A folder of two digits of the same name in different folders, a
    photograph, a broken PNG, a text file and a video."""
    folder = tmp_path / "inputs"
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    (folder / "a" / "digit.png").write_bytes(png_bytes(digit_images[0]))
    (folder / "b" / "digit.png").write_bytes(png_bytes(255 - digit_images[1]))
    save(folder / "photo.jpg", Image.fromarray(photo), quality=90)
    (folder / "broken.png").write_bytes(png_bytes(digit_images[2])[:40])
    (folder / "notes.txt").write_text("taken on Monday\n")
    write_video(folder / "clip.mp4", video_frames)
    return folder


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def test_a_frame_becomes_the_example_the_etl_makes_of_its_file(
    tmp_path, digit_images
):
    path = tmp_path / "3.png"
    path.write_bytes(png_bytes(digit_images[3]))
    record = load_image_record(str(tmp_path), SourceImage("", "", "3.png"), -1)

    example = tf.train.Example.FromString(
        example_of(path.read_bytes(), "3.png", TASK)
    )

    feature = example.features.feature
    assert feature[features.IMAGE].bytes_list.value[0] == record.png
    assert feature[features.SHA256].bytes_list.value[0] == (
        record.sha256.encode()
    )
    assert feature[features.BRIGHTNESS].float_list.value[0] == (
        pytest.approx(record.properties[features.BRIGHTNESS])
    )


def test_sources_keep_their_layout_below_the_common_folder(inputs):
    sources = find_sources(
        [
            inputs / "a" / "digit.png",
            inputs / "b",
            inputs / "a" / ".." / "a" / "digit.png",
        ]
    )

    assert [s.relative.as_posix() for s in sources] == [
        "a/digit.png",
        "b/digit.png",
    ]
    assert sources[0].path == inputs / "a" / "digit.png"
    # One file alone keeps just its name.
    (only,) = find_sources([inputs / "photo.jpg"])
    assert only.relative == Path("photo.jpg")


def test_a_missing_input_is_named(tmp_path):
    with pytest.raises(ValueError, match=f"{tmp_path}/nowhere.png: no such"):
        find_sources([tmp_path / "nowhere.png"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no files"):
        find_sources([tmp_path / "empty"])


def test_a_video_is_read_frame_by_frame(inputs, video_frames):
    (clip,) = find_sources([inputs / "clip.mp4"])

    frames = list(read_frames(clip, TASK))

    assert [frame.index for frame in frames] == list(range(6))
    assert all(frame.fps == FPS and frame.example for frame in frames)
    for frame, original in zip(frames, video_frames, strict=True):
        pixels = np.asarray(Image.open(io.BytesIO(frame.image)))
        assert pixels.shape == original.shape
        # H.264 is lossy; the frame is still that digit.
        assert np.abs(pixels.astype(int) - original).mean() < 8


def test_every_image_and_frame_gets_a_row_and_bad_inputs_a_reason(
    inputs, tmp_path
):
    model = BrightnessModel()

    summary = predict_files(
        [inputs],
        model,
        CLASSES,
        tmp_path / "out",
        annotate_copies=False,
        task=TASK,
    )

    rows = read_csv(tmp_path / "out" / "predictions.csv")
    assert (
        tuple(rows[0])
        == COLUMNS
        == (
            "path",
            "frame",
            "class",
            "confidence",
            "unreadable",
        )
    )
    by_path = {
        (Path(r["path"]).relative_to(inputs).as_posix(), r["frame"]): r
        for r in rows
    }
    assert list(by_path) == [
        ("a/digit.png", ""),
        ("b/digit.png", ""),
        ("broken.png", ""),
        *[("clip.mp4", str(i)) for i in range(6)],
        ("notes.txt", ""),
        ("photo.jpg", ""),
    ]
    classes = {key: row["class"] for key, row in by_path.items()}
    # Dark digits on black, an inverted digit, the inverted frames.
    assert classes[("a/digit.png", "")] == "dark"
    assert classes[("b/digit.png", "")] == "light"
    assert [classes[("clip.mp4", str(i))] for i in range(6)] == (
        ["dark"] * 3 + ["light"] * 3
    )
    broken = by_path[("broken.png", "")]
    assert broken["class"] == broken["confidence"] == ""
    assert "fix:" in broken["unreadable"]
    assert "not an image or video" in by_path[("notes.txt", "")]["unreadable"]
    readable = [r for r in rows if not r["unreadable"]]
    assert all(0.5 <= float(r["confidence"]) <= 1 for r in readable)
    assert (summary.inputs, summary.videos) == (6, 1)
    assert (summary.images, summary.frames, summary.unreadable) == (3, 6, 2)
    assert model.examples == 9
    assert summary.format().startswith(
        "Predicted 3 images and 6 frames of 1 videos, 6 inputs,"
    )
    assert "2 unreadable" in summary.format()


def test_a_broken_video_is_listed_as_unreadable(tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" * 10)

    predict_files(
        [tmp_path / "clip.mp4"],
        BrightnessModel(),
        CLASSES,
        tmp_path / "out",
        task=TASK,
    )

    (row,) = read_csv(tmp_path / "out" / "predictions.csv")
    assert row["class"] == ""
    assert "not a readable video" in row["unreadable"]


def test_the_pushed_model_is_the_latest_push(tmp_path):
    for version in ("1700000000", "1800000000", "999"):
        (tmp_path / "serving" / version).mkdir(parents=True)
    (tmp_path / "serving" / "notes").mkdir()

    files = pushed_model(str(tmp_path / "serving"))

    assert files.saved_model == f"{tmp_path}/serving/1800000000"
    with pytest.raises(ValueError, match="nowhere: no pushed model"):
        pushed_model(str(tmp_path / "nowhere"))


def test_a_model_of_other_classes_is_refused(inputs, tmp_path):
    with pytest.raises(ValueError, match="scores 2 classes, but the run's"):
        predict_files(
            [inputs / "a"],
            BrightnessModel(),
            ["0", "1", "2"],
            tmp_path / "out",
            task=TASK,
        )


def test_annotation_draws_the_label_on_an_enlarged_copy(digit_images):
    image = png_bytes(digit_images[0])

    drawn = np.asarray(annotate(image, "dark 0.97"))

    # 32x32 enlarged 8 times, without smoothing, to stay legible.
    plain = np.kron(digit_images[0], np.ones((8, 8), np.uint8))
    assert drawn.shape == (256, 256, 3)
    changed = np.any(drawn != plain[..., None], axis=2)
    rows = np.flatnonzero(changed.any(axis=1))
    # The banner along the top, the rest untouched.
    assert 10 < rows.max() < 64
    assert (drawn[:, :, 2] == 0).sum() > 0  # yellow text on black
    np.testing.assert_array_equal(drawn[64:, :, 0], plain[64:])


def test_annotated_copies_do_not_overwrite_each_other(
    inputs, tmp_path, video_frames
):
    out = tmp_path / "out"

    summary = predict_files(
        [
            inputs / "a" / "digit.png",
            inputs / "b" / "digit.png",
            inputs / "clip.mp4",
        ],
        BrightnessModel(),
        CLASSES,
        out,
        annotate_copies=True,
        task=TASK,
    )

    assert summary.annotated == out / "annotated"
    copies = sorted(
        p.relative_to(out / "annotated").as_posix()
        for p in (out / "annotated").rglob("*")
        if p.is_file()
    )
    assert copies == ["a/digit.png", "b/digit.png", "clip.mp4.mp4"]
    a, b = (
        np.asarray(Image.open(out / "annotated" / name / "digit.png"))
        for name in "ab"
    )
    # Each copy is its own image: a dark digit, an inverted one.
    assert a[64:].mean() < 128 < b[64:].mean()
    video = imageio.mimread(out / "annotated" / "clip.mp4.mp4", format=FFMPEG)
    assert len(video) == len(video_frames)
    enlarged = np.kron(video_frames[0], np.ones((4, 4, 1), np.uint8))
    assert video[0].shape == enlarged.shape
    # The label, yellow on gray frames, on every frame; below it, the
    # frame itself.
    for frame in video:
        red, green, blue = np.moveaxis(frame[:40].astype(int), 2, 0)
        assert ((red > 150) & (green > 150) & (blue < 100)).sum() > 50
    assert np.abs(video[0][80:].astype(int) - enlarged[80:]).mean() < 10


def test_the_command_says_what_is_missing(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(
        (Path(__file__).parents[1] / "params.yaml")
        .read_text()
        .replace("outputs/metadata.sqlite", str(tmp_path / "none.sqlite"))
    )

    code = main(["--params", str(params), "predict", str(tmp_path)])

    assert code == 2
    assert "none.sqlite: no metadata store" in capsys.readouterr().err


# End to end: the real models of a small run, exported and pushed.


def predict_command(run: SmallRun, output: str, *args: str) -> list[dict]:
    """`dcp predict ARGS --output root/predict/OUTPUT` with the run's
    params.yaml; the CSV's rows."""
    folder = run.root / "predict" / output
    params = ["--params", str(run.params)]
    assert main([*params, "predict", *args, "--output", str(folder)]) == 0
    return read_csv(folder / "predictions.csv")


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> SmallRun:
    return served_run(tmp_path_factory)


@pytest.fixture(scope="module")
def test_predictions(served) -> dict[str, dict[str, dict[str, str]]]:
    """Model kind → path → row, of the embedded dataset's test images."""
    test = str(served.raw / "test")
    connection = tfx.orchestration.metadata.sqlite_metadata_connection_config(
        served.config.pipeline.metadata
    )
    latest = pipeline_runs(connection, served.config.pipeline.name)[-1]
    rows = {
        "pushed": predict_command(served, "pushed", test),
        "savedmodel": predict_command(
            served, "savedmodel", test, "--model", "savedmodel"
        ),
        # A run named as dcp compare and dcp report name one.
        "tflite-int8": predict_command(
            served,
            "tflite-int8",
            test,
            "--model",
            "tflite-int8",
            "--run",
            latest,
            "--name",
            served.config.pipeline.name,
            "--data-root",
            served.config.etl.output,
        ),
    }
    return {
        kind: {row["path"]: row for row in kind_rows}
        for kind, kind_rows in rows.items()
    }


def accuracy(rows: dict[str, dict[str, str]]) -> float:
    """Of the readable images, how many are predicted as their folder."""
    readable = [r for r in rows.values() if not r["unreadable"]]
    return float(
        np.mean([Path(r["path"]).parent.name == r["class"] for r in readable])
    )


@pytest.mark.e2e
def test_each_model_kind_predicts_the_test_images_well_above_chance(
    served, test_predictions
):
    files = sorted(
        str(p) for p in (served.raw / "test").rglob("*") if p.is_file()
    )
    for kind, rows in test_predictions.items():
        # Every file has its row.
        assert sorted(rows) == files, kind
        assert all(r["class"] or r["unreadable"] for r in rows.values())
        print(f"{kind}: accuracy {accuracy(rows):.3f} on the test images")
        assert accuracy(rows) > 0.6, kind  # chance: 0.1


@pytest.mark.e2e
def test_the_pushed_model_is_the_runs_and_int8_agrees_with_it(
    test_predictions,
):
    pushed = test_predictions["pushed"]
    saved = test_predictions["savedmodel"]
    int8 = test_predictions["tflite-int8"]
    readable = [path for path, row in saved.items() if not row["unreadable"]]
    assert all(pushed[p] == saved[p] for p in saved)
    agreement = np.mean(
        [int8[p]["class"] == saved[p]["class"] for p in readable]
    )
    print(f"int8 agrees with the SavedModel on {agreement:.3f} of the images")
    assert agreement > 0.9


@pytest.mark.e2e
def test_a_video_of_test_digits_is_predicted_frame_by_frame(
    served, test_predictions
):
    saved = test_predictions["savedmodel"]
    images = [p for p, row in sorted(saved.items()) if not row["unreadable"]]
    images = images[:: max(1, len(images) // 24)][:24]
    frames = []
    for path in images:
        gray = np.asarray(Image.open(path).convert("L").resize((64, 64)))
        frames.append(np.repeat(gray[..., None], 3, axis=2))
    video = write_video(served.root / "video" / "digits.mp4", frames)

    rows = predict_command(served, "video", str(video), "--annotate")

    assert [row["frame"] for row in rows] == [str(i) for i in range(24)]
    classes = [saved[path]["class"] for path in images]
    agreement = np.mean([row["class"] for row in rows] == np.array(classes))
    print(f"video frames agree with their images on {agreement:.3f}")
    assert agreement > 0.8
    copy = imageio.mimread(
        served.root / "predict" / "video" / "annotated" / "digits.mp4.mp4",
        format=FFMPEG,
    )
    assert len(copy) == len(frames)
