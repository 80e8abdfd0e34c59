# The few commands a person types. Everything runs from the project's own venv.
VENV   ?= .venv
PYTHON ?= $(shell command -v python3.11 || command -v python3)
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint fuzz bench bench-http bench-screening bench-screening-sentences worker beat clean

$(BIN)/.installed: pyproject.toml client/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Airlock needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ./client -e ".[dev]"
	@touch $@

install: $(BIN)/.installed

# Embedded defaults: SQLite in var/, eager Celery, in-memory channel layer, DEBUG on.
# Set DATABASE_URL / REDIS_URL (and SECRET_KEY, DEBUG=0) for the real services.
run: export DEBUG ?= 1
run: $(BIN)/.installed
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	@$(BIN)/python manage.py welcome --url http://$(HOST):$(PORT)
	exec $(BIN)/uvicorn airlock.asgi:application --host $(HOST) --port $(PORT)

# The tests run on whatever DATABASE_URL / REDIS_URL say: unset, SQLite and eager Celery.
test: $(BIN)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# Schemathesis against a real server on PostgreSQL, as CI runs it (.ci/fuzz-api.sh):
#   make fuzz DATABASE_URL=postgres://postgres@127.0.0.1:5432/airlock_fuzz [REDIS_URL=…]
fuzz: $(BIN)/.installed
	bash .ci/fuzz-api.sh "$(DATABASE_URL)" "$(REDIS_URL)"

# Measures ingest throughput against a fresh server on PostgreSQL (see docs/performance.md).
bench: $(BIN)/.installed
	bash benchmarks/ingest.sh

# The HTTP fast path with wrk, next to pgbench, a bare Django view and the previous
# revision, all in one run (docs/performance.md, "The HTTP fast path").
bench-http: $(BIN)/.installed
	$(BIN)/python benchmarks/http_fastpath.py

# Screening quality on realistic payloads (now, before, plain Presidio) and speed.
bench-screening: $(BIN)/.installed
	$(BIN)/python benchmarks/sanitizer_quality.py
	$(BIN)/python benchmarks/sanitizer_speed.py

# The older sentence-level comparison; presidio-evaluator pins packages we do not
# need (transformers...): --no-deps.
bench-screening-sentences: $(BIN)/.installed
	$(BIN)/pip install --quiet pandas xmltodict
	$(BIN)/pip install --quiet --no-deps presidio-evaluator==0.3.2
	$(BIN)/python benchmarks/sanitizer_quality_sentences.py

worker: $(BIN)/.installed
	$(BIN)/celery -A airlock worker --loglevel INFO

beat: $(BIN)/.installed
	$(BIN)/celery -A airlock beat --loglevel INFO --schedule var/celerybeat-schedule

clean:
	rm -rf $(VENV) var/*.sqlite3* var/static var/fuzz .pytest_cache .mypy_cache .ruff_cache .schemathesis
