"""`dcp review`: a local page to look at a run's findings, decide with
the keyboard, and apply the decisions as `dcp fix` would."""
