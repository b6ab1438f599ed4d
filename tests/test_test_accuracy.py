"""TestAccuracy's figures: accuracy overall, per class and per slice as
the Evaluator slices, and the fingerprint of the images measured."""

import numpy as np
import pytest

from core.readers.example_tables import images_digest
from tasks.classification.accuracy_figures import accuracy_figures

CLASSES = ["i", "ii", "iii"]


def test_figures_overall_per_class_and_per_slice_worst_first():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 0, 2])
    blur = np.array([0, 0, 1, 1, 1, 1])
    figures = accuracy_figures(
        labels, predicted, CLASSES, {"blur_bucket": blur}
    )
    assert figures["accuracy"] == pytest.approx(4 / 6)
    assert figures["per_class_accuracy"] == pytest.approx(
        {"i": 2 / 3, "ii": 1 / 2, "iii": 1.0}
    )
    assert figures["per_class_examples"] == {"i": 3, "ii": 2, "iii": 1}
    assert figures["slices"] == [
        {"feature": "blur_bucket", "value": 1, "accuracy": 0.5, "examples": 4},
        {"feature": "blur_bucket", "value": 0, "accuracy": 1.0, "examples": 2},
    ]


def test_a_class_without_images_has_no_accuracy():
    figures = accuracy_figures(np.array([0, 2]), np.array([0, 0]), CLASSES, {})
    assert set(figures["per_class_accuracy"]) == {"i", "iii"}
    assert figures["slices"] == []


def test_no_images_is_an_error():
    with pytest.raises(ValueError, match="no images"):
        accuracy_figures(np.array([]), np.array([]), CLASSES, {})


def test_the_digest_names_the_files_in_any_order():
    paths, hashes = ["test/i/1.png", "test/ii/2.png"], ["aa", "bb"]
    digest = images_digest(paths, hashes)
    assert images_digest(paths[::-1], hashes[::-1]) == digest
    # Another file's bytes, or the same bytes moved to another class.
    assert images_digest(paths, ["aa", "cc"]) != digest
    assert images_digest(["test/ii/1.png", paths[1]], hashes) != digest
