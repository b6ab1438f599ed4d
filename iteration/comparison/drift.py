"""Drift of the ETL's features between two runs, measured by TFDV on
each run's statistics: Jensen-Shannon divergence for numbers, L-infinity
distance for categories."""

import dataclasses
import posixpath
from collections.abc import Sequence

import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import (
    anomalies_pb2,
    schema_pb2,
    statistics_pb2,
)

from models import features

JENSEN_SHANNON = "Jensen-Shannon divergence"
INFINITY_NORM = "L-infinity distance"
_MEASUREMENT = anomalies_pb2.DriftSkewInfo.Measurement
_MEASURES = {
    _MEASUREMENT.JENSEN_SHANNON_DIVERGENCE: JENSEN_SHANNON,
    _MEASUREMENT.L_INFTY: INFINITY_NORM,
}
# One value per image: their distributions say nothing.
_IDENTITIES = (features.IMAGE, features.PATH, features.SHA256)
STATISTICS_FILE = "FeatureStats.pb"  # in each split of StatisticsGen
SCHEMA_FILE = "schema.pbtxt"  # of SchemaGen


@dataclasses.dataclass(frozen=True)
class FeatureDrift:
    split: str
    feature: str
    measure: str  # JENSEN_SHANNON or INFINITY_NORM
    value: float
    threshold: float

    @property
    def drifted(self) -> bool:
        return self.value > self.threshold  # as TFDV flags it


def drift_schema(
    schema: schema_pb2.Schema,
    *,
    jensen_shannon_threshold: float,
    infinity_norm_threshold: float,
) -> schema_pb2.Schema:
    """A copy of `schema` with a drift comparator on every feature that
    has a distribution: numbers, and strings with a domain."""
    with_comparators = schema_pb2.Schema()
    with_comparators.CopyFrom(schema)
    for feature in with_comparators.feature:
        if feature.name in _IDENTITIES:
            continue
        comparator = feature.drift_comparator
        if feature.type in (schema_pb2.INT, schema_pb2.FLOAT):
            comparator.jensen_shannon_divergence.threshold = (
                jensen_shannon_threshold
            )
        elif feature.WhichOneof("domain_info"):
            comparator.infinity_norm.threshold = infinity_norm_threshold
    return with_comparators


def feature_drift(
    previous: statistics_pb2.DatasetFeatureStatisticsList,
    current: statistics_pb2.DatasetFeatureStatisticsList,
    schema: schema_pb2.Schema,
    *,
    split: str,
) -> list[FeatureDrift]:
    """What TFDV measures between the statistics of one split of two
    runs, for the features `schema` has drift comparators on; the most
    drifted first."""
    anomalies = tfdv.validate_statistics(
        current, schema, previous_statistics=previous
    )
    found = [
        FeatureDrift(
            split=split,
            feature=".".join(info.path.step),
            measure=_MEASURES[measurement.type],
            value=measurement.value,
            threshold=measurement.threshold,
        )
        for info in anomalies.drift_skew_info
        for measurement in info.drift_measurements
    ]
    return sorted(found, key=lambda d: (-d.value, d.feature))


def statistics_drift(
    statistics_a: str,
    statistics_b: str,
    schema_b: str,
    *,
    splits: Sequence[str],
    jensen_shannon_threshold: float,
    infinity_norm_threshold: float,
) -> list[FeatureDrift]:
    """Drift from run A to run B in each of `splits`, from their
    StatisticsGen artifacts and B's SchemaGen artifact (folders)."""
    schema = drift_schema(
        tfdv.load_schema_text(posixpath.join(schema_b, SCHEMA_FILE)),
        jensen_shannon_threshold=jensen_shannon_threshold,
        infinity_norm_threshold=infinity_norm_threshold,
    )
    return [
        drift
        for split in splits
        for drift in feature_drift(
            _split_statistics(statistics_a, split),
            _split_statistics(statistics_b, split),
            schema,
            split=split,
        )
    ]


def _split_statistics(
    uri: str, split: str
) -> statistics_pb2.DatasetFeatureStatisticsList:
    return tfdv.load_stats_binary(
        posixpath.join(uri, f"Split-{split}", STATISTICS_FILE)
    )
