"""The sections of params.yaml that configure the embedded dataset and
the ETL, and how a path in params.yaml is marked.

Each layer keeps the sections it uses in its own settings.py (this one,
pipeline/settings.py, iteration/settings.py); dcp/config.py reads
params.yaml into them.
"""

import dataclasses
from typing import Annotated, Literal

from components.embedded_dataset.digits import DefectCounts

# A path in params.yaml, relative to its folder unless absolute or a URL.
PathParam = Annotated[str, "path"]

# Checked when params.yaml is read. Not imported from the ETL, which
# would tie reading params.yaml to Beam; tests/test_config.py checks that
# the two agree.
OnBadFile = Literal["skip", "fail"]  # etl.ON_BAD_FILE_CHOICES


@dataclasses.dataclass(frozen=True)
class PrepareConfig:
    output: PathParam
    seed: int
    image_size: int
    val_fraction: float
    test_fraction: float
    unlabeled_fraction: float
    defects: DefectCounts


@dataclasses.dataclass(frozen=True)
class EtlConfig:
    data: PathParam
    output: PathParam
    splits: tuple[str, ...]
    on_bad_file: OnBadFile
    images_per_shard: int
    parallel_from_images: int
    beam_args: tuple[str, ...]
    # Class folder name → the label its images get (super-categories).
    labels: dict[str, str]
