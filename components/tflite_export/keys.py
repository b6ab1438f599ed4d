"""Names shared by the component, its executor and its tests."""

# Inputs, output and parameters of the component.
MODEL_KEY = "model"
EXAMPLES_KEY = "examples"
TFLITE_MODEL_KEY = "tflite_model"
REPRESENTATIVE_EXAMPLES_KEY = "representative_examples"
TRAIN_SPLIT_KEY = "train_split"
EVAL_SPLIT_KEY = "eval_split"

# Files in the output Model artifact's serving directory.
FLOAT32_FILE = "model_float32.tflite"
INT8_FILE = "model_int8.tflite"
METRICS_FILE = "metrics.json"
