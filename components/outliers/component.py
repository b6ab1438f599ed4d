"""Outliers: unusual images by property and in embedding space."""

from tfx.types.standard_artifacts import Examples, Model

from components.function_component import (
    InputArtifact,
    OutputArtifact,
    Parameter,
    component,
)
from components.outliers.analysis import find_outliers_in
from core.findings.quality_artifacts import DataQualityFindings
from core.readers.example_tables import split_dir, split_names


@component
def Outliers(
    examples: InputArtifact[Examples],
    transformed_examples: InputArtifact[Examples],
    model: InputArtifact[Model],
    outliers: OutputArtifact[DataQualityFindings],
    fence: Parameter[float] = 3.0,
    code_version: Parameter[str] = "",
) -> None:
    """Flags blank, dark, light, blurry, odd-size and grayscale-among-
    colour images, and images far from their neighbours in the trained
    model's embedding space, in findings.csv. Thresholds are Tukey's
    fences of the data's own distribution.

    Args:
      examples: the ETL's examples (ImportExampleGen's output).
      transformed_examples: the Transform's output of the same.
      model: the Trainer's model.
      outliers: the findings.
      fence: how many interquartile ranges beyond the quartiles a
        value must lie to be unusual (3 is Tukey's "far out").
      code_version: the fingerprint of the code it runs; a new one
        reruns the component instead of serving it from the cache.
    """
    splits = split_names(examples)
    find_outliers_in(
        [split_dir(examples, split) for split in splits],
        [split_dir(transformed_examples, split) for split in splits],
        model.uri,
        outliers.uri,
        fence=fence,
    )
