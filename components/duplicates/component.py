"""Duplicates: exact and near-duplicate images, and leaks across splits."""

from tfx.types.standard_artifacts import Examples

from components.duplicates.analysis import find_duplicates_in
from components.function_component import (
    InputArtifact,
    OutputArtifact,
    Parameter,
    component,
)
from core.findings.quality_artifacts import DataQualityFindings
from core.readers.example_tables import split_dir, split_names


@component
def Duplicates(
    examples: InputArtifact[Examples],
    duplicates: OutputArtifact[DataQualityFindings],
    max_distance: Parameter[float] = 0.15,
    code_version: Parameter[str] = "",
) -> None:
    """Finds files with the same bytes, and images that differ only by a
    shift of a pixel, brightness or contrast, in and across all splits;
    flags the later copy (train, then val, then test) in findings.csv,
    saying when the copy leaks across splits or carries another label.

    Args:
      examples: the ETL's examples (ImportExampleGen's output).
      duplicates: the findings.
      max_distance: how close two normalised images must be (0..2) to
        count as near-duplicates.
      code_version: the fingerprint of the code it runs; a new one
        reruns the component instead of serving it from the cache.
    """
    find_duplicates_in(
        [split_dir(examples, split) for split in split_names(examples)],
        duplicates.uri,
        max_distance=max_distance,
    )
