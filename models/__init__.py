"""Fixed models and the feature keys they read."""

import os

# Keras 3 in TF 2.16 breaks the TFLite converter; TFX needs tf-keras.
# The one place the package sets it: the lowest layer, which every other
# imports before TensorFlow (the venv's tf_legacy_keras.pth and the
# image's ENV set it for processes that import none of ours first).
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
