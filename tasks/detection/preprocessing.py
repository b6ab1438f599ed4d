"""The Transform's preprocessing_fn for detection: the image at the fixed
detector's input size, its boxes as they are.

Boxes are normalised to 0..1 of the image, so stretching the image to
the input size leaves them right. An image's boxes are variable-length
(SparseTensor) features; they pass through to the Trainer unchanged.
"""

from typing import Any

import tensorflow as tf
import tensorflow_transform as tft

from models import centernet, features
from models.preprocessing import NUM_BUCKETS, decode_to_size, slicing_features

BOX_FEATURES = (*features.BBOX_CORNERS, features.OBJECT_LABEL)
# The per-image box statistics, bucketed like the image properties.
BOX_STATISTICS = (
    features.BOX_COUNT,
    features.BOX_AREA_MEAN,
    features.BOX_AREA_MIN,
)


def preprocessing_fn(
    inputs: dict[str, tf.Tensor], custom_config: dict[str, Any]
) -> dict[str, tf.Tensor]:
    """RGB images of the detector's input size in 0..1, the boxes and
    their classes, property and box-statistic buckets, and paths."""
    return {
        features.TRANSFORMED_IMAGE: decode_to_size(
            inputs[features.IMAGE],
            centernet.INPUT_HEIGHT,
            centernet.INPUT_WIDTH,
            channels=3,
        ),
        **{key: inputs[key] for key in BOX_FEATURES},
        **slicing_features(inputs),
        **{
            features.bucket_key(name): tft.bucketize(
                tf.cast(tf.reshape(inputs[name], [-1]), tf.float32),
                num_buckets=NUM_BUCKETS,
            )
            for name in BOX_STATISTICS
        },
    }
