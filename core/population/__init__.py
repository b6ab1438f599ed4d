"""The population of a run's images in the trained model's embedding: a
2-D map, clusters ranked by loss, the image properties that go with
loss, and each image's uniqueness and representativeness."""
