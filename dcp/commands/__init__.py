"""The `dcp` subcommands of the data-centric loop: fix, augment,
compare, autolabel and shift; each adds its parser and turns params.yaml
and the flags into a call of its job in iteration/."""
