"""Apache Beam ETL from an image folder to TFRecords, a manifest and a
quarantine report."""
