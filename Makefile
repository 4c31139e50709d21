# The two commands: `make run` and `make test`; `make lint` (CI runs it first) checks style, imports and types.
# Each installs whatever is missing first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
GOVUK  := casework/static/govuk
CSS    := casework/static/build/main.css

.PHONY: run test install lint bench clean wheel

run: install
	$(BIN)/casework db upgrade
	$(BIN)/casework demo --if-empty
	@# Names any system package the PDFs need (Pango, DejaVu); without them all but the PDFs is served.
	-@$(BIN)/casework printing check
	@echo ""
	@echo "Casework is starting at http://$(HOST):$(PORT)/"
	@$(BIN)/casework users demo-sign-ins 2>/dev/null || true
	@echo ""
	$(BIN)/casework run --host $(HOST) --port $(PORT)

# Two workers (this is a 2-core machine); PYTEST_WORKERS=0 runs the tests in one process.
PYTEST_WORKERS ?= 2

test: install
	$(BIN)/pytest --db sqlite -n $(PYTEST_WORKERS)
	$(BIN)/pytest --db postgresql -n $(PYTEST_WORKERS)

install: $(VENV)/.installed $(GOVUK)/.installed $(CSS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(GOVUK)/.installed: node_modules/.installed
	rm -rf $(GOVUK)
	mkdir -p $(GOVUK)
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(GOVUK)/
	touch $@

# GOV.UK Frontend's Sass built with the partnership's brand and font stack (casework/styles/main.scss);
# none of GOV.UK's fonts or crown images are copied or served.
$(CSS): node_modules/.installed $(wildcard casework/styles/*.scss)
	mkdir -p $(dir $@)
	node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps --load-path=node_modules \
	  casework/styles/main.scss $@

# The installable package (dist/casework-*.whl and the source archive), carrying the built styles and
# the migrations: what production installs with pip alone (README, "Installing").
wheel: install
	$(BIN)/python -m build --no-isolation --outdir dist .

# Style, the import contracts (setup.cfg [importlinter]) and the types (setup.cfg [mypy]); CI runs it
# before the tests. docs/architecture.md says what each checks.
lint: install
	$(BIN)/ruff check casework tests bench
	PYTHONPATH=. $(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules $(GOVUK) $(dir $(CSS)) .pytest_cache build dist
