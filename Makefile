# Every target is idempotent and needs only python3 (3.11) on a fresh Debian machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install run test test-postgres lint migrate content index demo-user widget-demo-key chromium clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

content: migrate
	$(PY) manage.py import_content content/

index: content
	$(PY) manage.py update_index

demo-user: migrate
	$(PY) manage.py create_demo_admin

# A widget key for /widget-demo/, kept in KB_DATA_DIR/widget-demo-key and reused.
widget-demo-key: migrate
	$(PY) manage.py create_api_key "Widget demo" --scope widget --demo \
		--origin http://127.0.0.1:$(PORT) --origin http://localhost:$(PORT)

run: index demo-user widget-demo-key
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Debian's Chromium for the browser tests (tests/browser); Playwright's own browser
# downloads are never used. Without it those tests skip and say why.
chromium:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || \
		echo "chromium could not be installed: the browser tests will be skipped."; }

test: install chromium
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

# The whole suite again on a throwaway PostgreSQL cluster (installed when missing).
test-postgres: install
	.ci/with-postgres.sh $(PY) -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var .pytest_cache
