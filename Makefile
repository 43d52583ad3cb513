# The few verbs people type. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
K ?= 8
# Tests run against the real services (CI starts them; see .ci/run).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: install demo data run worker serve test lint format bench clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(BIN)/.installed

# Fresh machine -> ML-100K segmented and served at http://$(HOST):$(PORT) (SQLite, no servers).
demo: install data run
	$(BIN)/python manage.py demo_login
	$(MAKE) serve

data: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py import_movielens "$$($(BIN)/python manage.py fetch_movielens --print-dir)"

run: install
	$(BIN)/python manage.py run_segmentation --k $(K)

worker: install
	$(BIN)/celery -A segrec_site worker --pool=solo --loglevel=INFO

# The web server plus a worker for the admin's Run button; both stop together.
serve: install
	$(BIN)/celery -A segrec_site worker --pool=solo --loglevel=WARNING & \
	worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(BIN)/python -m pytest
	# The import tests again on SQLite, the laptop's database and its own bulk path
	# (an in-memory test database: the file named is never created).
	DATABASE_URL=sqlite:///$(CURDIR)/var/sqlite-tests.sqlite3 \
		$(BIN)/python -m pytest tests/catalog

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Reads ../shared/data/ml-100k, or the copy `make data` fetched into var/data.
bench: install
	@test -d ../shared/data/ml-100k || test -d var/data/ml-100k || \
		$(BIN)/python manage.py fetch_movielens
	$(BIN)/python bench/run_all.py

clean:
	rm -rf var/broker
