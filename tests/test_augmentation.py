import numpy as np
import tensorflow as tf

from models.augmentation import augmentation


def test_augmentation_keeps_shape_and_range_and_changes_pixels(
    digit_images,
):
    batch = (
        np.stack(
            [
                np.repeat(image[..., None], 3, axis=2)
                for image in digit_images[:8]
            ]
        ).astype(np.float32)
        / 255.0
    )
    layers = augmentation(32, seed=123)
    augmented = layers(tf.constant(batch), training=True).numpy()
    assert augmented.shape == batch.shape
    assert augmented.min() >= 0.0
    assert augmented.max() <= 1.0
    # Every image is moved, scaled or brightened by a visible amount.
    change = np.abs(augmented - batch).mean(axis=(1, 2, 3))
    assert np.all(change > 0.01)
