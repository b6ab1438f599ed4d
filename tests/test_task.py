"""The shared code asks a task object for what differs between tasks;
params.yaml's `task:` names it."""

import io
import sys
import types
from pathlib import PurePosixPath
from typing import get_args

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from core.dataset.embedded.digits import png_bytes, render_digit
from core.dataset.etl.dataset_layout import SourceImage
from core.dataset.etl.image_records import image_record
from core.findings.finding import RELABEL, REMOVE
from core.settings import TaskName
from core.task import (
    DEFAULT_TASK,
    TASK_MODULES,
    get_dataset_task,
    get_evaluation_reporter,
    get_pipeline_task,
    get_task,
)
from dcp.config import ConfigError, load_config
from models import features
from tests.conftest import REPO
from tests.test_config import edited_params


def test_params_yaml_names_the_task_and_it_is_the_default(tmp_path):
    assert load_config(REPO / "params.yaml").task == "classification"
    # A params.yaml from before the key still reads, as classification.
    older = edited_params(tmp_path, lambda params: params.pop("task"))
    assert load_config(older).task == DEFAULT_TASK == "classification"


def test_an_unknown_task_is_refused_with_the_known_ones(tmp_path):
    path = edited_params(tmp_path, lambda p: p.update(task="segmentation"))
    with pytest.raises(ConfigError, match="task: 'segmentation' is not one"):
        load_config(path)
    with pytest.raises(ValueError, match=r"set params\.yaml's task to one of"):
        get_task("segmentation")


def test_params_choices_are_the_registered_tasks():
    assert set(get_args(TaskName)) == set(TASK_MODULES)
    for name in TASK_MODULES:
        assert get_dataset_task(name).name == name


def test_a_task_without_its_loop_says_what_it_can_do():
    assert get_pipeline_task("detection").name == "detection"
    assert get_dataset_task("detection") is get_pipeline_task("detection")
    with pytest.raises(ValueError) as refused:
        get_task("detection")
    assert "its pipeline runs (dcp run, make run)" in str(refused.value)
    assert "one of classification for those" in str(refused.value)


def test_only_a_task_without_analyses_reports_its_evaluation_alone():
    reporter = get_evaluation_reporter("detection")
    assert reporter.write_evaluation_report.__module__ == (
        "tasks.detection.report"
    )
    with pytest.raises(ValueError, match="its report is the data-quality"):
        get_evaluation_reporter("classification")


def test_a_task_without_its_pipeline_says_what_it_can_do(monkeypatch):
    dataset_only = types.ModuleType("tasks.boxes_only")
    dataset_only.DATASET_TASK = get_dataset_task("detection")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tasks.boxes_only", dataset_only)
    monkeypatch.setitem(TASK_MODULES, "boxes", "tasks.boxes_only")
    assert get_dataset_task("boxes").name == "detection"
    with pytest.raises(ValueError) as refused:
        get_pipeline_task("boxes")
    assert "dcp etl" in str(refused.value)
    assert "one of classification, detection to run one" in str(refused.value)


def test_a_classification_example_carries_the_label_and_its_name():
    source = SourceImage("train", "iii", "train/iii/1.png")
    scan = np.full((8, 8), 16.0)
    record = image_record(png_bytes(render_digit(scan, 32)), source, 3)
    task = get_task("classification")
    annotation = task.annotation_features(record)
    assert task.instances(source) == {}  # the annotation is the class
    example = tf.train.Example(features=tf.train.Features(feature=annotation))
    parsed = tf.io.parse_single_example(
        example.SerializeToString(),
        {
            features.LABEL: tf.io.FixedLenFeature([], tf.int64),
            features.LABEL_NAME: tf.io.FixedLenFeature([], tf.string),
        },
    )
    assert int(parsed[features.LABEL]) == 3
    assert parsed[features.LABEL_NAME].numpy() == b"iii"


def test_a_classification_fix_moves_the_file_between_class_folders():
    task = get_task("classification")
    path = PurePosixPath("train/7/0042.png")
    trash = PurePosixPath("trash/data-v3")
    assert task.fix_actions == (RELABEL, REMOVE)
    assert task.fixed_path(path, RELABEL, "1", trash) == PurePosixPath(
        "train/1/0042.png"
    )
    assert task.fixed_path(path, REMOVE, "", trash) == PurePosixPath(
        "trash/data-v3/train/7/0042.png"
    )
    assert task.fix_reason(path, RELABEL, "1", "label issue") == (
        "relabelled 7 → 1: label issue"
    )
    # An augmented copy stays in its parent's class folder.
    assert task.augmented_path(path, 2) == PurePosixPath(
        "train/7/0042_aug2.png"
    )


def test_a_classification_prediction_is_drawn_on_its_image():
    from sklearn.datasets import load_digits

    image = png_bytes(render_digit(load_digits().images[8], 32))
    drawn = get_task("classification").draw(
        image, {"class": "8", "confidence": 0.93}
    )
    plain = Image.open(io.BytesIO(image))
    assert isinstance(drawn, Image.Image)
    # Enlarged for legibility, with a banner of text along its top.
    assert min(drawn.size) >= 256 and drawn.size[0] % plain.size[0] == 0
    top = np.asarray(drawn)[:40]
    assert (top == (0, 0, 0)).all(axis=2).any()
    assert (top == (255, 255, 0)).all(axis=2).any()
