"""A TFX component that converts the Trainer's Keras model to float32 and
full-integer int8 TFLite models and measures both on the eval split."""
