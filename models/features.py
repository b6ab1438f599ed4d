"""Names of the features the ETL writes into each tf.train.Example.

The ETL, the Transform and the analyses share these constants, so the
names cannot drift apart.
"""

IMAGE = "image"  # PNG bytes of the image
LABEL = "label"  # class index into the dataset's class list
LABEL_NAME = "label_name"
PATH = "path"  # relative to the dataset root, e.g. "train/i/0001.png"
SHA256 = "sha256"  # of the source file's bytes
WIDTH = "width"
HEIGHT = "height"
CHANNELS = "channels"

# Image properties, for slicing and drift checks.
BRIGHTNESS = "brightness"
CONTRAST = "contrast"
MEAN_RED = "mean_red"
MEAN_GREEN = "mean_green"
MEAN_BLUE = "mean_blue"
STD_RED = "std_red"
STD_GREEN = "std_green"
STD_BLUE = "std_blue"
BLUR = "blur"
DARK_FRACTION = "dark_fraction"
LIGHT_FRACTION = "light_fraction"

PROPERTIES = (
    BRIGHTNESS,
    CONTRAST,
    MEAN_RED,
    MEAN_GREEN,
    MEAN_BLUE,
    STD_RED,
    STD_GREEN,
    STD_BLUE,
    BLUR,
    DARK_FRACTION,
    LIGHT_FRACTION,
)

# Written by the Transform (models/preprocessing.py) for the Trainer.
TRANSFORMED_IMAGE = "image_xf"  # float32 [height, width, channels] in 0..1
TRANSFORMED_LABEL = "label_xf"  # int64 class index


def bucket_key(name: str) -> str:
    """The Transform's quantile bucket of an image property, for slicing."""
    return f"{name}_bucket"


# Detection: the TF Object Detection API's keys. A box's corners are
# normalised to 0..1; an image may have none (a background image).
BBOX_XMIN = "image/object/bbox/xmin"
BBOX_YMIN = "image/object/bbox/ymin"
BBOX_XMAX = "image/object/bbox/xmax"
BBOX_YMAX = "image/object/bbox/ymax"
BBOX_CORNERS = (BBOX_XMIN, BBOX_YMIN, BBOX_XMAX, BBOX_YMAX)
OBJECT_LABEL = "image/object/class/label"  # index into the class list
OBJECT_TEXT = "image/object/class/text"
# Per-image box statistics, for slicing and drift checks.
BOX_COUNT = "box_count"
BOX_AREA_MEAN = "box_area_mean"  # of the image's area; 0 without boxes
BOX_AREA_MIN = "box_area_min"
