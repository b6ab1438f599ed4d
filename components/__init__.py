"""The image ETL and the custom TFX components."""

import os

# Keras 3 in TF 2.16 breaks the TFLite converter; TFX needs tf-keras.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

# Here, since every process of the package (the `dcp` command, Beam
# workers, the TFX CLI's runs, notebooks) imports `components` first.
from components.quiet_start import quiet_start

quiet_start()
