"""The fixed model's accuracy on a split the loop never touches: test."""
