"""Benchmark one automated iteration of the data-centric loop
(`make bench-loop`); results go in bench/RESULTS.md.

Each dataset runs in a fresh clone of this repository, with the same
commands a user types: a first run; `dcp fix` accepting the report's
suggestions from a minimum score (label issues, leaks, broken and blank
files); `dcp augment` to a budget; a second run; `dcp compare`.

- The embedded dataset: the fixed model's accuracy on the test split of
  the first run, for the model of each run (the same images, so the two
  figures are comparable).
- ../shared/datasets/dcai-roman (skipped if absent), copied into the
  clone: eval accuracy before and after, with fixes applied to train
  only, so the eval split is the same in both runs.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import dataclasses
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from tfx import v1 as tfx

from components.trained_model import (
    load_keras_model,
    predict,
    read_model_inputs,
)
from pipeline.run_results import latest_outputs

REPO = Path(__file__).resolve().parents[1]
DCAI_ROOT = REPO.parent / "shared" / "datasets" / "dcai-roman"
BIN = Path(sys.executable).parent


@dataclasses.dataclass(frozen=True)
class RunFigures:
    run_id: str
    metrics: dict
    seconds: float
    changes: str = ""  # what dcp fix and dcp augment printed before it


def sh(cwd: Path, log: Path, *command: str) -> str:
    """Run a command as a user would, its output appended to `log`."""
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    started = time.strftime("%H:%M:%S")
    print(f"[{started}] {' '.join(command)}", flush=True)
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True
    )
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        raise SystemExit(
            f"`{' '.join(command)}` failed in {cwd}; see {log}:\n"
            + result.stderr[-3000:]
        )
    return result.stdout


def clone(workdir: Path, name: str, params: dict) -> Path:
    """A fresh clone of this repository's HEAD with `params` merged
    into its params.yaml (committed, as a user would)."""
    project = workdir / name
    if project.exists():
        shutil.rmtree(project)
    subprocess.run(
        ["git", "clone", "--quiet", str(REPO), str(project)], check=True
    )
    for key, value in (
        ("user.email", "bench@example.com"),
        ("user.name", "bench"),
    ):
        subprocess.run(["git", "config", key, value], cwd=project, check=True)
    document = yaml.safe_load((project / "params.yaml").read_text())
    for section, values in params.items():
        document[section].update(values)
    (project / "params.yaml").write_text(
        yaml.safe_dump(document, sort_keys=False)
    )
    return project


def run_figures(
    project: Path, name: str, seconds: float, changes: str = ""
) -> RunFigures:
    return RunFigures(
        run_id=_run_id(project, name),
        metrics=json.loads((project / "metrics.json").read_text()),
        changes=changes,
        seconds=seconds,
    )


def run_model(
    project: Path, name: str, run_id: str
) -> tuple[str, dict[str, str]]:
    """The run's Trainer model and Transform output folders by split;
    MLMD may hold them relative to the project folder."""
    outputs = latest_outputs(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(project / "outputs" / "metadata.sqlite")
        ),
        name,
        run_id,
    )
    transformed = project / outputs[("Transform", "transformed_examples")].uri
    return str(project / outputs[("Trainer", "model")].uri), {
        folder.name.removeprefix("Split-"): str(folder)
        for folder in sorted(transformed.glob("Split-*"))
    }


def _run_id(project: Path, name: str) -> str:
    from ml_metadata import metadata_store

    store = metadata_store.MetadataStore(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(project / "outputs" / "metadata.sqlite")
        )
    )
    runs = [
        context
        for context in store.get_contexts_by_type("pipeline_run")
        if any(
            parent.name == name
            for parent in store.get_parent_contexts_by_context(context.id)
        )
    ]
    return max(runs, key=lambda c: c.create_time_since_epoch).name


def accuracy(model_uri: str, split_dir: str) -> tuple[float, int]:
    """The model's accuracy on the transformed examples of `split_dir`."""
    model = load_keras_model(model_uri)
    table = read_model_inputs(model, [split_dir])
    predicted = predict(model, table.images).argmax(axis=1)
    return float(np.mean(predicted == table.labels)), len(table)


