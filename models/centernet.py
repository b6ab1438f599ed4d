"""The fixed object detector: a small CenterNet ("Objects as Points",
Zhou et al. 2019), trained from scratch, and everything about its output.

Why CenterNet: each object is one peak of a class heatmap, with its box
size and the sub-cell offset of its centre read at that peak. No anchors
to fit to the data, one dense output tensor, and only convolutions,
sigmoids and a max-pool inside the network, so the whole network converts
to full-integer TFLite. The ready-made alternative, KerasCV's
YOLOV8Detector, is deprecated upstream, pulls in tensorflow-datasets and
kagglehub, and its successor (KerasHub) runs on Keras 3 only, where this
package runs tf-keras 2.

The network reads float images in 0..1, 240x320, and returns one tensor
[batch, 60, 80, classes + 4] at stride 4, every channel a sigmoid in 0..1:
the class heatmaps, then the box's height and width as log-sizes, then
the centre's offset (y, x) inside its cell. One tensor and one value range
make the int8 export simple: the sigmoids' fixed 1/256 output scale is
kept by the concatenation, so nothing is requantised on the way out.

Boxes are [ymin, xmin, ymax, xmax] corners normalised to 0..1 of the
image's height and width, TensorFlow's order
(`tf.image.combined_non_max_suppression`, the TF Object Detection API).
"""

import dataclasses
import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from models import features, mobilenet_blocks

INPUT_HEIGHT = 240
INPUT_WIDTH = 320
STRIDE = 4
OUTPUT_HEIGHT = INPUT_HEIGHT // STRIDE
OUTPUT_WIDTH = INPUT_WIDTH // STRIDE

# The output's channels after the class heatmaps: log-size (height,
# width), then offset (y, x). A target adds one more, MASK: 1 at each
# box's centre cell, else 0.
REGRESSION_CHANNELS = 4
MASK = REGRESSION_CHANNELS

# A box side s (a fraction of the image side) is output as
# 1 + log(s) / log(SIZE_RANGE), in 0..1 for sides of 1/128 to 1 of the
# image. Log-sizes make an int8 step a constant relative error (1.9%
# per step, whatever the box size), which is what IoU feels.
SIZE_RANGE = 128.0

# Gaussian peaks per box as in TTFNet (Liu et al. 2019): standard
# deviations GAUSSIAN_ALPHA * side / 6 along each axis, so elongated
# boxes get elongated peaks; at least 1/6 cell, CenterNet's radius 0.
GAUSSIAN_ALPHA = 0.54
MIN_SIGMA = 1.0 / 6.0

# The loss: CenterNet's penalty-reduced focal loss (alpha 2, beta 4) on
# the heatmaps, L1 at box centres on the log-sizes and offsets.
FOCAL_ALPHA = 2.0
FOCAL_BETA = 4.0
SIZE_WEIGHT = 5.0  # an L1 of 0.1 in log-size is a 60% size error
OFFSET_WEIGHT = 1.0
# The heatmaps' initial probability, CenterNet's: keeps the first steps'
# focal loss from being swamped by thousands of background cells.
HEATMAP_PRIOR = 0.1

STEM_CHANNELS = 16
# MobileNetV2 inverted residuals, one row per stage: (expansion,
# channels, repeats, stride, kernel). The stride applies to the stage's
# first block; the stages ending at strides 4, 8 and 16 feed the neck.
BACKBONE = (
    (1, 16, 1, 1, 3),  # stride 2
    (4, 24, 2, 2, 3),  # stride 4
    (4, 40, 3, 2, 5),  # stride 8
    (4, 80, 2, 2, 5),  # stride 16
    (4, 112, 2, 1, 5),  # stride 16
    (4, 160, 3, 2, 5),  # stride 32: 8x10 cells, a 5x5 kernel sees it all
)
# The neck's width at strides 32, 16, 8 and 4 (top-down, as an FPN).
NECK_CHANNELS = (128, 96, 64, 64)
HEAD_CHANNELS = 64


