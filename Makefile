# Thin entry points; the logic lives in devstack/ and the services.
.PHONY: help up down status test lint format bench loadtest dashboards docs profile kube-tools chart-lock cert-manager images base-image apiserver cluster deploy cluster-down cluster-loadtest
.DEFAULT_GOAL := help

# uv lands in /usr/local/bin as root (already on PATH); without root in ~/.local/bin, which
# a fresh Debian shell lacks, so recipes look there too.
export PATH := $(PATH):$(HOME)/.local/bin

help:          ## list the targets
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

up:            ## install what is missing, start the local stack, seed, print URLs
	@bash devstack/bootstrap.sh
	@uv run python -m devstack up

down:          ## stop everything `make up` started
	@uv run python -m devstack down

status:        ## show what the local stack runs
	@uv run python -m devstack status

test:          ## install what is missing, then every test (starts the real components it needs)
	@bash devstack/bootstrap.sh
	@uv run python -m devstack.prebuild start --owner $$PPID  # cold: Go builds in the background
	@$(MAKE) --no-print-directory lint
	@uv run python -m dashboards.build --check
	@uv run python -m devstack.docs reference --check
	@uv run pytest -p no:cacheprovider

lint:          ## ruff, mypy (strict) over every package, import contracts (pyproject.toml)
	@uv run ruff check .
	@uv run ruff format --check .
	@uv run lint-imports --no-logo --no-cache
	@# one run per package: each service has its own tests/conftest.py
	@for pkg in services/*/ grafana-dashboards devstack bench loadtest tests k8s charts operator; do \
	  printf '%s: ' "$$pkg"; uv run mypy "$$pkg" || exit 1; done

dashboards:    ## regenerate grafana-dashboards/generated/*.json from the code
	@uv run python -m dashboards.build

docs:          ## regenerate the configuration reference and build the docs site into site/
	@uv run python -m devstack.docs reference
	@uv run python -m devstack.docs build

format:        ## ruff fixes and formatting
	@uv run ruff check --fix .
	@uv run ruff format .

bench:         ## the store against its ceiling, side by side in one run; report into docs/bench/ [BENCH_ARGS=--baseline=DIR]
	@bash devstack/bootstrap.sh
	@uv run python -m bench $(BENCH_ARGS)

loadtest:      ## Locust shoppers against the running stack (gateway limits lifted): make loadtest [PROFILE=smoke|shop|soak|ui]
	@uv run python -m bench.loadtest $(or $(PROFILE),smoke)

profile:       ## pyinstrument reports of a live endpoint: make profile URL=http://127.0.0.1:8000/products [REPEAT=3]
	@test -n "$(URL)" || { echo 'usage: make profile URL=http://127.0.0.1:8000/products [REPEAT=3]' >&2; exit 2; }
	@uv run python -m devstack.profile "$(URL)" --repeat $(or $(REPEAT),1)

kube-tools:    ## build helm, the Kubernetes binaries, etcd, kind, crictl, CoreDNS, pause (cached)
	@uv run python -m k8s.toolchain all

chart-lock:    ## rewrite charts/store/Chart.lock after changing its dependencies (offline)
	@uv run python charts/lock.py

cert-manager:  ## install cert-manager (K8ssandra's prerequisite) into the current kube context
	@bash charts/cert-manager.sh

images:        ## build every container image here (installs/starts Docker if needed), print sizes
	@bash devstack/bootstrap.sh
	@uv run python -m devstack.images

base-image:    ## the Debian, Python, nginx and JRE base images (debootstrap + docker import, cached)
	@uv run python -m devstack.images bases

apiserver:     ## etcd + kube-apiserver on loopback for manual checks; prints KUBECONFIG
	@uv run python -m k8s.apiserver

cluster:       ## one-node kind cluster from parts built here (cached), ingress on 127.0.0.1:80
	@bash devstack/install-uv.sh && uv sync --frozen --quiet
	@uv run python -m k8s.cluster up

deploy:        ## make cluster, then the store's images into kind and the chart (dev profile)
	@bash devstack/install-uv.sh && uv sync --frozen --quiet
	@uv run python -m k8s.cluster deploy

cluster-down:  ## delete the kind cluster; stop Docker only if `make cluster` started it
	@uv run python -m k8s.cluster down

cluster-loadtest: ## the chart's Locust Job once on the kind cluster; report in var/loadtest-report/ [LOADTEST_ARGS=--users 20]
	@uv run python -m k8s.loadtest $(LOADTEST_ARGS)
