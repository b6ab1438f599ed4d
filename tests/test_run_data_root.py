"""The ETL output a run read, found from its record in MLMD: on a small
real run, and on a copy of its store whose recorded folder is gone."""

import shutil
from pathlib import Path

import pytest
import yaml
from ml_metadata import metadata_store
from tfx import v1 as tfx

from dcp import cli
from pipeline.run_results import run_data_root
from tests.new_data_run import small_run

pytestmark = pytest.mark.e2e


def connection(metadata: Path):
    return tfx.orchestration.metadata.sqlite_metadata_connection_config(
        str(metadata)
    )


def test_a_run_read_the_etl_output_it_was_given(tmp_path_factory):
    trained = small_run(tmp_path_factory)
    assert run_data_root(
        connection(trained.root / "metadata.sqlite"), "digits"
    ) == str(trained.root / "tfrecords")


@pytest.fixture
def moved(tmp_path_factory, tmp_path) -> tuple[Path, Path]:
    """params.yaml over a copy of the run's store in which the run read
    a folder that is no longer there; that folder."""
    trained = small_run(tmp_path_factory)
    metadata = tmp_path / "metadata.sqlite"
    shutil.copy(trained.root / "metadata.sqlite", metadata)
    gone = tmp_path / "moved-away" / "tfrecords"
    store = metadata_store.MetadataStore(connection(metadata))
    (example_gen,) = [
        execution
        for execution in store.get_executions()
        if "input_base" in execution.custom_properties
    ]
    example_gen.custom_properties["input_base"].string_value = str(gone)
    store.put_executions([example_gen])
    params = yaml.safe_load(trained.params.read_text())
    params["pipeline"]["metadata"] = str(metadata)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path / "params.yaml", gone


@pytest.mark.parametrize(
    "command", [["report"], ["autolabel", "unlabeled", "--name", "digits"]]
)
def test_a_gone_data_root_is_named_with_the_fix(moved, command, capsys):
    params, gone = moved
    assert cli.main(["--params", str(params), *command]) == 2
    error = capsys.readouterr().err
    assert f"{gone}: not found, the ETL output that run" in error
    assert "pass --data-root with where it is now" in error