@dataclasses.dataclass(frozen=True)
class DetectorSettings:
    """The detector's fixed training and inference settings. They are
    chosen once, never tuned per run: between runs only the data
    changes."""

    # On BCCD's 205 training images an epoch takes 10 s on 2 idle CPU
    # cores, 17 to 20 s while another program keeps one busy: 90 epochs
    # keep a run within 30 minutes on a shared machine (27 measured).
    epochs: int = 90
    # Batches of 8 rather than 16: twice the steps for the same time,
    # and on BCCD 12 epochs reached val mAP50 0.36 against 0.20.
    batch_size: int = 8
    learning_rate: float = 2e-3  # Adam's peak, from scratch with BN
    warmup_epochs: int = 3  # linear warm-up, then cosine decay to 0
    seed: int = 123
    # Augmentation: flips both ways (cells and aerial views have no up;
    # objects that have one are still learnt, flipped or not), a zoom
    # of the image by a factor in zoom_range with the view's centre
    # moved by up to `translate` of the image, and colour jitter for
    # stains, lighting and cameras.
    flip_vertical: bool = True
    zoom_range: tuple[float, float] = (0.7, 1.4)
    translate: float = 0.15
    brightness: float = 0.1  # added, of the 0..1 range
    contrast: float = 0.2  # factor 1 +- contrast
    saturation: float = 0.3  # factor 1 +- saturation
    hue: float = 0.03  # of the hue circle
    # A box cut by the augmented view is kept when this much of it is
    # left in the view, else dropped.
    min_visible_fraction: float = 0.3
    # Detection: COCO evaluation's limit of 100 boxes per image and a
    # score floor low enough to trace the whole precision-recall curve.
    max_detections: int = 100
    score_threshold: float = 0.001
    # Class-wise NMS after the max-pool peaks: it removes the second
    # peak of one object; touching cells overlap far less than 0.6.
    iou_threshold: float = 0.6


SETTINGS = DetectorSettings()


class Detections(NamedTuple):
    """Detections padded to max_detections per image, best first."""

    boxes: tf.Tensor  # [batch, max_detections, 4] float, normalised
    classes: tf.Tensor  # [batch, max_detections] int32
    scores: tf.Tensor  # [batch, max_detections] float, 0 past the valid
    num_detections: tf.Tensor  # [batch] int32


def build(
    num_classes: int,
    *,
    input_height: int = INPUT_HEIGHT,
    input_width: int = INPUT_WIDTH,
) -> tf.keras.Model:
    """The network for float images in 0..1, [batch, input_height,
    input_width, 3], with the head maps [batch, input_height / 4,
    input_width / 4, num_classes + 4] as output. The fixed model is
    240x320; other sizes (multiples of 32) are for tests."""
    image = tf.keras.Input(
        shape=(input_height, input_width, 3), name=features.TRANSFORMED_IMAGE
    )
    x = mobilenet_blocks.conv_bn(image, STEM_CHANNELS, 3, 2, name="stem")
    taps = []
    for stage, (expansion, channels, repeats, stride, kernel) in enumerate(
        BACKBONE, start=1
    ):
        if stride == 2 and stage > 2:
            taps.append(x)  # the last map at strides 4, 8 and 16
        for index in range(repeats):
            x = mobilenet_blocks.inverted_residual(
                x,
                expansion,
                channels,
                stride if index == 0 else 1,
                kernel,
                name=f"stage{stage}_block{index + 1}",
            )
    # The neck goes from x, at stride 32, back up to stride 4.
    x = mobilenet_blocks.conv_bn(x, NECK_CHANNELS[0], 1, 1, name="neck32")
    for lateral, channels, stride in zip(
        reversed(taps), NECK_CHANNELS[1:], (16, 8, 4), strict=True
    ):
        x = mobilenet_blocks.conv_bn(
            x, channels, 1, 1, name=f"neck{stride}_reduce"
        )
        x = _upsample_like(x, lateral, name=f"neck{stride}_up")
        lateral = mobilenet_blocks.conv_bn(
            lateral, channels, 1, 1, name=f"neck{stride}_lat"
        )
        x = tf.keras.layers.Add(name=f"neck{stride}_add")([x, lateral])
        x = _separable(x, channels, name=f"neck{stride}_fuse")
    heads = [
        _head(
            x,
            num_classes,
            -math.log((1 - HEATMAP_PRIOR) / HEATMAP_PRIOR),
            name="heatmap",
        ),
        _head(x, 2, 0.0, name="size"),
        _head(x, 2, 0.0, name="offset"),
    ]
    outputs = tf.keras.layers.Concatenate(name="head_maps")(heads)
    return tf.keras.Model(image, outputs, name="centernet")


