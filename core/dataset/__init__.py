"""The images a run starts from: the ETL from an image folder to
TFRecords (etl/), the embedded digits dataset (embedded/), and the rule
both write their output folders by (staged_output.py)."""
