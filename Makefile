# Thin entry points; the logic lives in devstack/ and the services.
.PHONY: up down status test lint format bench dashboards profile

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
	@# one run per package: each service has its own tests/conftest.py
	@for pkg in services/* grafana-dashboards devstack bench tests; do \
	  printf '%s: ' "$$pkg"; uv run mypy "$$pkg" || exit 1; done

dashboards:    ## regenerate grafana-dashboards/generated/*.json from the code
	@uv run python -m dashboards.build

format:
	@uv run ruff check --fix .
	@uv run ruff format .

bench:         ## wrk figures for the running stack, side by side (run `make up` first)
	@uv run python -m bench.endpoints

profile:       ## pyinstrument reports of a live endpoint: make profile URL=http://127.0.0.1:8000/products [REPEAT=3]
	@test -n "$(URL)" || { echo 'usage: make profile URL=http://127.0.0.1:8000/products [REPEAT=3]' >&2; exit 2; }
	@uv run python -m devstack.profile "$(URL)" --repeat $(or $(REPEAT),1)
