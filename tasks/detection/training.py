"""Train the fixed detector (models/centernet.py) on tensors, keeping the
epoch with the best validation mAP50.

A dataset's elements are (image, boxes, classes): a float image in 0..1
[height, width, 3] (240x320 for the fixed model; other multiples of 32
for tests), its boxes [n, 4] as normalised [ymin, xmin, ymax, xmax], and
their class indices [n]; n may differ between images, and a class of -1
marks padding. Nothing here knows a file format: the Trainer and the
benchmark read the files and hand over tensors.
"""

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from models import centernet
from models.centernet import DetectorSettings
from tasks.detection.mean_average_precision import (
    ImageBoxes,
    MeanAveragePrecision,
    mean_average_precision,
)


@dataclasses.dataclass(frozen=True)
class Epoch:
    number: int  # from 1
    loss: float  # the training batches' mean
    train_seconds: float
    seconds: float  # training and validation
    # None on the epochs not validated (see train_detector).
    val_loss: float | None = None
    val_map50: float | None = None
    val_map50_95: float | None = None


@dataclasses.dataclass(frozen=True)
class TrainingResult:
    best_epoch: int  # whose weights the model ends with
    epochs: tuple[Epoch, ...]
    seconds: float


@dataclasses.dataclass(frozen=True)
class Evaluation:
    loss: float
    map: MeanAveragePrecision


def detection_dataset(
    images: np.ndarray,
    boxes: Sequence[np.ndarray],
    classes: Sequence[np.ndarray],
) -> tf.data.Dataset:
    """(image, boxes, classes) elements from in-memory arrays: images
    [n, height, width, 3] uint8 or float in 0..1, and each image's boxes
    [k, 4] and classes [k] (k may be 0), padded with class -1."""
    most = max([len(c) for c in classes] + [1])
    padded_boxes = np.zeros((len(images), most, 4), np.float32)
    padded_classes = np.full((len(images), most), -1, np.int32)
    for index, (image_boxes, image_classes) in enumerate(
        zip(boxes, classes, strict=True)
    ):
        padded_boxes[index, : len(image_classes)] = np.reshape(
            image_boxes, (-1, 4)
        )
        padded_classes[index, : len(image_classes)] = image_classes
    dataset = tf.data.Dataset.from_tensor_slices(
        (images, padded_boxes, padded_classes)
    )
    if images.dtype == np.uint8:
        dataset = dataset.map(
            lambda image, b, c: (tf.cast(image, tf.float32) / 255.0, b, c)
        )
    return dataset


