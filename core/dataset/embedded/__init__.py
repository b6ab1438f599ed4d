"""The embedded default dataset: scikit-learn's hand-written digits as
PNG folders, with seeded defects and their answer key."""
