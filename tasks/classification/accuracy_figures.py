"""Accuracy overall, per class and per slice, as the Evaluator measures
it, from labels and predicted classes."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def accuracy_figures(
    labels: np.ndarray,
    predicted: np.ndarray,
    class_names: Sequence[str],
    slice_values: Mapping[str, np.ndarray],
) -> dict[str, Any]:
    """Accuracy of `predicted` against `labels`: overall, per class (of
    the classes with images, with their counts) and per value of each
    slice feature in `slice_values` (feature → one value per image),
    worst slice first."""
    if len(labels) == 0:
        raise ValueError("no images to measure accuracy on")
    hits = predicted == labels
    slices = [
        {
            "feature": feature,
            "value": int(value),
            "accuracy": float(np.mean(hits[values == value])),
            "examples": int(np.sum(values == value)),
        }
        for feature, values in slice_values.items()
        for value in np.unique(values)
    ]
    return {
        "accuracy": float(np.mean(hits)),
        "per_class_accuracy": {
            class_names[label]: float(np.mean(hits[labels == label]))
            for label in np.unique(labels)
        },
        "per_class_examples": {
            class_names[label]: int(np.sum(labels == label))
            for label in np.unique(labels)
        },
        "slices": sorted(slices, key=lambda s: s["accuracy"]),
    }
