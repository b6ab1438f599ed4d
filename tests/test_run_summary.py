"""The end-of-run summary repeats every warning that limits what the run
could judge, where the user looks: what the ETL left out and what the
analyses could not judge."""

import numpy as np
from PIL import Image

from core.dataset.etl.etl import run_etl
from core.findings.quality_artifacts import NOTES_FILE
from pipeline.run_report import format_summary
from pipeline.run_results import RunResults, run_warnings
from tasks.classification.label_issues.folds import plan_folds

IN_PROCESS_BEAM = ["--runner=DirectRunner", "--direct_num_workers=1"]


def results(warnings: tuple[str, ...]) -> RunResults:
    return RunResults(
        run_id="r1",
        accuracy=0.9,
        eval_examples=10,
        per_class_accuracy={"i": 1.0, "iv": 0.5},
        slices=(),
        confusion={},
        blessed=True,
        tflite={
            "int8_bytes": 2048,
            "int8_accuracy": 0.9,
            "float32_bytes": 4096,
            "float32_accuracy": 0.9,
        },
        anomalies={},
        findings={},
        artifacts={"model": "m", "evaluation": "e", "tflite": "t"},
        warnings=warnings,
    )


def summary_of(warnings: tuple[str, ...]) -> list[str]:
    return format_summary(
        results(warnings), metrics_file="m", report_file="r", issues_file="i"
    ).splitlines()


def test_the_summary_lists_each_warning_once_in_a_block():
    small = "label issues: class iv has 1 image(s), too few to judge"
    left_out = "ETL: test/: no such folder; the split is left out"
    lines = summary_of((left_out, small, left_out))
    block = lines.index("  warnings:")
    assert lines[block + 1 : block + 3] == [f"    {left_out}", f"    {small}"]
    assert sum(left_out in line for line in lines) == 1
    # Before the paths of the run's outputs, after what it found.
    assert block < lines.index("  run: r1 (for dcp compare)")


def test_a_run_without_warnings_has_no_block():
    assert not any("warning" in line for line in summary_of(()))


def write_png(path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8), value, np.uint8)).save(path)


def test_the_etl_and_analysis_warnings_of_a_run_are_gathered(tmp_path):
    """A real ETL output with a split left out and a bad file, and the
    label-issue notes of a class too small to judge."""
    data = tmp_path / "images"
    for n in range(4):
        write_png(data / "train" / "i" / f"{n}.png", 40 * n)
        write_png(data / "val" / "i" / f"{n}.png", 30 * n)
    write_png(data / "train" / "iv" / "0.png", 200)
    (data / "train" / "iv" / "broken.png").write_text("not a picture\n")
    output = tmp_path / "tfrecords"
    run_etl(
        str(data),
        str(output),
        splits=("train", "val", "test"),
        on_bad_file="skip",
        images_per_shard=100,
        parallel_from_images=10_000,
        beam_args=IN_PROCESS_BEAM,
    )
    plan = plan_folds(np.array([0, 0, 0, 0, 1]), ["i", "iv"], folds=3, seed=0)
    label_issues = tmp_path / "label_issues"
    label_issues.mkdir()
    # As tasks/classification/label_issues/analysis.py writes them.
    (label_issues / NOTES_FILE).write_text(
        "".join(f"label issues: {note}\n" for note in plan.notes)
    )
    uris = {("LabelIssues", "label_issues"): str(label_issues)}

    warnings = run_warnings(uris, str(output))

    assert "ETL: test/: no such folder; the split is left out" in warnings
    assert (
        "ETL: 1 bad file(s) quarantined, not converted; see"
        f" {output}/quarantine.csv" in warnings
    )
    assert any(
        w.startswith("label issues: class iv has 1 image(s), too few")
        for w in warnings
    )
    assert len(set(warnings)) == len(warnings)
