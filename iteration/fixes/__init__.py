"""`dcp fix`: apply the actions of a reviewed issues.csv to the image
folder as a new data version, and undo them."""
