"""Readers of a run's examples (example_tables.py: ETL and Transform
TFRecords as tables) and of its trained model (trained_model.py)."""
