"""Outliers by image property and in embedding space, on real digits."""

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from sklearn.datasets import load_digits

from components.outliers.finding import embedding_findings, property_findings
from core.dataset.embedded.digits import render_digit
from core.findings.finding import Finding
from core.findings.types import (
    BLANK,
    BLURRY,
    DARK,
    GRAYSCALE,
    LIGHT,
    ODD_SIZE,
    OUTLIER,
)
from core.readers.example_tables import RawTable
from models import features
from tests.raw_tables import raw_table

FENCE = 3.0  # params.yaml's quality.outlier_fence


def issues_by_path(findings: list[Finding]) -> dict[str, set[str]]:
    issues: dict[str, set[str]] = {}
    for finding in findings:
        issues.setdefault(finding.path, set()).add(finding.issue)
    return issues


@pytest.fixture(scope="module")
def normal_digits() -> list[tuple[str, str, np.ndarray]]:
    """40 real digits as (path, label name, 32x32 gray pixels)."""
    data = load_digits()
    return [
        (f"train/{label}/{i:04d}.png", str(label), render_digit(scan, 32))
        for i, (scan, label) in enumerate(
            zip(data.images[:40], data.target[:40], strict=True)
        )
    ]


@pytest.fixture(scope="module")
def defects() -> dict[str, np.ndarray]:
    """Defective versions of real digits (other scans than the normal
    ones), by path."""
    scans = load_digits().images
    digit = [render_digit(scan, 32).astype(np.float64) for scan in scans]
    return {
        "train/0/black.png": np.zeros((32, 32), np.uint8),
        "train/1/white.png": np.full((32, 32), 255, np.uint8),
        "val/5/blurred.png": ndimage.gaussian_filter(digit[45], sigma=3),
        "val/6/dark.png": digit[46] * 0.2,
        # Washed out: the background near white, the strokes lighter.
        "val/7/light.png": 255 - (255 - digit[47]) * 0.2,
        "val/8/wide.png": np.asarray(
            Image.fromarray(digit[48].astype(np.uint8)).resize((96, 32))
        ),
    }


@pytest.fixture(scope="module")
def mixed_issues(normal_digits, defects) -> dict[str, set[str]]:
    images = normal_digits + [
        (path, path.split("/")[1], np.round(pixels).astype(np.uint8))
        for path, pixels in defects.items()
    ]
    return issues_by_path(property_findings(raw_table(images), fence=FENCE))


def test_normal_digits_have_no_unusual_properties(normal_digits):
    assert property_findings(raw_table(normal_digits), fence=FENCE) == []


def test_no_normal_digit_is_flagged_among_the_defects(
    mixed_issues, normal_digits
):
    assert not set(mixed_issues) & {path for path, _, _ in normal_digits}


@pytest.mark.parametrize("path", ["train/0/black.png", "train/1/white.png"])
def test_images_of_one_gray_level_are_blank_only(mixed_issues, path):
    # Left out of the brightness fences: not also dark or light.
    assert mixed_issues[path] == {BLANK}


def test_blank_finding_says_why(normal_digits):
    black = ("train/0/black.png", "0", np.zeros((32, 32), np.uint8))
    table = raw_table([*normal_digits, black])
    [finding] = property_findings(table, fence=FENCE)
    assert finding.issue == BLANK
    assert finding.path == "train/0/black.png"
    assert finding.split == "train"
    assert finding.given_label == "0"
    assert finding.sha256 == table.sha256[-1]
    assert finding.detail == "shows nothing: contrast 0.0 of 255"


def test_a_strongly_blurred_digit_is_blurry(mixed_issues):
    assert mixed_issues["val/5/blurred.png"] == {BLURRY}


def test_a_much_darker_digit_is_dark(mixed_issues):
    assert DARK in mixed_issues["val/6/dark.png"]
    assert LIGHT not in mixed_issues["val/6/dark.png"]


def test_a_much_lighter_digit_is_light(mixed_issues):
    assert LIGHT in mixed_issues["val/7/light.png"]
    assert DARK not in mixed_issues["val/7/light.png"]


def test_a_wide_image_among_square_ones_is_odd_size(normal_digits, defects):
    wide = ("val/8/wide.png", "8", defects["val/8/wide.png"])
    findings = property_findings(
        raw_table([*normal_digits, wide]), fence=FENCE
    )
    # Stretched 3x, it may be blurry too; only it is odd in size.
    odd = [f for f in findings if f.issue == ODD_SIZE]
    assert [f.path for f in odd] == ["val/8/wide.png"]
    assert odd[0].detail == "96x32 pixels; most images are 32x32"
    assert {f.path for f in findings} == {"val/8/wide.png"}


def test_brightness_finding_names_value_and_median(normal_digits, defects):
    dark = ("val/6/dark.png", "6", defects["val/6/dark.png"].astype(np.uint8))
    table = raw_table([*normal_digits, dark])
    [finding] = [
        f for f in property_findings(table, fence=FENCE) if f.issue == DARK
    ]
    brightness = table.properties[features.BRIGHTNESS]
    assert finding.path == "val/6/dark.png"
    assert finding.detail == (
        f"brightness {brightness[-1]:.0f}, median {np.median(brightness):.0f}"
    )
    q1, q3 = np.percentile(brightness, [25, 75])
    assert finding.score == pytest.approx(
        (np.median(brightness) - brightness[-1]) / (q3 - q1), abs=1e-4
    )
    assert finding.score > FENCE


