import tensorflow as tf
import tensorflow_model_analysis as tfma

from components.quality_report.evaluation_results import ACCURACY
from models import features
from tasks.classification.evaluation import SLICE_PROPERTIES, eval_config


def test_blessing_looks_at_the_overall_accuracy_only():
    config = eval_config(10, min_accuracy=0.6, max_accuracy_drop=0.02)
    accuracy = next(
        metric
        for spec in config.metrics_specs
        for metric in spec.metrics
        if metric.class_name == "SparseCategoricalAccuracy"
    )
    assert not accuracy.HasField("threshold")  # would apply to every slice
    (per_slice,) = accuracy.per_slice_thresholds
    assert list(per_slice.slicing_specs) == [tfma.SlicingSpec()]
    threshold = per_slice.threshold
    assert threshold.value_threshold.lower_bound.value == 0.6
    assert threshold.change_threshold.absolute.value == -0.02


def test_slices_by_label_and_every_property_bucket():
    config = eval_config(3, min_accuracy=0.5, max_accuracy_drop=0.01)
    sliced_by = [tuple(spec.feature_keys) for spec in config.slicing_specs]
    assert sliced_by == [
        (),
        (features.LABEL,),
        *((features.bucket_key(name),) for name in SLICE_PROPERTIES),
    ]
    binarized = [
        spec.binarize.class_ids.values
        for spec in config.metrics_specs
        if spec.HasField("binarize")
    ]
    assert [list(ids) for ids in binarized] == [[0, 1, 2]]


def test_the_summary_reads_the_key_the_accuracy_metric_writes():
    config = eval_config(3, min_accuracy=0.5, max_accuracy_drop=0.01)
    (accuracy,) = (
        metric
        for spec in config.metrics_specs
        for metric in spec.metrics
        if "Accuracy" in metric.class_name
    )
    assert getattr(tf.keras.metrics, accuracy.class_name)().name == ACCURACY
