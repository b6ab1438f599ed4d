"""The folder of one split of an Examples artifact."""

from tfx.types import Artifact, artifact_utils


def split_uri(examples: Artifact, split: str, key: str) -> str:
    """The folder of `split` in an Examples artifact; `key` names the
    parameter that chose the split, for the error message."""
    splits = artifact_utils.decode_split_names(examples.split_names)
    if split not in splits:
        raise ValueError(
            f"The examples at {examples.uri} have no split {split!r}; they"
            f" have {splits}. Set the component's {key} to one of them."
        )
    return artifact_utils.get_split_uri([examples], split)