def _resumed(workdir: Path, name: str, resume: bool) -> RunFigures | None:
    """The first run of an earlier invocation, with --resume."""
    state = workdir / f"{name}-run.json"
    if not (resume and state.exists()):
        return None
    print(f"Resuming after the run recorded in {state}")
    return RunFigures(**json.loads(state.read_text()))


def _saved(workdir: Path, name: str, figures: RunFigures) -> RunFigures:
    state = workdir / f"{name}-run.json"
    state.write_text(json.dumps(dataclasses.asdict(figures), indent=2))
    return figures


def timed_run(project: Path, log: Path, *command: str) -> float:
    start = time.perf_counter()
    sh(project, log, *command)
    return time.perf_counter() - start


def commit_run(project: Path, log: Path, message: str) -> None:
    sh(project, log, "git", "add", "dvc.lock", "metrics.json", "plots")
    sh(
        project,
        log,
        "git",
        "commit",
        "--quiet",
        "--no-verify",
        "--allow-empty",
        "-m",
        message,
    )


def loop_embedded(
    workdir: Path,
    *,
    budget: int,
    min_confidence: float,
    resume: bool,
    first_only: bool,
) -> dict:
    log = workdir / "embedded.log"
    first = _resumed(workdir, "embedded-first", resume)
    project = workdir / "embedded"
    if first is None:
        project = clone(workdir, "embedded", {})
        first_seconds = timed_run(project, log, "dvc", "repro")
        commit_run(project, log, "Run on the embedded dataset as prepared")
        first = _saved(
            workdir,
            "embedded-first",
            run_figures(project, "digits", first_seconds),
        )
    if first_only:
        return {"dataset": "embedded", "first_run": dataclasses.asdict(first)}
    second = _resumed(workdir, "embedded-second", resume)
    if second is None:
        changes = sh(
            project,
            log,
            "dcp",
            "fix",
            "outputs/report/issues.csv",
            "--accept-suggestions",
            "--min-confidence",
            str(min_confidence),
        )
        changes += sh(project, log, "dcp", "augment", "--budget", str(budget))
        second_seconds = timed_run(project, log, "dvc", "repro")
        commit_run(project, log, "Run on the fixed and augmented data")
        second = _saved(
            workdir,
            "embedded-second",
            run_figures(project, "digits", second_seconds, changes),
        )
    compare = sh(project, log, "dcp", "compare", first.run_id, second.run_id)
    # Both models on the first run's test split: the same images.
    first_model, first_splits = run_model(project, "digits", first.run_id)
    second_model, _ = run_model(project, "digits", second.run_id)
    before, examples = accuracy(first_model, first_splits["test"])
    after, _ = accuracy(second_model, first_splits["test"])
    return {
        "dataset": "embedded",
        "test_examples": examples,
        "test_accuracy": {"before": before, "after": after},
        "eval_accuracy": {
            "before": first.metrics["accuracy"],
            "after": second.metrics["accuracy"],
        },
        "eval_examples": {
            "before": first.metrics["eval_examples"],
            "after": second.metrics["eval_examples"],
        },
        "tflite": {
            "before": first.metrics["tflite"],
            "after": second.metrics["tflite"],
        },
        "seconds": {"first_run": first.seconds, "second_run": second.seconds},
        "changes": second.changes.strip(),
        "compare": compare.strip(),
        "project": str(project),
    }


