"""Nothing the user gave is ever destroyed: every command that writes a
folder refuses its input, a file, a folder of someone else's and a place
it cannot write, with a one-line error, and reruns into its own output."""

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from core.dataset.embedded.digits import (
    DefectCounts,
    write_embedded_dataset,
)
from core.dataset.etl import etl as etl_module
from core.dataset.etl.etl import run_etl
from core.dataset.staged_output import (
    MARKER_FILE,
    OutputFolderError,
    make_output_folder,
    mark_folder,
)
from dcp import cli
from dcp.kubeflow_local import run_local
from iteration.comparison import compare_job
from iteration.new_data.shift_job import detect_shift
from pipeline.run_report import publish_report
from prediction.predict_job import predict_files
from tasks.classification.task import TASK
from tests.conftest import IN_PROCESS_BEAM, REPO, dcp, save

FAST_BEAM = ["--", *IN_PROCESS_BEAM]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` (itself too, if a file) and its bytes."""
    if folder.is_file():
        return {folder.name: folder.read_bytes()}
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def images(tmp_path, digit_images) -> Path:
    """A tiny image folder: two classes in train and val."""
    root = tmp_path / "images"
    for n in range(8):
        split = "val" if n < 2 else "train"
        save(
            root / split / str(n % 2) / f"{n}.png",
            Image.fromarray(digit_images[n]),
        )
    return root


def etl(data: Path, output: Path):
    return run_etl(
        str(data),
        str(output),
        splits=("train", "val"),
        on_bad_file="skip",
        images_per_shard=100,
        parallel_from_images=10_000,
        beam_args=IN_PROCESS_BEAM,
    )


def beam_never_runs(*args, **kwargs):
    raise AssertionError("the Beam run started")


def assert_one_line_error(result: subprocess.CompletedProcess, start: str):
    assert result.returncode == 2
    assert result.stderr.startswith(start), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # no traceback


# The ETL, which replaces its output as a whole.


def test_etl_output_equal_to_data_keeps_every_image(images):
    before = snapshot(images)

    result = dcp(
        *("--params", str(REPO / "params.yaml"), "etl"),
        *(f"--data={images}", f"--output={images}", "--splits=train,val"),
        *FAST_BEAM,
    )

    assert_one_line_error(
        result, f"dcp etl: error: {images}: is the input {images}"
    )
    assert "give --output a folder outside it" in result.stderr
    assert snapshot(images) == before
    assert sorted(p.name for p in images.parent.iterdir()) == ["images"]


@pytest.mark.parametrize(
    "output, where",
    [
        ("images/tfrecords", "lies inside the input"),
        (".", "contains the input"),
        ("images/../images/", "is the input"),
    ],
)
def test_etl_output_overlapping_the_data_is_refused(
    images, tmp_path, output, where
):
    before = snapshot(tmp_path)

    with pytest.raises(OutputFolderError, match=where):
        etl(images, tmp_path / output)

    assert snapshot(tmp_path) == before


def test_etl_output_an_existing_file_is_refused(images, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")

    with pytest.raises(
        OutputFolderError,
        match=re.escape(
            "notes.txt: is a file, not a folder, and is left as it is;"
            " give --output another path, or remove the file yourself"
        ),
    ):
        etl(images, notes)

    assert notes.read_text() == "my notes\n"


def test_etl_output_a_folder_of_the_users_is_refused(images, tmp_path):
    mine = tmp_path / "photos"
    (mine / "2024").mkdir(parents=True)
    (mine / "2024" / "beach.jpg").write_bytes(b"precious")
    (mine / "summary.json").write_text("{}")  # looks like an ETL output
    before = snapshot(mine)

    with pytest.raises(
        OutputFolderError,
        match=r"photos: exists and was not written by `dcp etl`.*give"
        r" --output another folder, or remove it yourself",
    ):
        etl(images, mine)

    assert snapshot(mine) == before


def test_etl_reruns_into_an_empty_folder_then_its_own_output(images, tmp_path):
    output = tmp_path / "out"
    output.mkdir()

    etl(images, output)
    marker = json.loads((output / MARKER_FILE).read_text())
    (output / "train" / "stale.txt").write_text("from the first run\n")
    etl(images, output)

    assert marker == {"output_of": "dcp etl"}
    assert not (output / "train" / "stale.txt").exists()  # replaced
    assert (output / "manifest.csv").is_file()


def test_etl_removes_only_its_own_leftovers(images, tmp_path):
    # Named like a leftover of a killed run, but the user's.
    mine = tmp_path / ".out.backup-2024"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine\n")
    (tmp_path / ".out.notes-1").write_text("mine too\n")
    # A killed run's staging folder: marked first thing.
    killed = tmp_path / ".out.staging-0123"
    mark_folder(str(killed), kind="dcp etl", output="out", option="--output")
    (killed / "half.tfrecord.gz").write_bytes(b"half")

    etl(images, tmp_path / "out")

    assert (mine / "keep.txt").read_text() == "mine\n"
    assert (tmp_path / ".out.notes-1").read_text() == "mine too\n"
    assert not killed.exists()


def test_etl_output_under_a_file_is_a_one_line_error(
    images, tmp_path, capsys, monkeypatch
):
    (tmp_path / "a-file").write_text("not a folder\n")
    output = tmp_path / "a-file" / "out"
    monkeypatch.setattr(etl_module, "run_beam_etl", beam_never_runs)

    status = cli.main(
        [
            *("--params", str(REPO / "params.yaml"), "etl"),
            *(f"--data={images}", f"--output={output}", "--splits=train,val"),
        ]
    )

    assert status == 2
    error = capsys.readouterr().err
    assert error.endswith(
        f"dcp etl: error: {output}: cannot be written ({output.parent} is"
        " not a directory); give --output a folder you can write to\n"
    )
    assert "Traceback" not in error
    assert (tmp_path / "a-file").read_text() == "not a folder\n"


def test_etl_output_on_a_read_only_filesystem_is_refused(images):
    # chmod does not stop root; sysfs refuses new folders even to root.
    output = Path("/sys") / "dcp-test-output"
    try:
        output.mkdir()
    except OSError:
        pass
    else:
        output.rmdir()
        pytest.skip("/sys takes new folders here")

    with pytest.raises(OutputFolderError, match="sys/dcp-test-output: cannot"):
        etl(images, output)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes past chmod")
def test_etl_output_in_a_read_only_folder_is_refused(images, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputFolderError, match="locked/out: cannot"):
            etl(images, locked / "out")
    finally:
        locked.chmod(0o700)


# The other commands.


def test_prepare_writes_into_an_empty_folder_and_refuses_another_output(
    tmp_path,
):
    def prepare(output: Path) -> dict:
        return write_embedded_dataset(
            output,
            seed=7,
            image_size=8,
            val_fraction=0.15,
            test_fraction=0.15,
            unlabeled_fraction=0.1,
            defects=DefectCounts(0.05, 1, 1, 1, 1, 1),
        )

    raw = tmp_path / "raw"
    raw.mkdir()
    prepare(raw)
    prepare(raw)
    etl_output = tmp_path / "tfrecords"
    make_output_folder(etl_output, kind="dcp etl")
    (etl_output / "classes.json").write_text("[]")

    with pytest.raises(
        OutputFolderError,
        match=re.escape(
            "not written by `dcp prepare` (it is an output of `dcp etl`)"
        ),
    ):
        prepare(etl_output)

    assert (raw / "defects.json").is_file()
    assert (etl_output / "classes.json").read_text() == "[]"


def test_the_report_goes_into_its_own_folder_only(tmp_path):
    run_report = tmp_path / "run" / "report"
    run_report.mkdir(parents=True)
    (run_report / "report.html").write_text("<p>the run's</p>")
    (run_report / "issues.csv").write_text("path\n")
    published = tmp_path / "report"

    publish_report(str(run_report), str(published))
    publish_report(str(run_report), str(published))  # the next run's
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text("<p>my own</p>")

    with pytest.raises(
        OutputFolderError,
        match=re.escape("give quality.report in params.yaml another folder"),
    ):
        publish_report(str(run_report), str(mine))

    assert (published / "report.html").read_text() == "<p>the run's</p>"
    assert (mine / "report.html").read_text() == "<p>my own</p>"


@pytest.mark.parametrize("command", ["pipeline", "run"])
def test_a_run_refuses_a_users_report_folder_before_any_work(
    command, images, tmp_path, capsys
):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["quality"]["report"] = "mine"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("my own\n")

    status = cli.main(
        ["--params", str(tmp_path / "params.yaml"), command]
        + ([f"--data={images}"] if command == "run" else [])
    )

    assert status == 2
    assert capsys.readouterr().err.startswith(
        f"dcp {command}: error: {tmp_path / 'mine'}: exists and was not"
        " written by `dcp report`"
    )
    assert not (tmp_path / "data").exists()  # no ETL output, no run
    assert (tmp_path / "mine" / "notes.txt").read_text() == "my own\n"


def test_compare_writes_into_its_own_folder_only(tmp_path):
    output = tmp_path / "compare"
    make_output_folder(output, kind=compare_job.OUTPUT_KIND)
    (output / compare_job.HTML_FILE).write_text("<p>earlier</p>")
    make_output_folder(output, kind=compare_job.OUTPUT_KIND)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / compare_job.HTML_FILE).write_text("<p>my own</p>")

    with pytest.raises(
        OutputFolderError, match="not written by `dcp compare`"
    ):
        make_output_folder(mine, kind=compare_job.OUTPUT_KIND)

    assert (mine / compare_job.HTML_FILE).read_text() == "<p>my own</p>"


@pytest.mark.parametrize("inside", ["new", "candidates"])
def test_shift_output_inside_its_images_is_refused(tmp_path, inside):
    new, candidates = tmp_path / "new", tmp_path / "candidates"
    for folder in (new, candidates):
        folder.mkdir()
        (folder / "1.png").write_bytes(b"an image")
    before = snapshot(tmp_path)

    with pytest.raises(OutputFolderError, match="lies inside the input"):
        detect_shift(
            new,
            run=None,  # refused before the run is read
            candidates_folder=candidates,
            output_dir=tmp_path / inside / "shift",
            settings=None,
        )

    assert snapshot(tmp_path) == before


class ConstantModel:
    def predict(self, examples: list[bytes]) -> np.ndarray:
        return np.tile([0.9, 0.1], (len(examples), 1))


def test_predict_output_inside_its_inputs_is_refused(images, tmp_path):
    before = snapshot(images)

    with pytest.raises(OutputFolderError, match="lies inside the input"):
        predict_files(
            [images], ConstantModel(), ["0", "1"], images / "out", task=TASK
        )

    assert snapshot(images) == before
    output = tmp_path / "predict"
    for _ in range(2):  # a rerun into its own output
        summary = predict_files(
            [images], ConstantModel(), ["0", "1"], output, task=TASK
        )
    assert summary.images == 8


def test_kubeflow_run_local_uses_its_own_pipeline_root_only(tmp_path):
    spec = tmp_path / "empty.json"
    spec.write_text(
        json.dumps(
            {
                "pipelineSpec": {
                    "pipelineInfo": {"name": "digits"},
                    "deploymentSpec": {"executors": {}},
                    "root": {"dag": {"tasks": {}}},
                }
            }
        )
    )
    root = tmp_path / "kfp"
    run_local(str(spec), str(root), progress=print)
    run_local(str(spec), str(root), progress=print)

    with pytest.raises(
        OutputFolderError,
        match=r"not written by `dcp kubeflow run-local`.*give"
        r" --pipeline-root another folder",
    ):
        run_local(str(spec), str(tmp_path), progress=print)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.json", "kfp"]
