# Thin entry points; the logic lives in devstack/ and the services.
.PHONY: up down status test lint format bench dashboards

up:            ## install what is missing, start the local stack, seed, print URLs
	@bash devstack/bootstrap.sh
	@uv run python -m devstack up

down:          ## stop everything `make up` started
	@uv run python -m devstack down

status:
	@uv run python -m devstack status

test:          ## install what is missing, then every test (starts the real components it needs)
	@bash devstack/bootstrap.sh
	@$(MAKE) --no-print-directory lint
	@uv run python -m dashboards.build --check
	@uv run pytest -p no:cacheprovider

lint:
	@uv run ruff check .
	@uv run ruff format --check .
	@uv run mypy services devstack grafana-dashboards bench

dashboards:    ## regenerate grafana-dashboards/generated/*.json from the code
	@uv run python -m dashboards.build

format:
	@uv run ruff check --fix .
	@uv run ruff format .

bench:         ## wrk figures for the running stack, side by side (run `make up` first)
	@uv run python -m bench.endpoints
