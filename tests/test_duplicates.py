"""Exact and near-duplicates among real rendered digits."""

import hashlib

import numpy as np
import pytest
from sklearn.datasets import load_digits

from components.duplicates.finding import (
    duplicate_findings,
    find_duplicates,
    normalised_pixels,
)
from core.dataset.embedded.digits import (
    brighten,
    png_bytes,
    render_digit,
    shift_right,
)
from core.findings.types import EXACT_DUPLICATE, NEAR_DUPLICATE
from tests.raw_tables import raw_table

MAX_DISTANCE = 0.15  # params.yaml's quality.near_duplicate_distance


@pytest.fixture(scope="module")
def digits() -> list[tuple[str, np.ndarray]]:
    """The first 60 scikit-learn digits as (class name, 32x32 pixels)."""
    data = load_digits()
    return [
        (str(label), render_digit(scan, 32))
        for scan, label in zip(data.images[:60], data.target[:60], strict=True)
    ]


def train_digits(
    digits: list[tuple[str, np.ndarray]], n: int
) -> list[tuple[str, str, np.ndarray]]:
    return [
        (f"train/{label}/{i:04d}.png", label, pixels)
        for i, (label, pixels) in enumerate(digits[:n])
    ]


def findings_of(images: list[tuple[str, str, np.ndarray]]):
    table = raw_table(images)
    pairs = find_duplicates(
        table, normalised_pixels(table.pngs), max_distance=MAX_DISTANCE
    )
    return pairs, duplicate_findings(table, pairs)


