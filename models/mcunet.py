"""An MCUNet-style network for Wake Vision's person/background task.

MobileNetV2 inverted-residual blocks (1x1 expansion, depthwise conv,
linear 1x1 projection; BatchNorm and ReLU6) with narrow widths and mixed
kernel sizes, as in MCUNet's searched models, so the int8 model fits a
microcontroller's few hundred KB of flash. Trained from scratch.
"""

import tensorflow as tf

from models import features

IMAGE_SIZE = 144
STEM_CHANNELS = 16
# PyTorch's default, which MCUNet trained with. Keras's 0.99 keeps the
# initial moving variance (1.0, far above a depthwise conv's output
# variance) for hundreds of steps: on 200 digits, 150 steps left the model
# predicting one class at inference; with 0.9, 100 steps gave 0.99.
BATCH_NORM_MOMENTUM = 0.9

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
    x = _conv_bn(image, STEM_CHANNELS, 3, 2, name="stem")
    for stage, (expansion, channels, repeats, stride, kernel) in enumerate(
        BLOCKS, start=1
    ):
        for index in range(repeats):
            x = _inverted_residual(
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


def _inverted_residual(
    x: tf.Tensor,
    expansion: int,
    channels: int,
    stride: int,
    kernel: int,
    *,
    name: str,
) -> tf.Tensor:
    inputs = x
    if expansion != 1:
        x = _conv_bn(x, x.shape[-1] * expansion, 1, 1, name=f"{name}_expand")
    x = tf.keras.layers.DepthwiseConv2D(
        kernel, stride, padding="same", use_bias=False, name=f"{name}_dw"
    )(x)
    x = _batch_norm(f"{name}_dw_bn")(x)
    x = tf.keras.layers.ReLU(6.0, name=f"{name}_dw_relu6")(x)
    # Linear projection: a ReLU on the narrow output would lose
    # information (MobileNetV2's "linear bottleneck").
    x = tf.keras.layers.Conv2D(
        channels, 1, use_bias=False, name=f"{name}_project"
    )(x)
    x = _batch_norm(f"{name}_project_bn")(x)
    if stride == 1 and inputs.shape[-1] == channels:
        x = tf.keras.layers.Add(name=f"{name}_add")([inputs, x])
    return x


def _conv_bn(
    x: tf.Tensor, channels: int, kernel: int, stride: int, *, name: str
) -> tf.Tensor:
    x = tf.keras.layers.Conv2D(
        channels,
        kernel,
        stride,
        padding="same",
        use_bias=False,
        name=f"{name}_conv",
    )(x)
    x = _batch_norm(f"{name}_bn")(x)
    return tf.keras.layers.ReLU(6.0, name=f"{name}_relu6")(x)


def _batch_norm(name: str) -> tf.keras.layers.BatchNormalization:
    return tf.keras.layers.BatchNormalization(
        momentum=BATCH_NORM_MOMENTUM, name=name
    )
