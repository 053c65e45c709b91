# Shortcuts for everyday work. Each target delegates to a script in bin/ or a tool in .venv/
# (bin/setup creates .venv on first use). `make` alone lists the targets.

PY := .venv/bin/python
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup run web worker beat test lint format migrations-check deploy-check ci

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup:  ## Create .venv and install pinned dependencies (bin/setup)
	bin/setup

run:  ## Web, worker and beat on embedded defaults, with demo data (bin/run)
	bin/run

web:  ## Only the development web server on http://127.0.0.1:8000
	bin/setup
	$(PY) manage.py runserver 127.0.0.1:8000

worker:  ## Only a Celery worker, no beat (bin/run already starts a worker with beat)
	bin/setup
	.venv/bin/celery -A voc worker --loglevel=INFO

beat:  ## Only Celery beat; run exactly one (not next to bin/run, whose worker embeds beat)
	bin/setup
	.venv/bin/celery -A voc beat --loglevel=INFO

test:  ## The whole test suite (bin/test); pass pytest options with ARGS="tests/people -x"
	bin/test $(ARGS)

lint:  ## ruff check, ruff format --check and the dependency rule (lint-imports)
	bin/setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports

format:  ## Apply ruff's safe fixes and format the code
	bin/setup
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

migrations-check:  ## Fail if a model change has no migration
	bin/setup
	$(PY) manage.py makemigrations --check --dry-run

deploy-check:  ## Django's deployment checks in production mode (as CI runs them)
	bin/setup
	VOC_ENV=production \
	  SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	  ALLOWED_HOSTS=voc.example.com \
	  DATABASE_URL="sqlite:///$$(mktemp -d)/deploy-check.sqlite3" \
	  $(PY) manage.py check --deploy --fail-level WARNING

ci:  ## Everything CI runs (.ci/run): services, lint, checks, tests with services required
	.ci/run
