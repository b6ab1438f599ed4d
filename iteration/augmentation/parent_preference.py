"""Which train images `dcp augment` prefers as parents: representative
and non-redundant ones, by the latest run's population table
(core/population/density.py). A near-copy of other images adds
little when augmented again, and a rare, isolated image is often one
that belongs to no class; augmenting either multiplies it."""

import csv
import dataclasses
import io
import posixpath

from tfx.dsl.io import fileio

from core.findings.quality_artifacts import POPULATION_FILE

# Weight of an image = uniqueness * representativeness (each a
# percentile) + _FLOOR, so that every image can still be drawn.
_FLOOR = 0.02
# Of an image the table does not know (new since the run): a typical one.
_UNKNOWN = 0.5 * 0.5 + _FLOOR
# "The rarest or most redundant" images: below this percentile in either.
LOW = 0.1


@dataclasses.dataclass(frozen=True)
class Density:
    uniqueness: float  # percentiles in 0..1
    representativeness: float

    @property
    def low(self) -> bool:
        return min(self.uniqueness, self.representativeness) < LOW


@dataclasses.dataclass(frozen=True)
class ParentPreference:
    density: dict[str, Density]  # by path, e.g. "train/3/0012.png"
    source: str  # the population table it comes from

    def weight(self, path: str) -> float:
        found = self.density.get(path)
        if found is None:
            return _UNKNOWN
        return found.uniqueness * found.representativeness + _FLOOR

    def low_share(self, paths: list[str]) -> float:
        """The share of `paths` the table finds rare or redundant."""
        known = [self.density[p] for p in paths if p in self.density]
        return sum(d.low for d in known) / max(len(known), 1)


def read_preference(report_uri: str) -> ParentPreference | None:
    """The population table of a QualityReport artifact; None where the
    report has none (a run without embeddings)."""
    source = posixpath.join(report_uri, POPULATION_FILE)
    if not fileio.exists(source):
        return None
    with fileio.open(source) as file:
        rows = csv.DictReader(io.StringIO(file.read()))
        density = {
            row["path"]: Density(
                uniqueness=float(row["uniqueness"]),
                representativeness=float(row["representativeness"]),
            )
            for row in rows
        }
    return ParentPreference(density=density, source=source)