def encode_targets(
    boxes: tf.Tensor,
    classes: tf.Tensor,
    num_classes: int,
    *,
    output_height: int = OUTPUT_HEIGHT,
    output_width: int = OUTPUT_WIDTH,
) -> tf.Tensor:
    """One image's training target [output_height, output_width,
    num_classes + 5] from its boxes [n, 4] (normalised corners) and class
    indices [n]: Gaussian heatmaps peaking at exactly 1 on each box's
    centre cell, then at that cell the box's log-sizes, its centre's
    offset in the cell, and a mask of 1. Boxes of class < 0 (padding) or
    of no area are left out. TF ops, for a tf.data map."""
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    classes = tf.cast(classes, tf.int32)
    grid = tf.constant([output_height, output_width], tf.float32)
    sides = boxes[:, 2:] - boxes[:, :2]  # (height, width), normalised
    keep = (classes >= 0) & tf.reduce_all(sides > 0, axis=1)
    boxes, classes, sides = (
        tf.boolean_mask(t, keep) for t in (boxes, classes, sides)
    )
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2 * grid  # in cells
    cells = tf.clip_by_value(tf.floor(centres), 0.0, grid - 1)
    sigmas = tf.maximum(GAUSSIAN_ALPHA * sides * grid / 6, MIN_SIGMA)
    ys = tf.range(output_height, dtype=tf.float32)
    xs = tf.range(output_width, dtype=tf.float32)
    dy = (ys[None, :] - cells[:, :1]) / sigmas[:, :1]  # [n, height]
    dx = (xs[None, :] - cells[:, 1:]) / sigmas[:, 1:]  # [n, width]
    peaks = tf.exp(-(dy[:, :, None] ** 2 + dx[:, None, :] ** 2) / 2)
    # One map per class: the highest of its boxes' peaks at each cell;
    # a class without boxes gets the lowest float, hence the maximum.
    heatmaps = tf.maximum(
        tf.math.unsorted_segment_max(peaks, classes, num_classes), 0.0
    )
    log_sizes = 1 + tf.math.log(
        tf.clip_by_value(sides, 1 / SIZE_RANGE, 1.0)
    ) / math.log(SIZE_RANGE)
    at_centres = tf.concat(
        [log_sizes, centres - cells, tf.ones_like(sides[:, :1])], axis=1
    )
    regression = tf.tensor_scatter_nd_update(
        tf.zeros([output_height, output_width, REGRESSION_CHANNELS + 1]),
        tf.cast(cells, tf.int32),
        at_centres,
    )
    return tf.concat([tf.transpose(heatmaps, [1, 2, 0]), regression], -1)


