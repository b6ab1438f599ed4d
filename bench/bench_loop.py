"""Benchmark what one automated iteration of the data-centric loop does
to the fixed model's accuracy on a test split the loop never touches,
over several training seeds (`make bench-loop`); results go in
bench/RESULTS.md.

Each dataset runs in a fresh clone of this repository, with the commands
a user types: a first run; then one automated iteration, `dcp fix
--accept-suggestions` at the configured confidence (label issues, leaks,
broken and blank files; train and val only) and `dcp augment` to a
budget. The fixed model is then trained on the data before and after the
iteration, once per seed, as the Trainer does (best epoch by val
accuracy, the same epochs everywhere), and every model is scored on the
same test images.

- The embedded dataset: its own test split.
- ../shared/datasets/dcai-roman (skipped if absent): its train and val
  copied into the clone, then half of each class of val moved to test/,
  drawn by `carve_test` with a fixed seed (the same images every run).
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
import tensorflow as tf
import yaml
from training_run import train_fixed_model

from core.dataset.etl.etl import run_etl
from core.readers.example_tables import read_raw, split_of
from dcp.config import load_config
from models.preprocessing import decode_and_resize
from models.registry import get_model_spec

REPO = Path(__file__).resolve().parents[1]
DCAI_ROOT = REPO.parent / "shared" / "datasets" / "dcai-roman"
BIN = Path(sys.executable).parent
SPLITS = ("train", "val", "test")
MODEL = load_config(REPO / "params.yaml").trainer.model


@dataclasses.dataclass(frozen=True)
class Dataset:
    """One data version as the Trainer sees it."""

    images: np.ndarray  # the fixed model's inputs
    labels: np.ndarray
    split: np.ndarray  # "train", "val" or "test" per image
    class_names: list[str]
    test_sha256: list[str]  # sorted: the test split's identity


def sh(cwd: Path, log: Path, *command: str) -> str:
    """Run a command as a user would, its output appended to `log`."""
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    print(f"[{time.strftime('%H:%M:%S')}] {' '.join(command)}", flush=True)
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
    subprocess.run(
        ["git", "commit", "--quiet", "--no-verify", "-am", "bench params"],
        cwd=project,
        check=True,
    )
    return project


def carve_test(data: Path, fraction: float, seed: int) -> int:
    """Move `fraction` of each class folder of `data/val` to
    `data/test`, chosen by a seeded draw over the sorted file names;
    returns how many moved."""
    rng = np.random.default_rng(seed)
    moved = 0
    for class_dir in sorted((data / "val").iterdir()):
        files = sorted(path for path in class_dir.iterdir() if path.is_file())
        chosen = rng.permutation(len(files))[: round(len(files) * fraction)]
        target = data / "test" / class_dir.name
        target.mkdir(parents=True)
        for index in sorted(chosen):
            files[index].rename(target / files[index].name)
        moved += len(chosen)
    return moved


def read_dataset(data: Path, image_size: int, channels: int) -> Dataset:
    """The image folder through the ETL, as the fixed model's inputs."""
    config = load_config(REPO / "params.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        run_etl(
            str(data),
            tmp,
            splits=SPLITS,
            on_bad_file="skip",
            images_per_shard=config.etl.images_per_shard,
            parallel_from_images=config.etl.parallel_from_images,
        )
        table = read_raw([os.path.join(tmp, split) for split in SPLITS])
    split = np.array([split_of(path) for path in table.paths])
    names = dict(zip(table.labels.tolist(), table.label_names, strict=True))
    return Dataset(
        images=decode_and_resize(
            tf.constant(table.pngs), image_size, channels
        ).numpy(),
        labels=table.labels,
        split=split,
        class_names=[names[i] for i in sorted(names)],
        test_sha256=sorted(
            sha
            for sha, s in zip(table.sha256, split, strict=True)
            if s == "test"
        ),
    )


def test_accuracy(dataset: Dataset, seed: int, epochs: int) -> float:
    """The fixed model trained on `dataset` with `seed`, scored on its
    test split."""
    spec = dataclasses.replace(get_model_spec(MODEL), seed=seed)
    model = train_fixed_model(
        dataset.images, dataset.labels, dataset.split, spec, epochs=epochs
    )
    test = dataset.split == "test"
    predicted = model.predict(dataset.images[test], verbose=0).argmax(axis=1)
    return float(np.mean(predicted == dataset.labels[test]))


def seed_figures(before: list[float], after: list[float]) -> dict:
    """Mean and spread of each, and whether the paired difference stands
    out: every seed moves the same way and the mean difference exceeds
    both standard deviations."""
    difference = np.subtract(after, before)
    spread = max(np.std(before, ddof=1), np.std(after, ddof=1))
    same_sign = bool(np.all(difference > 0) or np.all(difference < 0))
    return {
        "before": {"mean": np.mean(before), "sd": np.std(before, ddof=1)},
        "after": {"mean": np.mean(after), "sd": np.std(after, ddof=1)},
        "difference": {
            "mean": float(np.mean(difference)),
            "sd": float(np.std(difference, ddof=1)),
        },
        "larger_than_spread": bool(
            same_sign and abs(np.mean(difference)) > spread
        ),
    }


