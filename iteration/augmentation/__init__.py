"""`dcp augment`: new train images made from train images, up to the
budget, aimed at the classes and image-property slices the last
evaluation found worst and at balancing the classes; each one recorded
with its parent in lineage.csv, all of them as a new data version."""