def loop_dcai(
    workdir: Path,
    *,
    budget: int,
    min_confidence: float,
    epochs: int,
    resume: bool,
    first_only: bool,
) -> dict:
    log = workdir / "dcai.log"
    first = _resumed(workdir, "dcai-first", resume)
    project = workdir / "dcai"
    if first is None:
        project = clone(
            workdir,
            "dcai",
            {
                "trainer": {"epochs": epochs},
                "pipeline": {"name": "dcai-roman"},
            },
        )
        data = project / "data" / "dcai-roman"
        shutil.copytree(DCAI_ROOT, data)
        sh(project, log, "dvc", "add", "--quiet", "data/dcai-roman")
        sh(
            project,
            log,
            "git",
            "add",
            "data/dcai-roman.dvc",
            "data/.gitignore",
            "params.yaml",
        )
        sh(
            project,
            log,
            "git",
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            "dcai-roman as given",
        )
        first_seconds = timed_run(
            project, log, "dcp", "run", "--data", "data/dcai-roman"
        )
        first = _saved(
            workdir,
            "dcai-first",
            run_figures(project, "dcai-roman", first_seconds),
        )
    if first_only:
        return {
            "dataset": "dcai-roman",
            "first_run": dataclasses.asdict(first),
        }
    second = _resumed(workdir, "dcai-second", resume)
    if second is None:
        changes = sh(
            project,
            log,
            "dcp",
            "fix",
            "outputs/report/issues.csv",
            "--data",
            "data/dcai-roman",
            "--accept-suggestions",
            "--min-confidence",
            str(min_confidence),
            "--splits",
            "train",
        )
        changes += sh(
            project,
            log,
            "dcp",
            "augment",
            "--data",
            "data/dcai-roman",
            "--budget",
            str(budget),
        )
        second_seconds = timed_run(
            project, log, "dcp", "run", "--data", "data/dcai-roman"
        )
        second = _saved(
            workdir,
            "dcai-second",
            run_figures(project, "dcai-roman", second_seconds, changes),
        )
    compare = sh(
        project,
        log,
        "dcp",
        "compare",
        first.run_id,
        second.run_id,
        "--name",
        "dcai-roman",
        "--data-root",
        "data/external/dcai-roman/tfrecords",
    )
    first_model, first_splits = run_model(project, "dcai-roman", first.run_id)
    second_model, second_splits = run_model(
        project, "dcai-roman", second.run_id
    )
    before, examples = accuracy(first_model, first_splits["eval"])
    after, after_examples = accuracy(second_model, second_splits["eval"])
    if examples != after_examples:
        raise SystemExit(
            f"the eval split changed ({examples} → {after_examples} images)"
        )
    return {
        "dataset": "dcai-roman",
        "epochs": epochs,
        "eval_examples": examples,
        "eval_accuracy": {"before": before, "after": after},
        "tflite": {
            "before": first.metrics["tflite"],
            "after": second.metrics["tflite"],
        },
        "seconds": {"first_run": first.seconds, "second_run": second.seconds},
        "changes": second.changes.strip(),
        "compare": compare.strip(),
        "project": str(project),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--datasets", default="embedded,dcai", help="embedded, dcai or both"
    )
    parser.add_argument("--min-confidence", type=float, default=0.9)
    parser.add_argument("--embedded-budget", type=int, default=3000)
    parser.add_argument("--dcai-budget", type=int, default=4000)
    parser.add_argument("--dcai-epochs", type=int, default=30)
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "dcp-bench-loop",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="reuse the first runs of an earlier invocation in --workdir",
    )
    parser.add_argument(
        "--first-runs-only",
        action="store_true",
        help="stop after the first runs; continue later with --resume",
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = []
    datasets = args.datasets.split(",")
    if "embedded" in datasets:
        results.append(
            loop_embedded(
                args.workdir,
                budget=args.embedded_budget,
                min_confidence=args.min_confidence,
                resume=args.resume,
                first_only=args.first_runs_only,
            )
        )
    if "dcai" in datasets:
        if DCAI_ROOT.is_dir():
            results.append(
                loop_dcai(
                    args.workdir,
                    budget=args.dcai_budget,
                    min_confidence=args.min_confidence,
                    epochs=args.dcai_epochs,
                    resume=args.resume,
                    first_only=args.first_runs_only,
                )
            )
        else:
            print(f"{DCAI_ROOT} is absent: dcai-roman skipped")
    machine = f"{platform.node()}, {os.cpu_count()} cores"
    output = args.workdir / "results.json"
    output.write_text(
        json.dumps({"machine": machine, "results": results}, indent=2)
    )
    for result in results:
        print(json.dumps(result, indent=2))
    print(f"Results: {output}")


if __name__ == "__main__":
    main()
