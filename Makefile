.PHONY: run test lint format bench

run:  ## Run everything on this machine with embedded defaults
	scripts/run.sh

test:  ## Run every test (PostgreSQL, Redis, Celery, site agent, Slurm) and the linters
	scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports --no-cache

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

bench:
	.venv/bin/python bench/projects_list.py
