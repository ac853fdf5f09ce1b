# The front door: `make run` starts the whole service, `make test` tests it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LOAD_STAMP := $(VENV)/.installed-load
USERS ?= 500
SPAWN_RATE ?= 25
DURATION ?= 60s
PROCESSES ?=
RATE ?= 0.2
SETTLE ?= 600
HOST ?= http://127.0.0.1:8000

.DEFAULT_GOAL := help
.PHONY: help install preflight migrate seed run reset status backlog dlq loadtest bench bench-scale profile chaos test test-unit lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version)); set PYTHON=python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the pinned dependencies

$(LOAD_STAMP): $(STAMP) requirements-load.txt
	$(PY) -m pip install --quiet -r requirements-load.txt
	touch $(LOAD_STAMP)

preflight: install ## check PostgreSQL and RabbitMQ answer; create the database; enable the management UI
	$(PY) -m config.preflight

migrate: preflight ## apply the database migrations (aerich)
	$(VENV)/bin/aerich upgrade

seed: migrate ## load the demo data and write loadtest/users.csv
	$(PY) -m models.seed --csv loadtest/users.csv

run: seed ## run API, worker pool, notifier and SMTP sink in the foreground (Ctrl-C stops all)
	@$(PY) -m config.preflight --banner
	@# Ctrl-C ends honcho with 130 after a clean stop: that is success here.
	@$(VENV)/bin/honcho -f Procfile start; status=$$?; [ $$status -eq 0 ] || [ $$status -eq 130 ] || exit $$status

reset: install ## start from scratch (service stopped): drop the database and the queues, remove var/mail
	$(PY) -m workers.reset

backlog: install ## publish COUNT (default 5000) request commands straight to RabbitMQ, to watch the pool scale (SEED repeats a run)
	$(PY) -m loadtest.backlog --count $(or $(COUNT),5000) $(if $(SEED),--seed $(SEED))

dlq: install ## list dead letters; ACTION=replay or ACTION=purge, QUEUE=commands|mail, ID=<message id>
	$(PY) -m workers.dlq $(or $(ACTION),list) --queue $(or $(QUEUE),all) $(if $(ID),--id $(ID))

status: install ## worker pool sizes, queue depths, activations by status
	@$(PY) -m workers.status

test: preflight $(LOAD_STAMP) ## run every test (unit and integration, against the real PostgreSQL and RabbitMQ)
	$(PY) -m pytest

test-unit: install ## run only the tests that need no services
	$(PY) -m pytest -m "not integration"

bench: preflight $(LOAD_STAMP) ## our API and workers against the raw ceilings; var/bench/latest.json, docs/benchmarks.md
	@command -v wrk >/dev/null || { echo "make bench needs wrk (e.g. apt-get install wrk)"; exit 1; }
	$(PY) -m loadtest.bench

profile: preflight $(LOAD_STAMP) ## py-spy profiles of the API (TARGET=api) or the workers draining a backlog (TARGET=drain)
	@command -v wrk >/dev/null || { echo "make profile needs wrk (e.g. apt-get install wrk)"; exit 1; }
	$(PY) -m loadtest.profiling $(or $(TARGET),api)

bench-scale: preflight ## drain 20,000 commands with 1 worker and autoscaled; writes docs/bench-scale.*
	$(PY) -m loadtest.bench_scale $(if $(COUNT),--count $(COUNT))

loadtest: $(LOAD_STAMP) ## locust against a running instance (USERS, SPAWN_RATE, DURATION, RATE, PROCESSES, HOST); then the books
	@case "$(USERS)" in ''|*[!0-9]*|0) echo "USERS must be a whole number above 0, not '$(USERS)'."; exit 2;; esac
	@case "$(HOST)" in http://?*|https://?*) ;; *) echo "HOST must be a URL such as http://127.0.0.1:8000, not '$(HOST)'."; exit 2;; esac
	@curl -fsS -o /dev/null --max-time 5 $(HOST)/health || { echo "Nothing answers at $(HOST)/health: start the service (make run) or point HOST at it."; exit 2; }
	@rm -rf var/loadtest && mkdir -p var/loadtest
	LOADTEST_RATE=$(RATE) $(VENV)/bin/locust -f loadtest/locustfile.py --headless --only-summary -u $(USERS) -r $(SPAWN_RATE) \
		-t $(DURATION) --host $(HOST) $(if $(PROCESSES),--processes $(PROCESSES)) --stop-timeout 10 \
		--html var/loadtest/report.html --csv var/loadtest/stats --csv-full-history --exit-code-on-error 0
	$(PY) -m loadtest.report --settle-timeout $(SETTLE)

chaos: preflight ## mixed load while killing workers and restarting RabbitMQ, PostgreSQL, SMTP; balances the books
	$(PY) -m loadtest.chaos $(if $(COMMANDS),--commands $(COMMANDS))

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy config models web workers

clean: ## remove the virtualenv and local state (mail, logs)
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
