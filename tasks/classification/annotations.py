"""A classification label in a tf.train.Example: the class index and
its name (models/features.py's keys)."""

import tensorflow as tf

from models import features


def annotation_features(
    label: int, label_name: str
) -> dict[str, tf.train.Feature]:
    return {
        features.LABEL: tf.train.Feature(
            int64_list=tf.train.Int64List(value=[label])
        ),
        features.LABEL_NAME: tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[label_name.encode()])
        ),
    }
