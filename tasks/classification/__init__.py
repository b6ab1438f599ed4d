"""Image classification: a label is the image's class folder. Its Task
object is task.TASK."""
