"""A TFX component that ranks suspected label errors by confident
learning on out-of-sample predicted probabilities."""
