"""One image file → one record: pixels checked, properties measured,
ready to become a tf.train.Example and a manifest row."""

import dataclasses
import hashlib
import posixpath
from typing import TYPE_CHECKING, Any

import tensorflow as tf
from tfx.dsl.io import fileio

from core.dataset.etl.dataset_layout import SourceImage
from core.dataset.etl.image_decoding import BadImageError, decode_image
from core.dataset.etl.image_properties import image_properties
from models import features

if TYPE_CHECKING:  # core.task names ImageRecord in its protocol
    from core.task import DatasetTask


@dataclasses.dataclass(frozen=True)
class ImageRecord:
    split: str
    path: str
    label: int
    label_name: str
    sha256: str
    width: int
    height: int
    channels: int
    source_format: str
    source_mode: str
    properties: dict[str, float]
    png: bytes
    annotation: Any = None  # the SourceImage's


MANIFEST_COLUMNS = (
    "split",
    features.PATH,
    features.LABEL,
    features.LABEL_NAME,
    # The class folder: the label before params.yaml's `etl.labels` map.
    "folder_label",
    features.SHA256,
    features.WIDTH,
    features.HEIGHT,
    features.CHANNELS,
    "source_format",
    "source_mode",
    *features.PROPERTIES,
)


def load_image_record(
    root: str, source: SourceImage, label: int
) -> ImageRecord:
    """Read and decode `root/source.path`; raise BadImageError if unusable."""
    try:
        with fileio.open(posixpath.join(root, source.path), "rb") as file:
            data = file.read()
    except (OSError, tf.errors.OpError) as error:
        raise BadImageError(
            f"unreadable file ({error})",
            fix="check that the file exists and that you may read it",
        ) from None
    return image_record(data, source, label)


def image_record(data: bytes, source: SourceImage, label: int) -> ImageRecord:
    """The record of an image file's bytes `data`, as the ETL makes it;
    raise BadImageError if unusable. For images that are not files, such
    as a video's frames encoded as PNG."""
    decoded = decode_image(data)
    height, width, channels = decoded.pixels.shape
    return ImageRecord(
        split=source.split,
        path=source.path,
        label=label,
        label_name=source.label_name,
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
        channels=channels,
        source_format=decoded.source_format,
        source_mode=decoded.source_mode,
        properties=image_properties(decoded.pixels),
        png=decoded.png,
        annotation=source.annotation,
    )


def to_tf_example(
    record: ImageRecord, task: "DatasetTask"
) -> tf.train.Example:
    """The record's pixels, provenance and properties, with the
    annotation keys of `task`; BadImageError where the annotation does
    not fit the image."""

    def as_bytes(value: bytes) -> tf.train.Feature:
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    def as_int(value: int) -> tf.train.Feature:
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))

    def as_float(value: float) -> tf.train.Feature:
        return tf.train.Feature(float_list=tf.train.FloatList(value=[value]))

    feature = {
        features.IMAGE: as_bytes(record.png),
        **task.annotation_features(record),
        features.PATH: as_bytes(record.path.encode()),
        features.SHA256: as_bytes(record.sha256.encode()),
        features.WIDTH: as_int(record.width),
        features.HEIGHT: as_int(record.height),
        features.CHANNELS: as_int(record.channels),
    }
    for name, value in record.properties.items():
        feature[name] = as_float(value)
    return tf.train.Example(features=tf.train.Features(feature=feature))


def manifest_row(record: ImageRecord) -> dict[str, Any]:
    row = {
        column: getattr(record, column)
        for column in MANIFEST_COLUMNS
        if column not in record.properties and column != "folder_label"
    }
    # A class folder's name; none for an image of no class (a detection
    # image, or a new image to label).
    row["folder_label"] = (
        record.path.split("/")[1] if record.label_name else ""
    )
    row.update(record.properties)
    return row
