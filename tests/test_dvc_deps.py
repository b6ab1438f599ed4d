"""Each DVC stage lists as deps the code it runs, found from the same
import closure as the pipeline steps' code fingerprints: a module a stage
imports but dvc.yaml misses would let `dvc repro` skip a run after a
change to it."""

from pathlib import Path

import pytest
import yaml

from core.code_version import imported_modules
from core.task import TASK_MODULES, get_dataset_task
from tests.conftest import REPO

OUR_PACKAGES = (
    "dcp",
    "iteration",
    "prediction",
    "pipeline",
    "components",
    "tasks",
    "core",
    "models",
)
# What each stage's command runs, past the command line itself. The
# stages reach the tasks by name (core.task); `dcp prepare` runs only
# their embedded datasets' writers, the ETL their annotation readers and
# writers.
STAGE_CODE = {
    "prepare": (
        "core.task",
        "core.dataset.embedded.digits",
        "tasks.detection.embedded_scenes",
    ),
    "etl": (
        "core.dataset.etl.etl",
        *(
            getattr(get_dataset_task(name), member).__module__
            for name in TASK_MODULES
            for member in ("scan_dataset", "instances", "annotation_features")
        ),
    ),
    "pipeline": ("dcp.main_job", "dcp.config", *TASK_MODULES.values()),
}


def stage_deps(dvc_yaml: Path, stage: str) -> list[str]:
    stages = yaml.safe_load(dvc_yaml.read_text())["stages"]
    return [dep.rstrip("/") for dep in stages[stage]["deps"]]


def missing_deps(root: Path, stage: str) -> list[str]:
    """The files `stage` imports that no dep of it covers."""
    deps = stage_deps(root / "dvc.yaml", stage)
    files = set().union(
        *(
            imported_modules(module, root, packages=OUR_PACKAGES)
            for module in STAGE_CODE[stage]
        )
    )
    return sorted(
        path
        for path in (file.relative_to(root).as_posix() for file in files)
        if not any(path == dep or path.startswith(f"{dep}/") for dep in deps)
    )


@pytest.mark.parametrize("stage", sorted(STAGE_CODE))
def test_every_module_a_stage_imports_is_a_dep(stage):
    assert missing_deps(REPO, stage) == []


def test_a_dep_left_out_of_dvc_yaml_is_found(tmp_path):
    for name in ("dvc.yaml", *OUR_PACKAGES):
        source = REPO / name
        if source.is_dir():
            (tmp_path / name).symlink_to(source, target_is_directory=True)
        else:
            (tmp_path / name).write_text(source.read_text())
    dvc_yaml = tmp_path / "dvc.yaml"
    dvc_yaml.write_text(
        dvc_yaml.read_text().replace("      - models/features.py\n", "")
    )
    assert missing_deps(tmp_path, "etl") == ["models/features.py"]
