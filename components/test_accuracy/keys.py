"""The SplitAccuracy artifact type and the file in it."""

from tfx.types.artifact import Artifact

ACCURACY_FILE = "accuracy.json"


class SplitAccuracy(Artifact):
    """ACCURACY_FILE: one split's accuracy, Keras and TFLite int8."""

    TYPE_NAME = "dcp.SplitAccuracy"
