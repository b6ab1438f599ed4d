"""Run the pipeline in this process with TFX's LocalDagRunner, metadata
in SQLite:

  python dcp/local_runner.py
  tfx pipeline create --engine local --pipeline_path dcp/local_runner.py
  tfx run create --engine local --pipeline_name digits

Run it from the project folder: it reads ./params.yaml.
"""

# First, so that TensorFlow loads without its known noise
# (core/quiet_start.py): as a script, this file is not imported
# through dcp/__init__.py.
import components  # noqa: F401

# isort: split
from tfx import v1 as tfx

from dcp.config import load_config
from dcp.from_params import pipeline_from_params


def run(params: str = "params.yaml") -> None:
    config = load_config(params)
    metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(
        config.pipeline.metadata
    )
    tfx.orchestration.LocalDagRunner().run(
        pipeline_from_params(config, metadata_connection_config=metadata)
    )


if __name__ == "__main__":
    run()
