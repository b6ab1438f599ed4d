"""An MCUNet-style network for Wake Vision's person/background task.

MobileNetV2 inverted-residual blocks (1x1 expansion, depthwise conv,
linear 1x1 projection; BatchNorm and ReLU6) with narrow widths and mixed
kernel sizes, as in MCUNet's searched models, so the int8 model fits a
microcontroller's few hundred KB of flash. Trained from scratch.
"""

import tensorflow as tf

from models import features, mobilenet_blocks

IMAGE_SIZE = 144
STEM_CHANNELS = 16

# One row per stage: (expansion, channels, repeats, stride, kernel). The
# stride applies to the stage's first block; 144 px become 5x5 at the end.
BLOCKS = (
    (1, 8, 1, 1, 3),
    (4, 16, 2, 2, 5),
    (4, 24, 2, 2, 5),
    (4, 40, 3, 2, 5),
    (4, 48, 2, 1, 3),
    (4, 96, 2, 2, 5),
    (4, 160, 1, 1, 3),
)


def build(num_classes: int) -> tf.keras.Model:
    """The network for float images in 0..1, with softmax probabilities
    as output."""
    image = tf.keras.Input(
        shape=(IMAGE_SIZE, IMAGE_SIZE, 3), name=features.TRANSFORMED_IMAGE
    )
    x = mobilenet_blocks.conv_bn(image, STEM_CHANNELS, 3, 2, name="stem")
    for stage, (expansion, channels, repeats, stride, kernel) in enumerate(
        BLOCKS, start=1
    ):
        for index in range(repeats):
            x = mobilenet_blocks.inverted_residual(
                x,
                expansion,
                channels,
                stride if index == 0 else 1,
                kernel,
                name=f"stage{stage}_block{index + 1}",
            )
    x = tf.keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    probabilities = tf.keras.layers.Dense(
        num_classes, activation="softmax", name="probabilities"
    )(x)
    return tf.keras.Model(image, probabilities, name="mcunet")