def test_normalised_pixels_are_32x32_zero_mean_unit_length(digits, photo):
    pngs = [png_bytes(digits[0][1]), png_bytes(photo[:48, :64])]
    pixels = normalised_pixels(pngs)
    assert pixels.shape == (2, 32, 32)
    flat = pixels.reshape(2, -1)
    np.testing.assert_allclose(flat.mean(axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(flat, axis=1), 1, rtol=1e-5)


def test_a_blank_image_normalises_to_zeros():
    blank = np.full((32, 32), 77, np.uint8)
    assert not normalised_pixels([png_bytes(blank)]).any()


def test_exact_copy_from_train_into_val_is_a_leak(digits):
    label, pixels = digits[3]
    original = f"train/{label}/0003.png"
    # The copy comes first in file order: the split decides the original.
    images = [(f"val/{label}/copy.png", label, pixels.copy())]
    images += train_digits(digits, 10)
    pairs, findings = findings_of(images)
    assert len(findings) == 1
    finding = findings[0]
    assert finding.issue == EXACT_DUPLICATE
    assert finding.path == f"val/{label}/copy.png"
    assert finding.split == "val"
    assert finding.given_label == label
    assert finding.score == 1.0
    assert finding.sha256 == hashlib.sha256(png_bytes(pixels)).hexdigest()
    assert finding.duplicate_of == original
    assert f"same bytes as {original}" in finding.detail
    assert "leak train→val" in finding.detail
    assert "labels differ" not in finding.detail
    assert pairs[0].exact and pairs[0].distance == 0


def test_exact_copy_within_train_is_no_leak(digits):
    label, pixels = digits[4]
    images = [
        *train_digits(digits, 10),
        (f"train/{label}/copy.png", label, pixels.copy()),
    ]
    _, findings = findings_of(images)
    assert [(f.path, f.issue) for f in findings] == [
        (f"train/{label}/copy.png", EXACT_DUPLICATE)
    ]
    assert "leak" not in findings[0].detail
    assert f"same bytes as train/{label}/0004.png" in findings[0].detail


def test_copy_under_another_label_says_the_labels_differ(digits):
    label, pixels = digits[3]
    assert label == "3"
    images = [*train_digits(digits, 10), ("val/5/copy.png", "5", pixels)]
    _, findings = findings_of(images)
    assert len(findings) == 1
    assert findings[0].given_label == "5"
    assert findings[0].suggested_label == "3"
    assert "labels differ: 5 here, 3 there" in findings[0].detail
    assert "leak train→val" in findings[0].detail


def brightness_and_contrast(pixels: np.ndarray) -> np.ndarray:
    """Lighter and flatter, without clipping any pixel at 0 or 255."""
    return (pixels.astype(np.float64) * 0.6 + 90).round().astype(np.uint8)


# `brighten` adds 60 and clips at 255: the strokes flatten, which mean
# and unit normalisation cannot undo, so its copies lie farther away.
@pytest.mark.parametrize(
    "transform", [shift_right, brightness_and_contrast, brighten]
)
@pytest.mark.parametrize("split", ["val", "test"])
def test_shifted_or_rescaled_copy_is_a_near_duplicate(
    digits, transform, split
):
    label, pixels = digits[7]
    copy = transform(pixels)
    assert png_bytes(copy) != png_bytes(pixels)
    images = [(f"{split}/{label}/copy.png", label, copy)]
    images += train_digits(digits, 30)
    pairs, findings = findings_of(images)
    assert [(f.path, f.issue) for f in findings] == [
        (f"{split}/{label}/copy.png", NEAR_DUPLICATE)
    ]
    assert not pairs[0].exact
    assert pairs[0].distance < MAX_DISTANCE
    assert findings[0].score == pytest.approx(1 - pairs[0].distance / 2)
    assert findings[0].score > 1 - MAX_DISTANCE / 2
    assert f"looks like train/{label}/0007.png" in findings[0].detail
    assert f"leak train→{split}" in findings[0].detail


def test_a_copy_shifted_by_three_pixels_is_beyond_the_search(digits):
    label, pixels = digits[7]
    shifted = np.roll(pixels, 3, axis=1)
    images = [
        *train_digits(digits, 10),
        (f"val/{label}/copy.png", label, shifted),
    ]
    assert findings_of(images) == ([], [])


def test_distinct_digits_are_not_near_duplicates(digits):
    images = train_digits(digits, 30)
    assert len({label for _, label, _ in images}) == 10
    pairs, findings = findings_of(images)
    assert pairs == []
    assert findings == []


def test_blank_images_are_not_paired_with_each_other(digits):
    blanks = [
        (f"train/{i}/blank{value}.png", str(i), np.full((32, 32), value))
        for i, value in enumerate([0, 64, 128, 200, 255])
    ]
    blanks = [(p, n, pixels.astype(np.uint8)) for p, n, pixels in blanks]
    # Different gray levels: different bytes, so no exact pair either.
    assert len({png_bytes(pixels) for _, _, pixels in blanks}) == 5
    pairs, _ = findings_of(blanks + train_digits(digits, 5))
    assert pairs == []


def test_the_copy_in_the_later_split_is_flagged(digits):
    label, pixels = digits[2]
    other_label, other = digits[5]
    images = [
        # test and val before train in file order
        (f"test/{label}/exact.png", label, pixels.copy()),
        (f"test/{other_label}/shifted.png", other_label, shift_right(other)),
        (f"val/{label}/exact.png", label, pixels.copy()),
        (f"val/{other_label}/orig.png", other_label, other),
        (f"train/{label}/orig.png", label, pixels),
        *train_digits(digits[10:], 10),
    ]
    _, findings = findings_of(images)
    flagged = {f.path: f for f in findings}
    assert set(flagged) == {
        f"test/{label}/exact.png",
        f"val/{label}/exact.png",
        f"test/{other_label}/shifted.png",
    }
    assert not any(f.split == "train" for f in findings)
    assert "leak train→test" in flagged[f"test/{label}/exact.png"].detail
    assert "leak train→val" in flagged[f"val/{label}/exact.png"].detail
    shifted = flagged[f"test/{other_label}/shifted.png"]
    assert shifted.issue == NEAR_DUPLICATE
    assert f"looks like val/{other_label}/orig.png" in shifted.detail
    assert "leak val→test" in shifted.detail


def test_each_pair_is_reported_once(digits):
    label, pixels = digits[1]
    shifted_label, shifted = digits[6]
    images = [
        *train_digits(digits, 10),
        (f"val/{label}/a.png", label, pixels.copy()),
        (f"test/{label}/b.png", label, pixels.copy()),
        (f"val/{shifted_label}/c.png", shifted_label, shift_right(shifted)),
    ]
    pairs, findings = findings_of(images)
    # The shifted copy matches at several shifts and from both sides;
    # the two exact copies also match each other by pixels.
    assert sorted((p.original, p.copy, p.exact) for p in pairs) == [
        (1, 10, True),
        (1, 11, True),
        (6, 12, False),
    ]
    assert len({f.path for f in findings}) == len(findings) == 3


def test_brightened_copies_with_clipped_strokes_are_found(digits):
    """params.yaml's threshold is set to find these: nearly all of them."""
    originals = digits[:60]
    copies = [
        (f"val/{label}/copy{i}.png", label, brighten(pixels))
        for i, (label, pixels) in enumerate(originals)
    ]
    found = {
        f.path
        for f in findings_of(train_digits(digits, 60) + copies)[1]
        if f.issue == NEAR_DUPLICATE and f.split == "val"
    }
    assert len(found) >= 0.95 * len(copies)
