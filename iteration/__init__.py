"""The data-centric loop around a run: fix, augment and auto-label the
data as new data versions, compare runs, detect a shift in new data."""
