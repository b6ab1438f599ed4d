"""Fixed models and the feature keys they read."""

import os

# Keras 3 in TF 2.16 breaks the TFLite converter; TFX needs tf-keras.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
