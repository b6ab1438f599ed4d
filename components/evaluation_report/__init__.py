"""EvaluationReport: the report of a task whose data-quality analyses
are still to come; its evaluation alone."""
