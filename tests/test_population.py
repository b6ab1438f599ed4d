"""The population analyses on real digit scans: the 2-D map, density,
clusters ranked by loss, and the properties that go with loss."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

from core.dataset.embedded.digits import render_digit
from core.dataset.etl.image_properties import image_properties
from core.population.density import uniqueness_and_representativeness
from core.population.insights import (
    describe,
    distinct_properties,
    loss_correlations,
    rank_clusters,
)
from core.population.projection import map_2d


@pytest.fixture(scope="module")
def digits():
    """600 real digit scans: pixels, labels, properties, and each scan's
    out-of-fold cross-entropy under a linear classifier."""
    data = load_digits()
    pixels = data.data[:600] / 16.0
    labels = data.target[:600]
    scans = [render_digit(scan, 32)[..., None] for scan in data.images[:600]]
    measured = [image_properties(scan) for scan in scans]
    properties = {
        name: np.array([m[name] for m in measured]) for name in measured[0]
    }
    probabilities = cross_val_predict(
        LogisticRegression(max_iter=200, C=0.05),
        pixels,
        labels,
        cv=5,
        method="predict_proba",
    )
    given = probabilities[np.arange(len(labels)), labels]
    return {
        "pixels": pixels,
        "labels": labels,
        "properties": properties,
        "loss": -np.log(np.maximum(given, 1e-7)),
        "correct": probabilities.argmax(axis=1) == labels,
    }


def test_the_map_keeps_the_classes_apart(digits):
    points = map_2d(digits["pixels"], seed=0)
    assert points.shape == (600, 2)
    assert points.min() == 0.0 and points.max() == 1.0
    # Neighbours on the map are mostly of the same digit.
    neighbours = KNeighborsClassifier(5).fit(
        points[::2], digits["labels"][::2]
    )
    assert neighbours.score(points[1::2], digits["labels"][1::2]) > 0.85


def test_a_tiny_population_still_gets_a_map():
    assert map_2d(np.eye(3), seed=0).shape == (3, 2)
    assert map_2d(np.ones((1, 4)), seed=0).tolist() == [[0.0, 0.0]]


def test_a_copy_is_least_unique_and_a_crowd_most_representative(digits):
    pixels = np.vstack([digits["pixels"], digits["pixels"][:1]])
    uniqueness, representativeness = uniqueness_and_representativeness(pixels)
    # The scan and its copy: no image is less unique.
    assert uniqueness[0] == uniqueness[-1] == uniqueness.min()
    # Zeros, drawn alike by everyone, crowd closer than the eights.
    labels = np.append(digits["labels"], digits["labels"][0])
    assert np.median(representativeness[labels == 0]) > np.median(
        representativeness[labels == 8]
    )
    assert 0.0 <= representativeness.min() <= representativeness.max() <= 1


def test_clusters_are_ranked_by_loss_and_explained(digits):
    # One cluster per digit; most eights held out of train.
    labels = digits["labels"]
    split = np.where(np.arange(600) % 4 == 0, "val", "train")
    split[(labels == 8) & (np.arange(600) % 3 > 0)] = "val"
    clusters = rank_clusters(
        labels,
        loss=digits["loss"],
        correct=digits["correct"],
        split=split,
        labels=[str(label) for label in labels],
        properties=digits["properties"],
        paths=[
            f"{s}/{label}/{i}.png"
            for i, (s, label) in enumerate(zip(split, labels, strict=True))
        ],
    )
    losses = [c.mean_loss for c in clusters]
    assert losses == sorted(losses, reverse=True)
    assert sum(sum(c.sizes.values()) for c in clusters) == 600
    by_digit = {c.labels[0][0]: c for c in clusters}
    assert [d for d, c in by_digit.items() if c.under_represented] == ["8"]
    # A one, a single stroke, differs strongly from the other digits in
    # how much of its page is ink; the largest effects come first.
    ones = [abs(d) for _, d in by_digit["1"].effects]
    assert ones == sorted(ones, reverse=True) and ones[0] > 1.0
    worst = clusters[0]
    assert worst.examples[0].split("/")[1] == worst.labels[0][0]
    # One digit per cluster; the eights' brightness differs by d > 0.5.
    assert describe(worst, {"train": 450, "val": 150}) == (
        f"cluster {worst.cluster} (mostly 8, high brightness,"
        f" {worst.sizes['val'] / 150:.0%} of val) has"
        f" {worst.loss_ratio:.1f} times the average loss"
    )


def test_properties_are_ranked_by_their_correlation_with_loss(digits):
    brightness = digits["properties"]["brightness"]
    rng = np.random.default_rng(0)
    loss = -brightness + rng.normal(0, brightness.std() / 3, 600)
    correlations = loss_correlations(
        loss, {"brightness": brightness, "flat": np.ones(600)}
    )
    assert [c.property for c in correlations] == ["brightness"]
    assert correlations[0].rho < -0.8 and correlations[0].p_value < 1e-6


def test_a_gray_scans_channel_means_are_its_brightness(digits):
    kept = distinct_properties(digits["properties"])
    assert "brightness" in kept and "contrast" in kept
    assert not {"mean_red", "mean_green", "std_blue"} & set(kept)
