"""The detection task, as the shared layers ask for it (core/task.py).
So far its ETL: the pipeline's members come with the detector."""

import dataclasses
from pathlib import Path

from core.settings import PrepareConfig
from core.task import DatasetTask
from tasks.detection import dataset, embedded_scenes


@dataclasses.dataclass(frozen=True)
class DetectionDataset:
    name: str = "detection"

    def write_embedded_dataset(
        self, output: str, settings: PrepareConfig
    ) -> str:
        """Scenes of digits pasted on scikit-learn's sample photos, boxed
        in YOLO files; of `settings`, only the seed applies."""
        summary = embedded_scenes.write_scenes(
            Path(output), seed=settings.seed
        )
        return f"Embedded detection dataset written to {output}:\n" + (
            summary.describe()
        )

    scan_dataset = staticmethod(dataset.scan_dataset)
    instances = staticmethod(dataset.instances)
    annotation_features = staticmethod(dataset.annotation_features)


# Typed as the protocol, so that mypy checks that it is one.
DATASET_TASK: DatasetTask = DetectionDataset()
