"""The seed project's image cleanup as TensorFlow ops, so the Transform
graph applies them identically in training and in serving.

Every op takes a float batch [batch, height, width, channels] in 0..1,
works on each channel on its own and keeps the shape.

Border mode, all ops: the image's edge pixels are repeated outwards
(scipy.ndimage mode="nearest", OpenCV BORDER_REPLICATE, which OpenCV's
medianBlur and adaptiveThreshold use). For the minimum and maximum of
`opening`, repeating and reflecting the edge give the same result (the
copied pixels already lie in the window), so `opening` also equals
scipy.ndimage.grey_opening with its default mode="reflect".
"""

import tensorflow as tf


def opening(images: tf.Tensor, size: int) -> tf.Tensor:
    """Grey erosion then grey dilation with a flat size x size square.

    Removes bright details smaller than the square. For an even size the
    dilation uses the mirrored window of the erosion, as in
    scipy.ndimage.grey_opening, so the result is a true opening: never
    brighter than the input and unchanged by a second opening.
    """
    _check_size("opening size", size, odd=False)
    # scipy's erosion window reaches size // 2 pixels back and the rest
    # forward; the dilation's window is its mirror image.
    before, after = size // 2, (size - 1) // 2
    eroded = -_max_filter(-images, size, before, after)
    return _max_filter(eroded, size, after, before)


def median_filter(images: tf.Tensor, size: int) -> tf.Tensor:
    """The median of each size x size neighbourhood; size must be odd, so
    the median is one pixel of the window (as OpenCV's medianBlur)."""
    _check_size("median filter size", size, odd=True)
    pad = size // 2
    patches = tf.image.extract_patches(
        _pad_nearest(images, pad, pad),
        sizes=[1, size, size, 1],
        strides=[1, 1, 1, 1],
        rates=[1, 1, 1, 1],
        padding="VALID",
    )
    # extract_patches flattens each window as (row, column, channel).
    channels = tf.shape(images)[3]
    window = tf.reshape(
        patches, tf.concat([tf.shape(images)[:3], [size * size, channels]], 0)
    )
    window = tf.transpose(window, [0, 1, 2, 4, 3])
    # The middle of an odd count: the (n // 2 + 1)-th largest value.
    largest = tf.math.top_k(window, k=size * size // 2 + 1).values
    return tf.ensure_shape(largest[..., -1], images.shape)


def adaptive_threshold(
    images: tf.Tensor, block_size: int, offset: float
) -> tf.Tensor:
    """1.0 where a pixel is greater than the mean of its block_size x
    block_size neighbourhood minus `offset`, else 0.0.

    OpenCV's ADAPTIVE_THRESH_MEAN_C with THRESH_BINARY, with `offset` (C)
    on the 0..1 scale: OpenCV's C divided by 255. A negative offset keeps
    only pixels clearly brighter than their surroundings, e.g. the
    strokes of a light digit on a dark background.
    """
    _check_size("adaptive threshold block_size", block_size, odd=True)
    if block_size < 3:
        raise ValueError(
            f"adaptive threshold block_size must be at least 3, got "
            f"{block_size}"
        )
    pad = block_size // 2
    mean = tf.nn.avg_pool2d(
        _pad_nearest(images, pad, pad),
        ksize=block_size,
        strides=1,
        padding="VALID",
    )
    above = tf.cast(images > mean - offset, images.dtype)
    return tf.ensure_shape(above, images.shape)


def _max_filter(
    images: tf.Tensor, size: int, before: int, after: int
) -> tf.Tensor:
    """The maximum over the window from `before` pixels before each pixel
    to `after` pixels after it, in both directions."""
    filtered = tf.nn.max_pool2d(
        _pad_nearest(images, before, after),
        ksize=size,
        strides=1,
        padding="VALID",
    )
    return tf.ensure_shape(filtered, images.shape)


def _pad_nearest(images: tf.Tensor, before: int, after: int) -> tf.Tensor:
    """Pad height and width by repeating the edge pixels; unlike tf.pad's
    modes this works for pads wider than the image."""
    for axis in (1, 2):
        length = tf.shape(images)[axis]
        index = tf.clip_by_value(
            tf.range(-before, length + after), 0, length - 1
        )
        images = tf.gather(images, index, axis=axis)
    return images


def _check_size(what: str, size: int, *, odd: bool) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"{what} must be a positive integer, got {size!r}")
    if odd and size % 2 == 0:
        raise ValueError(
            f"{what} must be odd so the window has a centre pixel, got {size}"
        )
