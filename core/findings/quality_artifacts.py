"""Artifact types of the data-quality components, and the files in them.

Type names are namespaced, as Kubeflow Pipelines 2 requires of custom
artifact types.
"""

from tfx.types.artifact import Artifact

FINDINGS_FILE = "findings.csv"  # issues.csv columns, one row per finding
RANKING_FILE = "ranking.csv"  # every image's label score, most suspect first
NOTES_FILE = "notes.txt"  # what an analysis left out, a line each
REPORT_FILE = "report.html"
ISSUES_FILE = "issues.csv"
# Beside the report: every image on the embedding map, with its cluster,
# loss, uniqueness and representativeness; and the insights drawn.
POPULATION_FILE = "population.csv"
INSIGHTS_FILE = "insights.json"


class DataQualityFindings(Artifact):
    """Images one analysis flags, as FINDINGS_FILE."""

    TYPE_NAME = "dcp.DataQualityFindings"


class DataQualityReport(Artifact):
    """The run's report: REPORT_FILE and ISSUES_FILE."""

    TYPE_NAME = "dcp.DataQualityReport"
