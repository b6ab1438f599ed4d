"""The page kit: every HTML page of the project (report.html,
compare.html, shift.html) from one base template, shared macros, one
stylesheet and one table sorter, each page self-contained."""
