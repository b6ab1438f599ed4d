"""New images against a finished run: `dcp autolabel` labels an
unlabeled folder with the run's model, `dcp shift` tests whether a new
image set differs from the run's training set."""
