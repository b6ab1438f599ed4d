"""The auditor's view of an image (ink crops) and its out-of-sample
probabilities on real digits with flipped labels."""

import io

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from core.dataset.embedded.digits import render_digit
from tasks.classification.label_issues.auditor import (
    AUGMENTED_SOFTMAX,
    NEIGHBOURS,
    auditor_probabilities,
)
from tasks.classification.label_issues.folds import plan_folds
from tasks.classification.label_issues.ink_images import ink_crop, ink_crops
from tasks.classification.label_issues.ranking import rank_labels

SEED = 123
DIGITS = [str(d) for d in range(10)]


def scan_on_page(digit: np.ndarray, *, page: int, at: tuple[int, int]):
    """A 32x32 light-on-dark digit drawn dark-on-light on a 200x120 page
    (or kept light-on-dark with page=0), its top-left corner at `at`."""
    sheet = np.full((120, 200), page, np.uint8)
    strokes = digit if page == 0 else 255 - digit
    top, left = at
    region = sheet[top : top + 32, left : left + 32]
    sheet[top : top + 32, left : left + 32] = (
        np.minimum(region, strokes) if page else np.maximum(region, strokes)
    )
    return sheet


@pytest.fixture(scope="module")
def seven() -> np.ndarray:
    data = load_digits()
    return render_digit(data.images[list(data.target).index(7)], 32)


def test_the_crop_finds_the_strokes_wherever_they_are(seven):
    a = ink_crop(scan_on_page(seven, page=255, at=(10, 20)), 32)
    b = ink_crop(scan_on_page(seven, page=255, at=(80, 150)), 32)
    np.testing.assert_allclose(a, b, atol=1e-6)
    # the strokes fill the crop, less its margin, along the longer side
    rows, columns = np.nonzero(a > 0.25)
    assert max(rows.ptp(), columns.ptp()) >= 24


def test_the_crop_ignores_polarity(seven):
    dark_on_light = ink_crop(scan_on_page(seven, page=255, at=(5, 5)), 32)
    light_on_dark = ink_crop(scan_on_page(seven, page=0, at=(5, 5)), 32)
    np.testing.assert_allclose(dark_on_light, light_on_dark, atol=1e-6)
    assert dark_on_light.max() > 0.9 and dark_on_light.min() == 0


def test_a_blank_scan_crops_to_nothing():
    crop = ink_crop(np.full((40, 60), 200, np.uint8), 32)
    assert crop.shape == (32, 32) and not crop.any()


def test_ink_crops_decode_any_mode(seven):
    rgb = Image.fromarray(scan_on_page(seven, page=255, at=(3, 3))).convert(
        "RGB"
    )
    buffer = io.BytesIO()
    rgb.save(buffer, format="PNG")
    crops = ink_crops([buffer.getvalue()], 32)
    assert crops.shape == (1, 32, 32, 1)
    expected = ink_crop(scan_on_page(seven, page=255, at=(3, 3)), 32)
    np.testing.assert_allclose(crops[0, :, :, 0], expected, atol=1e-6)


def test_the_auditor_ranks_flipped_digits_at_the_top():
    data = load_digits()
    n, flips = 400, 20
    images = np.stack(
        [ink_crop(render_digit(scan, 32), 32) for scan in data.images[:n]]
    )[..., np.newaxis]
    truth = data.target[:n].astype(np.int64)
    rng = np.random.default_rng(0)
    flipped = rng.choice(n, flips, replace=False)
    labels = truth.copy()
    labels[flipped] = (truth[flipped] + rng.integers(1, 10, flips)) % 10
    plan = plan_folds(labels, DIGITS, folds=4, seed=SEED)
    probabilities, atypicality, views = auditor_probabilities(
        images, labels, plan, num_classes=10, epochs=15, seed=SEED
    )
    assert atypicality.shape == (n,) and (atypicality > 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    assert (probabilities.argmax(axis=1) == truth).mean() > 0.85
    for view in views.values():
        np.testing.assert_allclose(view.sum(axis=1), 1, atol=1e-4)
    np.testing.assert_allclose(
        probabilities,
        (views[AUGMENTED_SOFTMAX] + views[NEIGHBOURS]) / 2,
        atol=1e-6,
    )
    # A flipped digit's neighbours mostly carry its true label.
    neighbours = views[NEIGHBOURS][flipped]
    assert (neighbours.argmax(axis=1) == truth[flipped]).mean() > 0.8
    paths = [f"train/{label}/{i:04d}.png" for i, label in enumerate(labels)]
    ranked = rank_labels(paths, labels, probabilities)
    flipped_paths = {paths[i] for i in flipped}
    top = [r for r in ranked[: 2 * flips] if r.path in flipped_paths]
    assert len(top) >= 0.9 * flips


def test_a_tiny_skewed_set_is_judged_where_it_can_be():
    """Regression: a class of one image failed the whole run."""
    data = load_digits()
    picked = np.concatenate(
        [np.flatnonzero(data.target == d)[:n] for d, n in [(0, 8), (1, 3)]]
        + [np.flatnonzero(data.target == 2)[:1]]
    )
    images = np.stack(
        [ink_crop(render_digit(data.images[i], 32), 32) for i in picked]
    )[..., np.newaxis]
    labels = data.target[picked].astype(np.int64)
    plan = plan_folds(labels, ["0", "1", "2"], folds=5, seed=SEED)
    assert len(plan.folds) == 3 and not plan.judged[-1]

    probabilities, atypicality, views = auditor_probabilities(
        images, labels, plan, num_classes=3, epochs=2, seed=SEED
    )

    judged = np.flatnonzero(plan.judged)
    ranked = rank_labels(
        [f"train/{i}.png" for i in judged],
        labels[judged],
        probabilities[judged],
        atypicality[judged],
    )
    assert len(ranked) == len(picked) - 1
    assert not probabilities[-1].any()
    assert not any(view[-1].any() for view in views.values())
