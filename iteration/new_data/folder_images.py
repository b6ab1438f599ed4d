"""A folder of images → what the finished run's model reads, and what it
makes of them: each file is decoded by the ETL's own code and passed
through the run's Transform graph, so a new image is preprocessed
exactly as the training images were."""

import dataclasses
import logging
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from core.dataset.etl.dataset_layout import SourceImage
from core.dataset.etl.image_decoding import (
    SUPPORTED_EXTENSIONS,
    BadImageError,
)
from core.dataset.etl.image_records import (
    ImageRecord,
    load_image_record,
    to_tf_example,
)
from core.task import Task
from models import features

# New images have no label; the Transform passes this one through.
NO_LABEL = -1
_BATCH = 256


@dataclasses.dataclass(frozen=True)
class UnreadableFile:
    path: str  # relative to the folder
    reason: str


@dataclasses.dataclass(frozen=True)
class FolderImages:
    """The usable images of a folder, in path order, and the rest."""

    paths: list[str]  # relative to the folder, with "/" separators
    properties: dict[str, np.ndarray]  # features.PROPERTIES
    pngs: list[bytes]  # the ETL's canonical PNG of each image
    images: np.ndarray  # float32 [n, height, width, channels]: model input
    unreadable: list[UnreadableFile]

    def __len__(self) -> int:
        return len(self.paths)


def find_files(folder: Path) -> list[str]:
    """Every file below `folder`, at any depth, relative and sorted;
    ValueError if the folder does not exist."""
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder of images")
    return sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file()
    )


def read_records(
    folder: Path,
) -> tuple[list[ImageRecord], list[UnreadableFile]]:
    """Decode every file below `folder` as the ETL does; the files that
    are not usable images come back with the reason."""
    records, unreadable = [], []
    for path in find_files(folder):
        if not path.lower().endswith(SUPPORTED_EXTENSIONS):
            unreadable.append(
                UnreadableFile(
                    path, "not an image file name (.png, .jpg or .jpeg)"
                )
            )
            continue
        try:
            records.append(
                load_image_record(
                    str(folder), SourceImage("", "", path), NO_LABEL
                )
            )
        except BadImageError as error:
            unreadable.append(UnreadableFile(path, str(error)))
    return records, unreadable


def transform_images(
    records: list[ImageRecord], transform_graph: str, task: Task
) -> np.ndarray:
    """The model inputs of `records`: their tf.train.Examples through the
    Transform graph at `transform_graph` (a transform_graph artifact)."""
    tft_output = tft.TFTransformOutput(transform_graph)
    spec = tft_output.raw_feature_spec()
    layer = tft_output.transform_features_layer()
    image_spec = tft_output.transformed_feature_spec()[
        features.TRANSFORMED_IMAGE
    ]
    batches = [np.empty((0, *image_spec.shape), np.float32)]
    for start in range(0, len(records), _BATCH):
        serialized = [
            to_tf_example(record, task).SerializeToString()
            for record in records[start : start + _BATCH]
        ]
        raw = tf.io.parse_example(tf.constant(serialized), spec)
        batches.append(layer(raw)[features.TRANSFORMED_IMAGE].numpy())
    return np.concatenate(batches)


def load_folder(
    folder: Path, *, transform_graph: str, task: Task
) -> FolderImages:
    """The images below `folder` as the run's model, a model of `task`,
    reads them."""
    records, unreadable = read_records(folder)
    logging.info(
        "%s: %d images, %d unreadable files; preprocessing them with the"
        " run's Transform graph",
        folder,
        len(records),
        len(unreadable),
    )
    return FolderImages(
        paths=[record.path for record in records],
        properties={
            name: np.array(
                [record.properties[name] for record in records], np.float64
            )
            for name in features.PROPERTIES
        },
        pngs=[record.png for record in records],
        images=transform_images(records, transform_graph, task),
        unreadable=unreadable,
    )
