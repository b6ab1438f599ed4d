"""The image folder `dcp fix` acts on without --data: the one the
latest run's ETL output was converted from, found through a real MLMD
store; etl.data if there is no run; else a one-line refusal."""

import argparse
import contextlib
import io
import json
import time
from pathlib import Path

import pytest
import yaml
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2 as mlmd
from tfx import v1 as tfx

from core.dataset.etl.etl import SUMMARY_FILE
from core.findings.types import OUTLIER
from dcp.commands import fix
from dcp.commands.data_folder import NoImageFolder
from dcp.config import load_config
from tests.fix_repo import finding, git_dvc_repo, issues_csv

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def record_run(metadata: Path, pipeline: str, data_dir: Path) -> None:
    """A run of `pipeline` in the MLMD store `metadata`, as TFX records
    it: its ImportExampleGen read an ETL output converted from
    `data_dir`."""
    data_root = metadata.parent / f"{pipeline}-tfrecords"
    data_root.mkdir()
    (data_root / SUMMARY_FILE).write_text(
        json.dumps({"data_dir": str(data_dir)})
    )
    store = metadata_store.MetadataStore(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(metadata)
        )
    )
    kind = {
        name: store.put_context_type(mlmd.ContextType(name=name))
        for name in ("pipeline", "pipeline_run", "node")
    }
    pipeline_id, run_id, node_id = store.put_contexts(
        [
            mlmd.Context(type_id=kind["pipeline"], name=pipeline),
            mlmd.Context(type_id=kind["pipeline_run"], name=f"{pipeline}-1"),
            mlmd.Context(
                type_id=kind["node"], name=f"{pipeline}.ImportExampleGen"
            ),
        ]
    )
    store.put_parent_contexts(
        [mlmd.ParentContext(child_id=run_id, parent_id=pipeline_id)]
    )
    execution = mlmd.Execution(
        type_id=store.put_execution_type(
            mlmd.ExecutionType(name="ImportExampleGen")
        )
    )
    execution.custom_properties["input_base"].string_value = str(data_root)
    [execution_id] = store.put_executions([execution])
    store.put_attributions_and_associations(
        [],
        [
            mlmd.Association(context_id=context, execution_id=execution_id)
            for context in (run_id, node_id)
        ],
    )


@pytest.fixture
def project(tmp_path) -> Path:
    """params.yaml whose etl.data is not there and whose MLMD store is
    outputs/metadata.sqlite, a git + DVC repository of images `photos`
    and issues.csv removing train/1/101.png from it."""
    photos = git_dvc_repo(tmp_path / "photos")
    issues_csv(
        tmp_path,
        [finding(photos / "data/images", "train/1/101.png", OUTLIER, 0.5)],
        {"train/1/101.png": "remove"},
    )
    params = yaml.safe_load(PARAMS.read_text())
    params["etl"]["data"] = str(tmp_path / "data" / "raw")
    (tmp_path / "outputs").mkdir()
    params["pipeline"]["metadata"] = str(tmp_path / "outputs/metadata.sqlite")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path


def dcp_fix(project: Path) -> str:
    """`dcp fix issues.csv` without --data; what it printed."""
    parser = argparse.ArgumentParser(prog="dcp")
    fix.add_parser(parser.add_subparsers())
    args = parser.parse_args(["fix", str(project / "issues.csv")])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        args.run(args, load_config(project / "params.yaml"), [])
    return printed.getvalue()


def test_fix_acts_on_the_folder_of_the_latest_run(project):
    metadata = project / "outputs" / "metadata.sqlite"
    record_run(metadata, "digits", project / "data" / "raw")
    time.sleep(0.05)  # MLMD times runs in milliseconds
    images = project / "photos" / "data" / "images"
    record_run(metadata, "images", images)

    printed = dcp_fix(project)

    assert f"data-v2: 1 remove in {images}" in printed
    assert not (images / "train/1/101.png").exists()


def test_without_a_run_or_etl_data_fix_asks_for_data(project):
    with pytest.raises(NoImageFolder) as refused:
        dcp_fix(project)

    assert str(refused.value) == (
        "no image folder: pass --data DIR (the folder you gave dcp run --data)"
    )
