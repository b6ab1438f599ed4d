"""Out-of-sample probabilities and confident learning on real digits
with flipped labels."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from core.dataset.embedded.digits import render_digit
from models.registry import get_model_spec
from tasks.classification.label_issues.folds import plan_folds
from tasks.classification.label_issues.out_of_sample import (
    cross_train_probabilities,
    pixel_probe_probabilities,
)
from tasks.classification.label_issues.ranking import RankedLabel, rank_labels

N_IMAGES = 300
N_FLIPS = 15
SEED = 123  # the fixed models' seed
DIGITS = [str(d) for d in range(10)]


def plan_of(labels: np.ndarray, folds: int):
    return plan_folds(labels, DIGITS, folds=folds, seed=SEED)


def transformed_digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `n` digits as the Transform writes them: 32x32 RGB
    floats in 0..1; and their true labels."""
    data = load_digits()
    gray = np.stack([render_digit(scan, 32) for scan in data.images[:n]])
    images = np.repeat(gray[..., np.newaxis], 3, axis=3) / np.float32(255)
    return images.astype(np.float32), data.target[:n].astype(np.int64)


@pytest.fixture(scope="module")
def noisy_digits() -> dict:
    images, truth = transformed_digits(N_IMAGES)
    rng = np.random.default_rng(0)
    flipped = rng.choice(N_IMAGES, N_FLIPS, replace=False)
    labels = truth.copy()
    labels[flipped] = (truth[flipped] + rng.integers(1, 10, N_FLIPS)) % 10
    assert (labels[flipped] != truth[flipped]).all()
    paths = [f"train/{label}/{i:04d}.png" for i, label in enumerate(labels)]
    probabilities = pixel_probe_probabilities(
        images, labels, plan_of(labels, 5), num_classes=10, seed=SEED
    )
    return {
        "images": images,
        "truth": truth,
        "labels": labels,
        "flipped": {paths[i]: int(i) for i in flipped},
        "paths": paths,
        "probabilities": probabilities,
    }


def test_pixel_probe_gives_a_distribution_per_image(noisy_digits):
    probabilities = noisy_digits["probabilities"]
    assert probabilities.shape == (N_IMAGES, 10)
    assert probabilities.dtype == np.float32
    assert (probabilities >= 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_pixel_probe_mostly_predicts_the_true_digit(noisy_digits):
    predicted = noisy_digits["probabilities"].argmax(axis=1)
    assert (predicted == noisy_digits["truth"]).mean() > 0.85


def test_flipped_labels_rank_at_the_top(noisy_digits):
    ranked = rank_labels(
        noisy_digits["paths"],
        noisy_digits["labels"],
        noisy_digits["probabilities"],
    )
    flipped = noisy_digits["flipped"]
    top = [r for r in ranked[: 2 * N_FLIPS] if r.path in flipped]
    assert len(top) >= 12, f"only {len(top)} of {N_FLIPS} flips in the top"
    truth = noisy_digits["truth"]
    right = [r for r in top if r.suggested == truth[flipped[r.path]]]
    assert len(right) >= 0.75 * len(top)
    assert all(r.given == noisy_digits["labels"][flipped[r.path]] for r in top)
    caught = [r for r in ranked if r.flagged and r.path in flipped]
    assert len(caught) >= 10


def test_ranking_covers_every_image_most_suspect_first(noisy_digits):
    paths = noisy_digits["paths"]
    ranked = rank_labels(
        paths, noisy_digits["labels"], noisy_digits["probabilities"]
    )
    assert sorted(r.path for r in ranked) == sorted(paths)
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores)
    row = {path: i for i, path in enumerate(paths)}
    assert all(
        r.suggested == noisy_digits["probabilities"][row[r.path]].argmax()
        for r in ranked
    )


def test_rank_labels_wants_one_row_per_path():
    with pytest.raises(ValueError, match="3 paths, 2 labels and 2 rows"):
        rank_labels(
            ["a", "b", "c"], np.array([0, 1]), np.array([[1, 0], [0, 1.0]])
        )


