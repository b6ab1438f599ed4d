# The two commands: `make run` (the main job) and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DATA ?=
# Stage commands run by DVC find `dcp` on the PATH.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install browser run test test-fast lint format docs bench-etl \
  bench-pipeline bench-rerun bench-quality bench-review bench-review-page \
  bench-loop bench-population bench-detector clean

install: $(INSTALLED)

# Rebuilt only when the pins change, so a second `make install` is instant.
$(INSTALLED): requirements.lock pyproject.toml
	@python=$$(bash tools/find_python310.sh) && \
	  { [ -x $(BIN)/python ] || $$python -m venv $(VENV); }
	$(BIN)/pip install --quiet --disable-pip-version-check \
	  -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps \
	  --no-build-isolation -e .
	$(BIN)/pip check
	@# Every Python of the venv (Beam workers, TFX executors, notebook
	@# kernels, `tfx run create`) starts with tf-keras chosen, before any
	@# import of TensorFlow: Keras 3 breaks the TFLite converter.
	echo 'import os; os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")' \
	  > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/tf_legacy_keras.pth"
	@touch $@

# The embedded dataset through DVC, or a folder of your own with DATA=.
run: install
ifeq ($(DATA),)
	$(BIN)/dvc repro
else
	$(BIN)/dcp run --data "$(DATA)"
endif

# Headless Chromium for the report's browser test (Debian, as root).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium >/dev/null; }

test: install browser
	$(BIN)/pytest

test-fast: install browser
	$(BIN)/pytest -m "not e2e"

# The docs are built with --strict (mkdocs.yml's validation): a broken
# link or anchor, or a page left out of the nav, fails the lint. Not with
# --quiet, which hides the warnings from --strict too: the log is shown
# only on failure. NO_MKDOCS_2_WARNING silences the theme's banner.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@echo "mkdocs build --strict"
	@site=$$(mktemp -d); \
	  log=$$(NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict \
	    --site-dir "$$site" 2>&1); \
	  status=$$?; rm -rf "$$site"; \
	  if [ $$status -ne 0 ]; then echo "$$log"; fi; exit $$status

# The docs/ site at http://127.0.0.1:8000, rebuilt on every edit.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-etl: install
	$(BIN)/python bench/bench_etl.py

bench-pipeline: install
	$(BIN)/python bench/bench_pipeline.py

bench-rerun: install
	$(BIN)/python bench/bench_rerun.py

bench-quality: install
	$(BIN)/python bench/bench_quality.py

bench-review: install
	$(BIN)/python bench/bench_review.py

# The review page's own time per decision; REPORT= and DATA= of a run.
bench-review-page: install browser
	$(BIN)/python bench/bench_review_page.py --report "$(REPORT)" --data "$(DATA)"

bench-loop: install
	$(BIN)/python bench/bench_loop.py

bench-population: install
	$(BIN)/python bench/bench_population.py

bench-detector: install
	$(BIN)/python bench/bench_detector.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
