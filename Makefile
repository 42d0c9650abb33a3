# The whole set-up on a fresh machine is `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test test-quick lint clean

# Re-create the environment when it is missing or older than pyproject.toml. `make demo`
# needs only what the app runs on; the test tools come with `make test` / `make lint`.
$(STAMP): pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

# On Linux with an X display, Qt's window needs X libraries a stock Debian desktop may lack:
# installed here when that needs no password, else the app says in one line which ones and
# shows the live table in the terminal.
demo: $(STAMP)
	-@$(BIN)/python -m hiaim_monitor.display_check --install 2>/dev/null
	$(BIN)/hiaim-monitor --simulate 8

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest

# For a quick local run: all but the tests marked slow (CI runs `make test`, everything).
test-quick: lint
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
