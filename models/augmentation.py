"""Online augmentation for training batches, off by default: rotation
±20°, zoom, random crop and brightness, as the seed project used."""

import tensorflow as tf

ROTATION_DEGREES = 20
ZOOM = 0.1
CROP_FRACTION = 0.9  # a random crop keeps 90% of each side
BRIGHTNESS = 0.2  # of the 0..1 range


def augmentation(image_size: int, seed: int) -> tf.keras.Sequential:
    """Random transforms of a [batch, size, size, channels] 0..1 batch."""
    crop = round(image_size * CROP_FRACTION)
    return tf.keras.Sequential(
        [
            tf.keras.layers.RandomRotation(
                ROTATION_DEGREES / 360, fill_mode="nearest", seed=seed
            ),
            tf.keras.layers.RandomZoom(ZOOM, fill_mode="nearest", seed=seed),
            tf.keras.layers.RandomCrop(crop, crop, seed=seed),
            tf.keras.layers.Resizing(image_size, image_size),
            tf.keras.layers.RandomBrightness(
                BRIGHTNESS, value_range=(0.0, 1.0), seed=seed
            ),
        ],
        name="augmentation",
    )
