# Parta: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export HOST PORT

.PHONY: run test test-sqlite test-postgres install install-dev catalogs catalogs-update static chromium coturn migrate clean

run: install catalogs static
	$(PY) -m flask --app app setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile -p $(PORT)

test: install-dev catalogs static chromium coturn test-sqlite test-postgres

test-sqlite:
	$(PY) -m pytest

test-postgres:
	@$(PY) -c "import psycopg2, sys; psycopg2.connect(sys.argv[1]).close()" "$(TEST_DATABASE_URL)" \
	  || { echo "PostgreSQL at $(TEST_DATABASE_URL) does not answer: start it or set TEST_DATABASE_URL"; exit 1; }
	TEST_DATABASE_URL="$(TEST_DATABASE_URL)" $(PY) -m pytest -m "not browser and not network"

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || { \
	  [ "$$(id -u)" = 0 ] && apt-get update -q && apt-get install -y -q python3-venv && $(PYTHON) -m venv $(VENV); }

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

catalogs: install
	$(VENV)/bin/pybabel compile -d translations 2>&1 | grep -v "^compiling" || true

static: install
	$(PY) -m whitenoise.compress -q static

migrate: install
	$(PY) -m flask --app app migrate

# Browser tests drive Debian's Chromium; nothing downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else sudo apt-get update -q && sudo apt-get install -y -q chromium; fi; }

# tests/test_turn.py (marker `network`, root only) runs Debian's coturn in a network namespace
# whose nftables rules drop all UDP. The package would also start a system-wide turnserver
# without authentication: the target stops and disables that one.
coturn:
	@if [ "$$(id -u)" != 0 ]; then echo "not root: tests/test_turn.py will be skipped, coturn not installed"; \
	elif ! command -v turnserver >/dev/null || ! { command -v nft || command -v iptables; } >/dev/null; then \
	  apt-get update -q && apt-get install -y -q coturn nftables \
	  && { systemctl disable --now coturn >/dev/null 2>&1 || true; }; fi

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
	find static -name '*.gz' -delete -o -name '*.br' -delete

# After changing user-facing strings: refresh the catalogs, then translate what is new.
catalogs-update: install
	$(VENV)/bin/pybabel extract -F translations/babel.cfg -k _l -k lazy_gettext \
	  --project=Parta --version=1.0 --sort-by-file --add-comments=Translators: \
	  -o translations/messages.pot .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations
