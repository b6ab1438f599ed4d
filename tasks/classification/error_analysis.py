"""The report's error analysis of a classifier: the eval images it gets
wrong."""

import numpy as np

from core.readers.trained_model import (
    load_keras_model,
    predict,
    read_model_inputs,
)
from core.task import Misclassified

# Shown by their thumbnails, the most confident mistakes first.
_MAX_MISCLASSIFIED = 200


def find_misclassified(
    model_uri: str, eval_split_dir: str, class_names: list[str]
) -> list[Misclassified]:
    """Eval images the trained model gets wrong, most confident first."""
    model = load_keras_model(model_uri)
    pixels = read_model_inputs(model, [eval_split_dir])
    probabilities = predict(model, pixels.images)
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != pixels.labels)
    rows = [
        Misclassified(
            path=pixels.paths[i],
            given_label=class_names[pixels.labels[i]],
            predicted_label=class_names[predicted[i]],
            confidence=float(probabilities[i, predicted[i]]),
        )
        for i in wrong
    ]
    rows.sort(key=lambda row: -row.confidence)
    return rows[:_MAX_MISCLASSIFIED]