def test_a_class_absent_from_the_labels_gets_probability_zero():
    images, labels = transformed_digits(200)
    present = labels != 9
    probabilities = pixel_probe_probabilities(
        images[present],
        labels[present],
        plan_of(labels[present], 3),
        num_classes=10,
        seed=SEED,
    )
    assert probabilities.shape == (present.sum(), 10)
    assert not probabilities[:, 9].any()
    assert (probabilities[:, :9] > 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_folds_hold_out_every_image_once_stratified():
    labels = np.repeat(np.arange(4), [5, 6, 7, 8])
    plan = plan_of(labels, 5)
    assert len(plan.folds) == 5 and not plan.notes
    held_out = np.concatenate([held for _, held in plan.folds])
    assert sorted(held_out) == list(range(len(labels)))
    for fit, held in plan.folds:
        assert not set(fit) & set(held)
        # every class in every held-out fold: stratified
        assert set(labels[held]) == {0, 1, 2, 3}


def test_never_fit_images_are_held_out_once_and_never_learnt_from():
    labels = np.repeat(np.arange(4), 12)
    never_fit = np.zeros(len(labels), bool)
    never_fit[::4] = True  # three of each class, as a test split
    plan = plan_folds(labels, DIGITS, folds=3, seed=SEED, never_fit=never_fit)
    assert plan.judged.all() and not plan.notes
    held_out = np.concatenate([held for _, held in plan.folds])
    assert sorted(held_out) == list(range(len(labels)))
    fit = np.concatenate([fit for fit, _ in plan.folds])
    assert not never_fit[fit].any()
    # the others are split as they would be without the test images
    alone = plan_folds(labels[~never_fit], DIGITS, folds=3, seed=SEED)
    rest = np.flatnonzero(~never_fit)
    for (fit, held), (fit_alone, held_alone) in zip(
        plan.folds, alone.folds, strict=True
    ):
        assert fit.tolist() == rest[fit_alone].tolist()
        assert held[~never_fit[held]].tolist() == rest[held_alone].tolist()


def test_a_class_only_in_never_fit_images_is_not_judged():
    labels = np.array([0] * 6 + [1] * 6 + [2, 2])
    never_fit = np.array([False] * 12 + [True, True])
    plan = plan_folds(labels, DIGITS, folds=3, seed=SEED, never_fit=never_fit)
    assert plan.judged.tolist() == [True] * 12 + [False, False]
    assert any(
        "class 2 is only in images never learnt from" in note
        for note in plan.notes
    )


def test_flips_in_a_never_fit_split_are_found(noisy_digits):
    """A test split's wrong labels are found by models that never saw it."""
    labels, truth = noisy_digits["labels"], noisy_digits["truth"]
    never_fit = np.arange(N_IMAGES) >= N_IMAGES - 100
    plan = plan_folds(labels, DIGITS, folds=5, seed=SEED, never_fit=never_fit)
    probabilities = pixel_probe_probabilities(
        noisy_digits["images"], labels, plan, num_classes=10, seed=SEED
    )
    paths = noisy_digits["paths"]
    ranked = rank_labels(paths, labels, probabilities)
    test_flips = {
        p for p, i in noisy_digits["flipped"].items() if never_fit[i]
    }
    assert len(test_flips) >= 3, "the fixture has flips among the last 100"
    # as high as flips in the images learnt from: in the top 13%
    top = {r.path for r in ranked[:40]}
    assert len(test_flips & top) >= 0.75 * len(test_flips)
    predicted = probabilities[never_fit].argmax(axis=1)
    assert (predicted == truth[never_fit]).mean() > 0.75


def test_a_class_smaller_than_the_folds_lowers_the_folds():
    labels = np.array([0] * 10 + [1] * 10 + [2] * 3)
    plan = plan_of(labels, 5)
    assert len(plan.folds) == 3
    assert plan.judged.all()
    assert plan.notes == [
        "3 folds instead of quality.folds=5: the smallest judged class"
        " has 3 images"
    ]


def test_a_class_of_one_image_is_left_out_with_a_note():
    labels = np.array([0] * 10 + [1] * 10 + [2])
    plan = plan_of(labels, 5)
    assert len(plan.folds) == 5
    assert plan.judged.tolist() == [True] * 20 + [False]
    held_out = np.concatenate([held for _, held in plan.folds])
    assert sorted(held_out) == list(range(20))
    assert "class 2 has 1 image(s), too few to judge" in plan.notes[0]


def test_nothing_is_judged_below_two_judgeable_classes():
    plan = plan_of(np.array([0] * 10 + [1]), 5)
    assert not plan.judged.any() and plan.folds == []
    assert any("fewer than two classes" in note for note in plan.notes)


def test_fewer_than_two_folds_are_refused():
    with pytest.raises(ValueError, match=r"quality\.folds is 1"):
        plan_of(np.array([0, 0, 1, 1]), 1)


def test_the_pixel_probe_copes_with_fewer_images_than_components():
    # 48 images of 3 classes: PCA cannot keep 64 components
    images, labels = transformed_digits(60)
    kept = np.isin(labels, [0, 1, 2])
    probabilities = pixel_probe_probabilities(
        images[kept],
        labels[kept],
        plan_of(labels[kept], 5),
        num_classes=10,
        seed=SEED,
    )
    assert (probabilities[:, :3].argmax(1) == labels[kept]).mean() > 0.8


def test_cross_train_gives_a_distribution_per_image():
    images, labels = transformed_digits(40)
    probabilities = cross_train_probabilities(
        images,
        labels,
        plan_of(labels, 2),
        spec=get_model_spec("dcai_resnet50"),
        num_classes=10,
        epochs=1,
        seed=SEED,
    )
    assert probabilities.shape == (40, 10)
    assert np.isfinite(probabilities).all()
    assert (probabilities >= 0).all()
    # every held-out row was written: none left at the initial zeros
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-4)


