"""A classification label in a tf.train.Example: the class index and
its name (models/features.py's keys)."""

from collections.abc import Mapping

import tensorflow as tf

from core.dataset.etl.dataset_layout import SourceImage
from core.dataset.etl.image_records import ImageRecord
from models import features


def annotation_features(record: ImageRecord) -> dict[str, tf.train.Feature]:
    return {
        features.LABEL: tf.train.Feature(
            int64_list=tf.train.Int64List(value=[record.label])
        ),
        features.LABEL_NAME: tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[record.label_name.encode()])
        ),
    }


def instances(source: SourceImage) -> Mapping[str, int]:
    """None: the annotation is the image's class, not objects in it."""
    return {}
