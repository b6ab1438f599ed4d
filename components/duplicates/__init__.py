"""A TFX component that finds exact and near-duplicate images, within a
split and across splits, and calls out those whose labels differ."""
