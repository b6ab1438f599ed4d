"""A TFX component that flags unusual images: blank, too dark or light,
blurry, of an odd size, grayscale among colour, or far from every other
image in the trained model's embedding space."""
