"""The findings contract between the detectors (components/duplicates,
label_issues, outliers), the report and `dcp fix`: `Finding` and its
constants (finding.py), the registry of issue types (issue_types.py)
with one unit per type (types/), issues.csv (issues_csv.py), and the
artifact types and file names they travel in (quality_artifacts.py)."""
