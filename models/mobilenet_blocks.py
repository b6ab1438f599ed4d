"""MobileNetV2's building blocks (Sandler et al. 2018), as the fixed
models from scratch share them: inverted residuals and convolutions with
BatchNorm and ReLU6."""

import tensorflow as tf

# PyTorch's default, which MCUNet trained with. Keras's 0.99 keeps the
# initial moving variance (1.0, far above a depthwise conv's output
# variance) for hundreds of steps: on 200 digits, 150 steps left the model
# predicting one class at inference; with 0.9, 100 steps gave 0.99.
BATCH_NORM_MOMENTUM = 0.9


def inverted_residual(
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
        x = conv_bn(x, x.shape[-1] * expansion, 1, 1, name=f"{name}_expand")
    x = tf.keras.layers.DepthwiseConv2D(
        kernel, stride, padding="same", use_bias=False, name=f"{name}_dw"
    )(x)
    x = batch_norm(f"{name}_dw_bn")(x)
    x = tf.keras.layers.ReLU(6.0, name=f"{name}_dw_relu6")(x)
    # Linear projection: a ReLU on the narrow output would lose
    # information (MobileNetV2's "linear bottleneck").
    x = tf.keras.layers.Conv2D(
        channels, 1, use_bias=False, name=f"{name}_project"
    )(x)
    x = batch_norm(f"{name}_project_bn")(x)
    if stride == 1 and inputs.shape[-1] == channels:
        x = tf.keras.layers.Add(name=f"{name}_add")([inputs, x])
    return x


def conv_bn(
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
    x = batch_norm(f"{name}_bn")(x)
    return tf.keras.layers.ReLU(6.0, name=f"{name}_relu6")(x)


def batch_norm(name: str) -> tf.keras.layers.BatchNormalization:
    return tf.keras.layers.BatchNormalization(
        momentum=BATCH_NORM_MOMENTUM, name=name
    )
