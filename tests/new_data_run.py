"""A small real run for the tests of new data (autolabel, shift): the
embedded dataset through the ETL and the pipeline's own components up
to the Trainer, with LocalDagRunner, built once per test session; and
for the tests of `dcp predict`, the same run carried on to the TFLite
export and the Pusher."""

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml
from tfx import v1 as tfx
from tfx.orchestration.pipeline import RunOptions

from dcp.config import Config, load_config
from dcp.from_params import pipeline_from_params
from tests.conftest import REPO, write_embedded_tfrecords

# The DAG up to the Trainer is what autolabel and shift read of a run;
# the rest would cost minutes.
LAST_COMPONENT = "Trainer"
# What `dcp predict` reads besides: the int8 model and the pushed one
# (the Pusher needs the Evaluator's blessing).
SERVED_COMPONENTS = ["TFLiteExport", "Pusher"]
EPOCHS = 3
_DONE = "done"


@dataclasses.dataclass(frozen=True)
class SmallRun:
    root: Path
    raw: Path  # the embedded dataset the run was trained on
    params: Path  # params.yaml pointing at this run
    config: Config


def small_run(tmp_path_factory: pytest.TempPathFactory) -> SmallRun:
    """The run, built by the first test module that asks for it."""
    root = tmp_path_factory.getbasetemp() / "new_data_run"
    params = root / "params.yaml"
    if not (root / _DONE).exists():
        _build(root, params)
    return SmallRun(root, root / "raw", params, load_config(params))


def _build(root: Path, params_file: Path) -> None:
    root.mkdir(exist_ok=True)
    write_embedded_tfrecords(root)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["etl"].update(
        data=str(root / "raw"), output=str(root / "tfrecords")
    )
    params["pipeline"].update(
        root=str(root / "tfx"),
        metadata=str(root / "metadata.sqlite"),
        serving_dir=str(root / "serving"),
    )
    params["trainer"]["epochs"] = EPOCHS
    params_file.write_text(yaml.safe_dump(params))
    config = load_config(params_file)
    metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(
        config.pipeline.metadata
    )
    tfx.orchestration.LocalDagRunner().run(
        pipeline_from_params(config, metadata_connection_config=metadata),
        run_options=RunOptions(to_nodes=[LAST_COMPONENT]),
    )
    (root / _DONE).touch()


def served_run(tmp_path_factory: pytest.TempPathFactory) -> SmallRun:
    """The small run carried on to the TFLite export and the Pusher, in a
    folder of its own: with a copy of its metadata store, so the TFX
    cache serves the steps up to the Trainer and the small run itself,
    which other modules read, stays as it was."""
    base = small_run(tmp_path_factory)
    root = tmp_path_factory.getbasetemp() / "served_run"
    params_file = root / "params.yaml"
    if not (root / _DONE).exists():
        root.mkdir(exist_ok=True)
        params = yaml.safe_load(base.params.read_text())
        params["pipeline"].update(
            root=str(root / "tfx"),
            metadata=str(root / "metadata.sqlite"),
            serving_dir=str(root / "serving"),
        )
        params_file.write_text(yaml.safe_dump(params))
        shutil.copyfile(
            base.config.pipeline.metadata, root / "metadata.sqlite"
        )
        config = load_config(params_file)
        metadata = (
            tfx.orchestration.metadata.sqlite_metadata_connection_config(
                config.pipeline.metadata
            )
        )
        tfx.orchestration.LocalDagRunner().run(
            pipeline_from_params(config, metadata_connection_config=metadata),
            run_options=RunOptions(to_nodes=SERVED_COMPONENTS),
        )
        (root / _DONE).touch()
    return SmallRun(root, base.raw, params_file, load_config(params_file))