def tint(pixels: np.ndarray, i: int) -> np.ndarray:
    """A gray digit as an RGB image, coloured differently by `i`."""
    weights = [(1.0, 0.6, 0.3), (0.3, 1.0, 0.6), (0.6, 0.3, 1.0)][i % 3]
    return np.round(pixels[:, :, np.newaxis] * np.array(weights)).astype(
        np.uint8
    )


def test_grayscale_images_among_colour_ones_are_flagged(normal_digits):
    coloured = [
        (path, label, tint(pixels, i))
        for i, (path, label, pixels) in enumerate(normal_digits)
    ]
    gray = normal_digits[0][2]
    images = [
        *coloured,
        ("val/0/gray.png", "0", gray),  # one channel
        ("val/0/gray_rgb.png", "0", np.repeat(gray[:, :, None], 3, axis=2)),
    ]
    table = raw_table(images)
    assert table.channels.tolist() == [3] * 40 + [1, 3]
    findings = [
        f
        for f in property_findings(table, fence=FENCE)
        if f.issue == GRAYSCALE
    ]
    assert [f.path for f in findings] == [
        "val/0/gray.png",
        "val/0/gray_rgb.png",
    ]
    assert findings[0].detail == "grayscale; 95% of the images are in colour"


def test_an_all_grayscale_dataset_has_no_grayscale_findings(normal_digits):
    coloured = [
        (f"val/{label}/c{i}.png", label, tint(pixels, i))
        for i, (_, label, pixels) in enumerate(normal_digits[:5])
    ]
    table = raw_table(normal_digits + coloured)
    assert not [
        f
        for f in property_findings(table, fence=FENCE)
        if f.issue == GRAYSCALE
    ]


@pytest.fixture(scope="module")
def table_of_200() -> RawTable:
    data = load_digits()
    return raw_table(
        [
            (f"train/{label}/{i:04d}.png", str(label), render_digit(scan, 32))
            for i, (scan, label) in enumerate(
                zip(data.images[:200], data.target[:200], strict=True)
            )
        ]
    )


def test_an_embedding_far_from_a_tight_cluster_is_the_top_outlier(
    table_of_200,
):
    # 16 dimensions: cleanlab compares them by cosine distance, so the far
    # point points elsewhere, not just farther out.
    rng = np.random.default_rng(0)
    centre = np.abs(rng.normal(size=16)) + 0.5
    embeddings = centre + rng.normal(0, 0.05, size=(200, 16))
    embeddings[17] = np.abs(rng.normal(size=16)) * centre.max()
    findings = embedding_findings(table_of_200, embeddings, fence=FENCE)
    top = max(findings, key=lambda f: f.score)
    assert top.path == table_of_200.paths[17]
    assert top.issue == OUTLIER
    assert top.given_label == table_of_200.label_names[17]
    assert "x the median distance to nearest neighbours" in top.detail
    assert len(findings) <= 3  # the far point and at most 1% by chance


def test_a_far_point_in_two_dimensions_is_the_top_outlier(table_of_200):
    # Two dimensions: euclidean distance.
    rng = np.random.default_rng(1)
    embeddings = rng.normal(size=(200, 2))
    embeddings[42] = [30.0, 30.0]
    findings = embedding_findings(table_of_200, embeddings, fence=FENCE)
    top = max(findings, key=lambda f: f.score)
    assert top.path == table_of_200.paths[42]
    assert all(f.score < top.score / 3 for f in findings if f is not top)


@pytest.mark.parametrize("seed", range(5))
def test_a_homogeneous_cloud_has_almost_no_outliers(table_of_200, seed):
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(5.0, 1.0, size=(200, 16))
    findings = embedding_findings(table_of_200, embeddings, fence=FENCE)
    assert len(findings) <= 2  # at most 1% by chance


def test_embeddings_must_match_the_images(table_of_200):
    with pytest.raises(ValueError, match="199 embeddings for 200 images"):
        embedding_findings(table_of_200, np.ones((199, 16)), fence=FENCE)


def test_held_out_images_are_judged_against_their_own_split():
    """A model fit to train packs train images tightly; the looser val
    images are not outliers for that, only a val image far from val."""
    data = load_digits()
    images = [
        (f"{split}/{label}/{i:04d}.png", str(label), render_digit(scan, 32))
        for i, (scan, label) in enumerate(
            zip(data.images[:300], data.target[:300], strict=True)
        )
        for split in ["train" if i < 270 else "val"]
    ]
    table = raw_table(images)
    rng = np.random.default_rng(2)
    centre = np.abs(rng.normal(size=16)) + 0.5
    embeddings = centre + rng.normal(0, 0.02, size=(300, 16))
    embeddings[270:] = centre + rng.normal(0, 0.2, size=(30, 16))
    embeddings[285] = np.abs(rng.normal(size=16)) * centre.max()
    flagged = [
        f.path for f in embedding_findings(table, embeddings, fence=FENCE)
    ]
    assert table.paths[285] in flagged
    assert len([path for path in flagged if path.startswith("val/")]) <= 2
