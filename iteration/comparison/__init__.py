"""`dcp compare`: two pipeline runs or data versions side by side."""
