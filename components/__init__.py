"""The image ETL and the custom TFX components."""

import os

# Keras 3 in TF 2.16 breaks the TFLite converter; TFX needs tf-keras.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