def test_an_image_far_from_every_class_with_a_doubtful_label_is_no_class():
    labels = np.array([0, 1] * 20)
    probabilities = np.where(np.eye(2)[labels] == 1, 0.9, 0.1).astype(
        np.float32
    )
    probabilities[0] = [0.45, 0.55]  # doubtful, and far from everything
    probabilities[1] = [0.1, 0.9]  # far too, but its label is clear
    distance = np.ones(40) + np.linspace(0, 0.1, 40)
    distance[:2] = 10.0
    paths = [f"train/{label}/{i}.png" for i, label in enumerate(labels)]

    ranked = {r.path: r for r in rank_labels(paths, labels, probabilities)}
    with_distance = {
        r.path: r for r in rank_labels(paths, labels, probabilities, distance)
    }

    assert with_distance[paths[0]].no_class and with_distance[paths[0]].flagged
    assert not with_distance[paths[1]].no_class
    assert sum(r.no_class for r in with_distance.values()) == 1
    assert not any(r.no_class for r in ranked.values())
    # the ranking itself does not change
    assert [r.score for r in ranked.values()] == [
        with_distance[p].score for p in ranked
    ]


def rank_rounds(
    labels: np.ndarray, rounds: list[np.ndarray]
) -> tuple[list[str], dict[str, RankedLabel]]:
    """The images' paths, and their ranking by path, from the mean of
    `rounds`."""
    paths = [f"train/{label}/{i}.png" for i, label in enumerate(labels)]
    ranked = rank_labels(paths, labels, np.mean(rounds, axis=0), rounds=rounds)
    return paths, {r.path: r for r in ranked}


def test_the_agreed_probability_is_the_least_of_the_rounds():
    labels = np.array([0, 1] * 10)
    sure = np.where(np.eye(2)[labels] == 1, 0.9, 0.1).astype(np.float32)
    doubtful = sure.copy()
    doubtful[0] = [0.4, 0.6]
    paths, ranked = rank_rounds(labels, [sure, doubtful])

    assert ranked[paths[0]].agreed_probability == pytest.approx(0.4)
    assert ranked[paths[0]].suggested_probability == pytest.approx(0.65)
    assert ranked[paths[1]].agreed_probability == pytest.approx(0.9)


def test_a_label_every_round_doubts_is_flagged():
    # 10 classes of 40 clear images each, but two.
    labels = np.repeat(np.arange(10), 40)
    clear = np.full((400, 10), 0.02, np.float32)
    clear[np.arange(400), labels] = 0.82
    looks_like_3 = np.full(10, 0.04, np.float32)
    looks_like_3[3] = 0.64
    first, second = clear.copy(), clear.copy()
    first[0] = second[0] = looks_like_3  # both rounds doubt image 0
    first[40] = looks_like_3  # only one round doubts image 40
    paths, ranked = rank_rounds(labels, [first, second])

    # cleanlab's count of label errors leaves both out here.
    assert ranked[paths[0]].given_at_most == pytest.approx(0.04)
    assert ranked[paths[0]].flagged
    assert ranked[paths[40]].given_at_most == pytest.approx(0.82)
    assert ranked[paths[1]].given_at_most == pytest.approx(0.82)
    assert not ranked[paths[1]].flagged