def detection_loss(targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
    """The batch's loss: CenterNet's focal loss on the heatmaps plus the
    weighted L1 of log-sizes and offsets at box centres, each summed
    over the batch and divided by its number of boxes."""
    num_classes = outputs.shape[-1] - REGRESSION_CHANNELS
    heat_target = targets[..., :num_classes]
    heat = tf.clip_by_value(outputs[..., :num_classes], 1e-4, 1 - 1e-4)
    positive = tf.cast(tf.equal(heat_target, 1.0), tf.float32)
    positive_loss = tf.math.log(heat) * (1 - heat) ** FOCAL_ALPHA * positive
    negative_loss = (
        tf.math.log(1 - heat)
        * heat**FOCAL_ALPHA
        * (1 - heat_target) ** FOCAL_BETA
        * (1 - positive)
    )
    boxes = tf.maximum(tf.reduce_sum(positive), 1.0)
    focal = -tf.reduce_sum(positive_loss + negative_loss) / boxes
    regression = targets[..., num_classes:]
    mask = regression[..., MASK:]
    error = tf.abs(outputs[..., num_classes:] - regression[..., :MASK]) * mask
    size = tf.reduce_sum(error[..., :2]) / boxes
    offset = tf.reduce_sum(error[..., 2:]) / boxes
    return focal + SIZE_WEIGHT * size + OFFSET_WEIGHT * offset


def decode(
    outputs: tf.Tensor | np.ndarray, max_peaks: int
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """The `max_peaks` highest peaks of the head maps [batch, height,
    width, classes + 4] (a Keras output or the TFLite interpreter's numpy
    one): boxes [batch, max_peaks, 4] normalised, classes [batch,
    max_peaks] int32, scores [batch, max_peaks]. A peak is a cell no
    lower than its 3x3 neighbourhood in its class's map, as CenterNet
    finds them."""
    outputs = tf.convert_to_tensor(outputs, tf.float32)
    num_classes = outputs.shape[-1] - REGRESSION_CHANNELS
    shape = tf.shape(outputs)
    batch, height, width = shape[0], shape[1], shape[2]
    heat = outputs[..., :num_classes]
    pooled = tf.nn.max_pool2d(heat, 3, 1, "SAME")
    heat = tf.where(tf.equal(heat, pooled), heat, tf.zeros_like(heat))
    scores, indices = tf.math.top_k(tf.reshape(heat, [batch, -1]), max_peaks)
    classes = indices % num_classes
    cell = indices // num_classes
    regression = tf.gather(
        tf.reshape(outputs[..., num_classes:], [batch, -1, 4]),
        cell,
        batch_dims=1,
    )
    sides = SIZE_RANGE ** (regression[..., :2] - 1)
    grid = tf.cast(tf.stack([height, width]), tf.float32)
    cells = tf.cast(tf.stack([cell // width, cell % width], -1), tf.float32)
    centres = (cells + regression[..., 2:]) / grid
    boxes = tf.concat([centres - sides / 2, centres + sides / 2], -1)
    return boxes, classes, scores


def detect(
    outputs: tf.Tensor | np.ndarray,
    *,
    max_detections: int = SETTINGS.max_detections,
    score_threshold: float = SETTINGS.score_threshold,
    iou_threshold: float = SETTINGS.iou_threshold,
) -> Detections:
    """The detections in head maps (Keras's or the TFLite interpreter's):
    the peaks, then class-wise non-maximum suppression. TF ops, for a
    serving tf.function as well as eagerly."""
    boxes, classes, scores = decode(outputs, max_detections)
    num_classes = int(outputs.shape[-1]) - REGRESSION_CHANNELS
    boxes, scores, classes, valid = tf.image.combined_non_max_suppression(
        boxes[:, :, None, :],
        tf.one_hot(classes, num_classes) * scores[..., None],
        max_output_size_per_class=max_detections,
        max_total_size=max_detections,
        iou_threshold=iou_threshold,
        score_threshold=score_threshold,
    )
    return Detections(
        boxes, tf.cast(classes, tf.int32), scores, tf.cast(valid, tf.int32)
    )


def _head(x: tf.Tensor, channels: int, bias: float, *, name: str) -> tf.Tensor:
    x = _separable(x, HEAD_CHANNELS, name=f"{name}_head")
    x = tf.keras.layers.Conv2D(
        channels,
        1,
        bias_initializer=tf.keras.initializers.Constant(bias),
        name=f"{name}_logits",
    )(x)
    return tf.keras.layers.Activation("sigmoid", name=name)(x)


def _upsample_like(x: tf.Tensor, like: tf.Tensor, *, name: str) -> tf.Tensor:
    """x at twice its resolution, cropped to `like`'s: at 240 px, stride
    32 has 8 rows (7.5 rounded up) over stride 16's 15."""
    x = tf.keras.layers.UpSampling2D(2, name=name)(x)
    extra_rows = x.shape[1] - like.shape[1]
    extra_columns = x.shape[2] - like.shape[2]
    if extra_rows or extra_columns:
        x = tf.keras.layers.Cropping2D(
            ((0, extra_rows), (0, extra_columns)), name=f"{name}_crop"
        )(x)
    return x


def _separable(x: tf.Tensor, channels: int, *, name: str) -> tf.Tensor:
    x = tf.keras.layers.DepthwiseConv2D(
        3, padding="same", use_bias=False, name=f"{name}_dw"
    )(x)
    x = mobilenet_blocks.batch_norm(f"{name}_dw_bn")(x)
    x = tf.keras.layers.ReLU(6.0, name=f"{name}_dw_relu6")(x)
    return mobilenet_blocks.conv_bn(x, channels, 1, 1, name=f"{name}_pw")
