"""What `dcp` says when it is interrupted or its file system fails: one
line naming what and how to fix it, never a traceback."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dcp.user_errors import UNCHANGED_WHEN_INTERRUPTED
from tests.conftest import REPO
from tests.test_cli import dcp


def image_folder(root: Path, images: int) -> Path:
    rng = np.random.default_rng(0)
    for n in range(images):
        split = ("train", "val", "test")[n % 3]
        folder = root / split / str(n % 10)
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 255, (16, 16), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{n}.png")
    return root


def interrupted(args: list[str], after: str, delay: float):
    """Run dcp in its own process group and send the group SIGINT, as a
    terminal's Ctrl-C does, `delay` s after `after` appears on stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dcp.cli", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen = threading.Event()
    lines: list[str] = []

    def read() -> None:
        for line in process.stderr:
            lines.append(line)
            if after in line:
                seen.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert seen.wait(120), "".join(lines)
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGINT)
    process.wait(120)
    reader.join()
    return process.returncode, "".join(lines)


def test_ctrl_c_during_the_etl_is_one_line_and_publishes_nothing(tmp_path):
    data = image_folder(tmp_path / "images", 2000)
    output = tmp_path / "out"
    code, stderr = interrupted(
        ["etl", f"--data={data}", f"--output={output}"],
        after="image files in",
        delay=1.0,
    )
    assert code == 130
    assert stderr.splitlines()[-1] == (
        "dcp etl: interrupted; the output folder is as it was"
    )
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) == 2  # the ETL's start, and that line
    assert not output.exists()


def test_every_command_says_what_an_interruption_left_unchanged():
    help_text = dcp("--help").stdout.split("commands:")[1]
    commands = {
        line.split()[0]
        for line in help_text.splitlines()
        if line.startswith("  ") and not line.startswith("    ")
    }
    known = {name.split()[0] for name in UNCHANGED_WHEN_INTERRUPTED}
    assert len(commands) > 10 and commands <= known, commands - known


@pytest.fixture
def mounted(tmp_path):
    """A tmpfs mounted with `options` under tmp_path; skipped where this
    user may not mount."""
    mounts = []

    def mount(options: str) -> Path:
        place = tmp_path / f"mount{len(mounts)}"
        place.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(place)],
            capture_output=True,
        )
        if done.returncode != 0 or shutil.which("mount") is None:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
        mounts.append(place)
        return place

    yield mount
    for place in mounts:
        subprocess.run(["umount", str(place)], check=False)


def test_a_full_disk_is_one_line_with_the_fix(mounted):
    full = mounted("size=64k")
    result = dcp("prepare", f"--output={full / 'digits'}")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "dcp prepare: error: No space left on device while writing; free"
        " space on its disk, or give a place on another one"
    ]


def test_a_full_disk_under_beam_is_one_line_with_the_fix(mounted, tmp_path):
    data = image_folder(tmp_path / "images", 300)
    full = mounted("size=16k")
    result = dcp("etl", f"--data={data}", f"--output={full / 'out'}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "dcp etl: error: No space left on device while writing; free"
        " space on its disk, or give a place on another one"
    )


@pytest.mark.parametrize(
    "make, reason, fix",
    [
        (
            lambda tmp_path, mounted: mounted("ro,size=64k"),
            "Read-only file system",
            "give a place on a writable file system",
        ),
        (
            lambda tmp_path, mounted: immutable(tmp_path / "locked"),
            "Operation not permitted",
            "give a place you may write to, or change its permissions",
        ),
    ],
    ids=["read-only", "permission"],
)
def test_a_place_that_cannot_be_written_is_one_line_naming_it(
    tmp_path, mounted, make, reason, fix
):
    """kubeflow compile writes its spec with TensorFlow's file system."""
    place = make(tmp_path, mounted)
    spec = place / "spec.json"
    data_root = tmp_path / "tfrecords"
    data_root.mkdir()
    (data_root / "classes.json").write_text('["a", "b"]')
    for split in ("train", "val"):
        (data_root / split).mkdir()
    result = dcp(
        "kubeflow",
        "compile",
        "--image=dcp:1",
        f"--output={spec}",
        f"--data-root={data_root}",
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"dcp kubeflow compile: error: {spec}: {reason}; {fix}"
    ]


def immutable(folder: Path) -> Path:
    """A folder even root cannot write into (chattr +i)."""
    folder.mkdir()
    done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not permitted here: {done.stderr!r}")
    return folder


@pytest.fixture(autouse=True)
def _unlock(tmp_path):
    yield
    locked = tmp_path / "locked"
    if locked.exists():
        subprocess.run(["chattr", "-i", str(locked)], check=False)


@pytest.mark.parametrize(
    "raised",
    [
        'KeyError("a bug")',
        'RuntimeError("a bug")',
        # A file error that names no file may be a bug of dcp's own.
        'OSError(errno.EACCES, "Permission denied")',
    ],
)
def test_a_bug_keeps_its_traceback(raised):
    """Only the file system's failures become one line."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import errno, sys\n"
            "import dcp.cli\n"
            "def broken(*args):\n"
            f"    raise {raised}\n"
            "dcp.cli._prepare = broken\n"
            "sys.exit(dcp.cli.main(['prepare']))\n",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    last = result.stderr.splitlines()[-1]
    assert "a bug" in last or "Permission denied" in last
