"""The files in the output Model artifact's serving directory."""

FLOAT32_FILE = "model_float32.tflite"
INT8_FILE = "model_int8.tflite"
METRICS_FILE = "metrics.json"
