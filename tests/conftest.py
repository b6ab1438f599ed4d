"""Shared fixtures: real images to test on and a fast Beam runner."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits, load_sample_image

REPO = Path(__file__).resolve().parents[1]
DCAI_ROOT = REPO.parent / "shared" / "datasets" / "dcai-roman"

# Single-process Beam: small test data runs faster without worker start-up.
IN_PROCESS_BEAM = ("--runner=DirectRunner", "--direct_running_mode=in_memory")


def dcp(*args: str) -> subprocess.CompletedProcess:
    """The `dcp` command line, run as a user runs it, from the project."""
    return subprocess.run(
        [sys.executable, "-m", "dcp.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real RGB photograph (scikit-learn's china.jpg), 427x640x3."""
    return load_sample_image("china.jpg")


@pytest.fixture(scope="session")
def digit_images() -> list[np.ndarray]:
    """Real hand-written digit scans as 32x32 uint8 gray images."""
    from core.dataset.embedded.digits import render_digit

    return [render_digit(scan, 32) for scan in load_digits().images[:40]]


@pytest.fixture
def dcai_root() -> Path:
    if not DCAI_ROOT.is_dir():
        pytest.skip(f"{DCAI_ROOT} is absent")
    return DCAI_ROOT


def write_embedded_tfrecords(root: Path) -> dict:
    """The embedded dataset as params.yaml prepares it, in root/raw, and
    its ETL output in root/tfrecords; returns the defects' answer key."""
    from core.dataset.embedded.digits import write_embedded_dataset
    from core.dataset.etl.etl import run_etl
    from dcp.config import load_config

    prepare = load_config(REPO / "params.yaml").prepare
    key = write_embedded_dataset(
        root / "raw",
        seed=prepare.seed,
        image_size=prepare.image_size,
        val_fraction=prepare.val_fraction,
        test_fraction=prepare.test_fraction,
        unlabeled_fraction=prepare.unlabeled_fraction,
        defects=prepare.defects,
    )
    run_etl(
        str(root / "raw"),
        str(root / "tfrecords"),
        splits=("train", "val", "test"),
        on_bad_file="skip",
        images_per_shard=2000,
        parallel_from_images=10_000,
        beam_args=IN_PROCESS_BEAM,
    )
    return key


def save(path: Path, image: Image.Image, **options: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path
