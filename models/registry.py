"""The fixed models, by name, with their fixed training settings.

Between runs only the data changes: a model and its hyperparameters are
chosen by name and never tuned per run.
"""

import dataclasses
from collections.abc import Callable

import tensorflow as tf

from models import dcai_resnet50, mcunet


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable[[int], tf.keras.Model]  # num_classes -> model
    image_size: int  # the model reads image_size x image_size images
    channels: int
    epochs: int
    batch_size: int
    learning_rate: float  # for Adam
    seed: int


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        # The 2021 Data-Centric AI competition's settings.
        ModelSpec(
            name="dcai_resnet50",
            build=dcai_resnet50.build,
            image_size=dcai_resnet50.IMAGE_SIZE,
            channels=3,
            epochs=100,
            batch_size=8,
            learning_rate=1e-4,
            seed=123,
        ),
        # From scratch, a small BatchNorm network trains well at Adam's
        # default rate, 10x the ResNet's; batches of 64 keep BatchNorm's
        # statistics steady, and 30 epochs keep a run of the loop within
        # hours on CPUs.
        ModelSpec(
            name="mcunet_vww",
            build=mcunet.build,
            image_size=mcunet.IMAGE_SIZE,
            channels=3,
            epochs=30,
            batch_size=64,
            learning_rate=1e-3,
            seed=123,
        ),
    )
}


def get_model_spec(name: str) -> ModelSpec:
    """The spec of the model called `name`; ValueError if there is none."""
    if name not in MODELS:
        raise ValueError(
            f"unknown model {name!r}; choose one of: {', '.join(MODELS)}"
        )
    return MODELS[name]


def compile_model(model: tf.keras.Model, spec: ModelSpec) -> None:
    """Compile `model` in place with the spec's optimizer settings."""
    model.compile(
        optimizer=tf.keras.optimizers.Adam(spec.learning_rate),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
