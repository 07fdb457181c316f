# make run  - set everything up and start the app with demo data (SQLite in instance/)
# make test - set everything up and run the whole suite
# make bench - print the benchmark figures (check-in, map, matching, geometry, reports, drill replay, load)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := $(BIN)/flask --app dvc
CATALOGS := $(wildcard translations/*/LC_MESSAGES/*.po)
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-db bench i18n i18n-extract browser server-tools clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

i18n: $(STAMP) $(CATALOGS:.po=.mo)

translations/%.mo: translations/%.po $(STAMP)
	$(BIN)/pybabel -q compile -f -i $< -o $@

i18n-extract: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k N_ -o translations/messages.pot .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations -D messages --no-fuzzy-matching

run: $(STAMP) i18n
	$(FLASK) init-db
	$(FLASK) demo-data
	$(FLASK) serve

# Debian's chromium for the browser tests; installed when missing and we are root.
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "chromium is missing and we are not root: browser tests will be skipped"; fi; \
	fi

# nginx, for the server kit's tests (deploy/nginx/dvc.conf); installed when missing and we are
# root, and not left running (the tests start their own on free ports).
server-tools:
	@if ! command -v nginx >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null; \
	    nginx -s quit >/dev/null 2>&1 || true; \
	  else echo "nginx is missing and we are not root: the nginx tests will be skipped"; fi; \
	fi

test: $(STAMP) i18n browser server-tools
	$(BIN)/pytest -q

# The database tests again on PostgreSQL (used by .ci/run where PostgreSQL is running).
test-db: $(STAMP) i18n server-tools
	DVC_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q tests/integration

bench: $(STAMP) i18n browser
	$(BIN)/python bench/checkin.py
	$(BIN)/python bench/map.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/geo.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/replay.py
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache
