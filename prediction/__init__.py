"""`dcp predict`: a trained model applied to images, folders and videos,
with a CSV of its predictions and annotated copies."""