def loop(
    project: Path,
    data: Path,
    data_args: list[str],
    *,
    first_run: list[str],
    budget: int,
    seeds: list[int],
    epochs: int,
    log: Path,
) -> dict:
    """The first run (or, if `first_run` is empty, the one already in
    `project`), one automated iteration, and the seeded training runs on
    each side of it."""
    spec = get_model_spec(MODEL)
    started = time.perf_counter()
    if first_run:
        sh(project, log, *first_run)
    first_seconds = round(time.perf_counter() - started) if first_run else None
    pipeline_metrics = json.loads((project / "metrics.json").read_text())
    before = read_dataset(data, spec.image_size, spec.channels)
    changes = sh(
        project,
        log,
        "dcp",
        "fix",
        "outputs/report/issues.csv",
        *data_args,
        "--accept-suggestions",
    )
    changes += sh(
        project, log, "dcp", "augment", *data_args, "--budget", str(budget)
    )
    after = read_dataset(data, spec.image_size, spec.channels)
    if after.test_sha256 != before.test_sha256:
        raise SystemExit("the iteration changed the test split")
    if after.class_names != before.class_names:
        raise SystemExit("the iteration changed the classes")
    accuracies: dict[str, list[float]] = {"before": [], "after": []}
    for seed in seeds:
        for side, dataset in (("before", before), ("after", after)):
            accuracies[side].append(test_accuracy(dataset, seed, epochs))
            print(f"seed {seed}, {side}: {accuracies[side][-1]:.4f}")
    return {
        "epochs": epochs,
        "seeds": seeds,
        "test_images": int(np.sum(before.split == "test")),
        "images": {
            side: {s: int(np.sum(d.split == s)) for s in SPLITS}
            for side, d in (("before", before), ("after", after))
        },
        "test_accuracy": accuracies,
        **seed_figures(accuracies["before"], accuracies["after"]),
        "first_run": {
            "seconds": first_seconds,
            "test": pipeline_metrics.get("test"),
            "eval_accuracy": pipeline_metrics.get("accuracy"),
        },
        "changes": changes.strip(),
        "project": str(project),
    }


def _resumed(workdir: Path, name: str, args: argparse.Namespace) -> bool:
    """With --resume, whether `workdir/name` holds a finished first run
    to continue from."""
    report = workdir / name / "outputs" / "report" / "issues.csv"
    return args.resume and report.exists()


def loop_embedded(workdir: Path, args: argparse.Namespace) -> dict:
    resumed = _resumed(workdir, "embedded", args)
    project = (
        workdir / "embedded"
        if resumed
        else clone(workdir, "embedded", {"trainer": {"epochs": args.epochs}})
    )
    return {
        "dataset": "embedded",
        **loop(
            project,
            project / "data" / "raw",
            [],
            first_run=[] if resumed else ["dvc", "repro"],
            budget=args.embedded_budget,
            seeds=args.seeds,
            epochs=args.epochs,
            log=workdir / "embedded.log",
        ),
    }


def loop_dcai(workdir: Path, args: argparse.Namespace) -> dict:
    log = workdir / "dcai.log"
    resumed = _resumed(workdir, "dcai", args)
    project = workdir / "dcai"
    data = project / "data" / "dcai-roman"
    if not resumed:
        project = clone(
            workdir,
            "dcai",
            {"trainer": {"epochs": args.epochs}, "pipeline": {"name": "dcai"}},
        )
        for split in ("train", "val"):
            shutil.copytree(DCAI_ROOT / split, data / split)
        carve_test(data, args.test_fraction, args.test_seed)
        sh(project, log, "dvc", "add", "--quiet", "data/dcai-roman")
        sh(
            project,
            log,
            "git",
            "add",
            "data/dcai-roman.dvc",
            "data/.gitignore",
        )
        sh(
            project,
            log,
            "git",
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            "data",
        )
    data_args = ["--data", "data/dcai-roman"]
    return {
        "dataset": "dcai-roman",
        **loop(
            project,
            data,
            data_args,
            first_run=[] if resumed else ["dcp", "run", *data_args],
            budget=args.dcai_budget,
            seeds=args.seeds,
            epochs=args.epochs,
            log=log,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--datasets", default="dcai,embedded", help="dcai, embedded or both"
    )
    parser.add_argument("--seeds", default="123,124,125")
    parser.add_argument(
        "--epochs",
        type=int,
        default=20,
        help="of every training run, the first pipeline run's included",
    )
    parser.add_argument("--embedded-budget", type=int, default=3000)
    parser.add_argument("--dcai-budget", type=int, default=4000)
    parser.add_argument("--test-fraction", type=float, default=0.5)
    parser.add_argument("--test-seed", type=int, default=0)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the first runs an earlier invocation left in"
        " --workdir (their wall time is then not measured)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "dcp-bench-loop",
    )
    args = parser.parse_args()
    args.seeds = [int(seed) for seed in args.seeds.split(",")]
    args.workdir.mkdir(parents=True, exist_ok=True)
    output = args.workdir / "results.json"
    results = []
    for name in args.datasets.split(","):
        if name == "dcai" and not DCAI_ROOT.is_dir():
            print(f"{DCAI_ROOT} is absent: dcai-roman skipped")
            continue
        run = loop_embedded if name == "embedded" else loop_dcai
        results.append(run(args.workdir, args))
        output.write_text(
            json.dumps(
                {
                    "machine": f"{platform.node()}, {os.cpu_count()} cores",
                    "results": results,
                },
                indent=2,
                default=float,
            )
        )
        print(json.dumps(results[-1], indent=2, default=float), flush=True)
    print(f"Results: {output}")


if __name__ == "__main__":
    main()
