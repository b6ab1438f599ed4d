"""The figures TestAccuracy writes into its SplitAccuracy artifact, and
their reading back."""

import json
import posixpath
from typing import Any

from absl import logging
from tfx.dsl.io import fileio

from components.test_accuracy.keys import ACCURACY_FILE


def write_accuracy(figures: dict[str, Any], output_dir: str) -> None:
    fileio.makedirs(output_dir)
    with fileio.open(posixpath.join(output_dir, ACCURACY_FILE), "w") as file:
        file.write(json.dumps(figures, indent=2))
    logging.info(
        "Figures of %d %s images written to %s.",
        figures["examples"],
        figures["split"],
        output_dir,
    )


def read_accuracy(uri: str) -> dict[str, Any]:
    """What write_accuracy wrote into the SplitAccuracy at `uri`."""
    with fileio.open(posixpath.join(uri, ACCURACY_FILE), "r") as file:
        return json.load(file)
