"""Object detection: boxes in the user's annotation files (YOLO, Pascal
VOC or COCO), a fixed from-scratch detector, mAP per class."""