def train_detector(
    train: tf.data.Dataset,
    val: tf.data.Dataset,
    class_names: Sequence[str],
    *,
    settings: DetectorSettings = centernet.SETTINGS,
) -> tuple[tf.keras.Model, TrainingResult]:
    """The detector trained on `train` with online augmentation, with the
    weights of its epoch of best mAP50 on `val` (mAP50-95 breaks ties:
    a small validation set often reaches 1.0).

    With a cosine schedule the best epoch comes late, so validation
    (about a fifth of an epoch's time) runs on every epoch of the second
    half only, and on every tenth before to show progress. Seeded:
    weights, shuffling and augmentation repeat from run to run, up to
    the order of multi-threaded float sums.
    """
    tf.keras.utils.set_random_seed(settings.seed)
    num_classes = len(class_names)
    height, width = train.element_spec[0].shape[:2]
    model = centernet.build(
        num_classes, input_height=height, input_width=width
    )
    batches = _training_batches(train, num_classes, settings)
    step = _training_step(
        model,
        _optimizer(-(-_count(train) // settings.batch_size), settings),
        batches.element_spec,
    )
    evaluate_val = _Evaluator(model, val, class_names, settings)
    best, best_epoch, best_weights = (-1.0, -1.0), 0, model.get_weights()
    epochs: list[Epoch] = []
    started = time.perf_counter()
    for number in range(1, settings.epochs + 1):
        epoch_started = time.perf_counter()
        loss = float(np.mean([step(*batch) for batch in batches]))
        trained = time.perf_counter() - epoch_started
        epoch = Epoch(number, loss, trained, trained)
        if number > settings.epochs // 2 or number % 10 == 0:
            evaluation = evaluate_val()
            epoch = dataclasses.replace(
                epoch,
                seconds=time.perf_counter() - epoch_started,
                val_loss=evaluation.loss,
                val_map50=evaluation.map.map50,
                val_map50_95=evaluation.map.map50_95,
            )
            score = (epoch.val_map50 or 0.0, epoch.val_map50_95 or 0.0)
            if score > best:
                best, best_epoch = score, number
                best_weights = model.get_weights()
        epochs.append(epoch)
        _log(epoch, settings.epochs)
    model.set_weights(best_weights)
    result = TrainingResult(
        best_epoch, tuple(epochs), time.perf_counter() - started
    )
    logging.info(
        "Detector: best val mAP50 %.4f at epoch %d of %d, %.0f s",
        best[0],
        best_epoch,
        settings.epochs,
        result.seconds,
    )
    return model, result


def evaluate(
    model: tf.keras.Model,
    dataset: tf.data.Dataset,
    class_names: Sequence[str],
    *,
    settings: DetectorSettings = centernet.SETTINGS,
) -> Evaluation:
    """The model's loss and mAP on a dataset of (image, boxes, classes)."""
    return _Evaluator(model, dataset, class_names, settings)()


def _optimizer(
    batches_per_epoch: int, settings: DetectorSettings
) -> tf.keras.optimizers.Optimizer:
    """Adam, its rate warmed up linearly from 0, then cosine-decayed to 0
    at the last step."""
    warmup = batches_per_epoch * settings.warmup_epochs
    return tf.keras.optimizers.Adam(
        tf.keras.optimizers.schedules.CosineDecay(
            0.0,
            decay_steps=batches_per_epoch * settings.epochs - warmup,
            warmup_target=settings.learning_rate,
            warmup_steps=warmup,
        )
    )


def _training_step(
    model: tf.keras.Model,
    optimizer: tf.keras.optimizers.Optimizer,
    batch_spec: tuple[tf.TensorSpec, tf.TensorSpec],
) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """One optimisation step on an (images, targets) batch, returning its
    loss. Traced once for any batch size, and without AutoGraph, which
    has nothing to convert here: the trace takes 10 s on 2 cores, where
    Keras's fit takes 30 s."""

    @tf.function(autograph=False, input_signature=batch_spec)
    def step(images: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = centernet.detection_loss(
                targets, model(images, training=True)
            )
        variables = model.trainable_variables
        optimizer.apply_gradients(
            zip(tape.gradient(loss, variables), variables, strict=True)
        )
        return loss

    return step


def _training_batches(
    train: tf.data.Dataset, num_classes: int, settings: DetectorSettings
) -> tf.data.Dataset:
    """Shuffled, augmented (image, target) batches, one epoch; each
    epoch draws new shuffles and augmentations."""
    seeds = tf.data.Dataset.random(
        seed=settings.seed, rerandomize_each_iteration=True
    ).batch(2)

    def augment_and_encode(
        element: tuple[tf.Tensor, tf.Tensor, tf.Tensor], seed: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        image, boxes, classes = _augment(*element, seed, settings)
        return image, _encode(image, boxes, classes, num_classes)

    return (
        tf.data.Dataset.zip(
            train.shuffle(
                _count(train),
                seed=settings.seed,
                reshuffle_each_iteration=True,
            ),
            seeds,
        )
        .map(augment_and_encode, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(settings.batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


def _augment(
    image: tf.Tensor,
    boxes: tf.Tensor,
    classes: tf.Tensor,
    seed: tf.Tensor,
    settings: DetectorSettings,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """A random view of one image (zoomed, shifted, flipped) and its
    colours jittered; boxes mostly out of view get class -1."""
    seeds = tf.random.experimental.stateless_split(seed, 7)
    low, high = np.log(settings.zoom_range)
    zoom = tf.exp(tf.random.stateless_uniform([], seeds[0], low, high))
    side = 1.0 / zoom  # of the view, as a fraction of the image's sides
    centre = 0.5 + tf.random.stateless_uniform(
        [2], seeds[1], -settings.translate, settings.translate
    )
    corner = centre - side / 2
    view = tf.concat([corner, corner + side], 0)
    # Outside the image the view is black.
    height, width = image.shape[:2]
    image = tf.image.crop_and_resize(
        image[None], view[None], [0], [height, width]
    )[0]
    boxes = (tf.cast(boxes, tf.float32) - tf.tile(corner, [2])) / side
    visible = tf.clip_by_value(boxes, 0.0, 1.0)
    visible_area = _area(visible)
    kept = (visible_area > 0) & (
        visible_area >= settings.min_visible_fraction * _area(boxes)
    )
    classes = tf.where(kept, tf.cast(classes, tf.int32), -1)
    flips = tf.random.stateless_uniform([2], seeds[2]) < 0.5
    flip_y = flips[0] & settings.flip_vertical
    image = tf.where(flips[1], image[:, ::-1], image)
    image = tf.where(flip_y, image[::-1], image)
    ymin, xmin, ymax, xmax = tf.unstack(visible, axis=1)
    ymin, ymax = (
        tf.where(flip_y, 1 - ymax, ymin),
        tf.where(flip_y, 1 - ymin, ymax),
    )
    xmin, xmax = (
        tf.where(flips[1], 1 - xmax, xmin),
        tf.where(flips[1], 1 - xmin, xmax),
    )
    # A strength of 0 turns a jitter off (TF refuses empty ranges).
    if settings.brightness:
        image = tf.image.stateless_random_brightness(
            image, settings.brightness, seeds[3]
        )
    if settings.contrast:
        image = tf.image.stateless_random_contrast(
            image, 1 - settings.contrast, 1 + settings.contrast, seeds[4]
        )
    if settings.saturation:
        image = tf.image.stateless_random_saturation(
            image, 1 - settings.saturation, 1 + settings.saturation, seeds[5]
        )
    if settings.hue:
        image = tf.image.stateless_random_hue(image, settings.hue, seeds[6])
    return (
        tf.clip_by_value(image, 0.0, 1.0),
        tf.stack([ymin, xmin, ymax, xmax], axis=1),
        classes,
    )


def _area(boxes: tf.Tensor) -> tf.Tensor:
    return tf.reduce_prod(boxes[:, 2:] - boxes[:, :2], axis=1)


def _encode(
    image: tf.Tensor, boxes: tf.Tensor, classes: tf.Tensor, num_classes: int
) -> tf.Tensor:
    height, width = image.shape[:2]
    return centernet.encode_targets(
        boxes,
        classes,
        num_classes,
        output_height=height // centernet.STRIDE,
        output_width=width // centernet.STRIDE,
    )


def _count(dataset: tf.data.Dataset) -> int:
    known = int(dataset.cardinality())
    if known >= 0:
        return known
    return int(dataset.reduce(0, lambda count, _: count + 1))


class _Evaluator:
    """A model's loss and mAP on a dataset, batch by batch."""

    def __init__(
        self,
        model: tf.keras.Model,
        dataset: tf.data.Dataset,
        class_names: Sequence[str],
        settings: DetectorSettings,
    ) -> None:
        num_classes = len(class_names)
        self._class_names = class_names
        self._settings = settings
        self._batches = dataset.map(
            lambda image, boxes, classes: (
                image,
                _encode(image, boxes, classes, num_classes),
                tf.cast(boxes, tf.float32),
                tf.cast(classes, tf.int32),
            )
        ).padded_batch(settings.batch_size, padding_values=(0.0, 0.0, 0.0, -1))

        @tf.function(
            autograph=False, input_signature=self._batches.element_spec[:2]
        )
        def infer(
            images: tf.Tensor, targets: tf.Tensor
        ) -> tuple[tf.Tensor, centernet.Detections]:
            outputs = model(images, training=False)
            loss = centernet.detection_loss(targets, outputs)
            return loss, centernet.detect(
                outputs,
                max_detections=settings.max_detections,
                score_threshold=settings.score_threshold,
                iou_threshold=settings.iou_threshold,
            )

        self._infer = infer

    def __call__(self) -> Evaluation:
        losses, truth, found = [], [], []
        for images, targets, boxes, classes in self._batches:
            loss, detections = self._infer(images, targets)
            losses.append(float(loss))
            truth += _ground_truth(boxes.numpy(), classes.numpy())
            found += _found(detections)
        return Evaluation(
            float(np.mean(losses)),
            mean_average_precision(
                truth,
                found,
                self._class_names,
                max_detections=self._settings.max_detections,
            ),
        )


def _ground_truth(boxes: np.ndarray, classes: np.ndarray) -> list[ImageBoxes]:
    return [
        ImageBoxes(image_boxes[kept], image_classes[kept])
        for image_boxes, image_classes in zip(boxes, classes, strict=True)
        for kept in [image_classes >= 0]
    ]


def _found(detections: centernet.Detections) -> list[ImageBoxes]:
    boxes, classes, scores, counts = (t.numpy() for t in detections)
    return [
        ImageBoxes(boxes[i, :n], classes[i, :n], scores[i, :n])
        for i, n in enumerate(counts)
    ]


def _log(epoch: Epoch, epochs: int) -> None:
    validation = (
        ""
        if epoch.val_loss is None
        else f", val loss {epoch.val_loss:.3f}, val mAP50"
        f" {epoch.val_map50 or 0:.4f}, mAP50-95 {epoch.val_map50_95 or 0:.4f}"
    )
    logging.info(
        "Detector: epoch %d/%d, loss %.3f%s, %.1f s (training %.1f s)",
        epoch.number,
        epochs,
        epoch.loss,
        validation,
        epoch.seconds,
        epoch.train_seconds,
    )
