# hostnative.devpi development tasks. On a fresh Debian 12 machine as root, these install what they need:
#   make demo   - deploy devpi onto a local container host and prove it serves (the main job)
#   make test   - every test: `make check` + every Molecule scenario
#   make check  - the fast part: lint, sanity, unit tests, docs drift
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
MISE_VERSION := 2026.9.15
CACHE := $(CURDIR)/.cache
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
COLLECTION_TREE := $(CACHE)/collections/ansible_collections/hostnative/devpi
export CONTAINERS_CONF := $(CURDIR)/tests/harness/containers.conf
export PATH := $(BIN):$(PATH)
export UV_PYTHON_DOWNLOADS := never

# Wall time of each suite and scenario, printed at the end of `make test`.
TIMINGS := $(CACHE)/timings.txt
TIMED := $(CURDIR)/tests/harness/timed.sh $(TIMINGS)

# Molecule scenarios, in the order they run (each one is `molecule test -s <path>`).
SCENARIOS ?= $(patsubst molecule/%/molecule.yml,%,$(sort $(wildcard molecule/*/*/molecule.yml)))

.PHONY: help
help:
	@echo "make demo | make test | make check | make lint | make sanity | make unit | make molecule [SCENARIOS=...]"
	@echo "make docs (regenerate role READMEs) | make build (collection artifact) | make demo-down | make mutation"

## ---- prerequisites (idempotent) ----------------------------------------------------------------
.PHONY: apt uv venv images collection-link
apt:
	@missing=""; for p in podman runc debootstrap shellcheck; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

uv:
	@if [ "$$(uv --version 2>/dev/null | cut -d' ' -f2)" != "$(UV_VERSION)" ]; then \
	  echo "installing uv $(UV_VERSION)"; python3 -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"; \
	fi

venv: uv
	@uv sync --locked --quiet

# `make demo` and `make benchmark` find this checkout as hostnative.devpi through a symlinked collections tree.
# Only they use it: Molecule and ansible-lint install their own copy into the first collections path, which must
# never be this link.
collection-link:
	@mkdir -p $(dir $(COLLECTION_TREE)) && ln -sfn $(CURDIR) $(COLLECTION_TREE)

images: apt
	@tests/harness/build-images.sh bookworm trixie

## ---- fast checks ---------------------------------------------------------------------------------
.PHONY: check lint mise-lint sanity unit integration docs-check
# Lint runs through `mise run lint` here, which proves the mise task works (it calls `make lint`).
check: mise-lint sanity unit integration docs-check

lint: venv
	ruff check .
	ruff format --check .
	ansible-lint --profile production

# Caddy's binary for the devpi_caddy unit tests, unpacked from Debian's package (installing it would start a
# Caddy on this machine).
CADDY_BIN := $(CACHE)/caddy/usr/bin/caddy
$(CADDY_BIN): | apt
	@mkdir -p $(CACHE)/caddy && cd $(CACHE)/caddy && apt-get -o APT::Sandbox::User=root download caddy >/dev/null && dpkg-deb -x caddy_*.deb . && rm -f caddy_*.deb

# Prometheus' promtool for the devpi_monitoring rule tests, unpacked from Debian's package the same way.
PROMTOOL_BIN := $(CACHE)/prometheus/usr/bin/promtool
$(PROMTOOL_BIN): | apt
	@mkdir -p $(CACHE)/prometheus && cd $(CACHE)/prometheus && apt-get -o APT::Sandbox::User=root download prometheus >/dev/null && dpkg-deb -x prometheus_*.deb . && rm -f prometheus_*.deb

# mise from the npm registry (its own binary, no download from elsewhere), for the mise.toml tasks and their test.
MISE_BIN := $(CACHE)/mise/node_modules/.bin/mise
export MISE_TRUSTED_CONFIG_PATHS := $(CURDIR)
export MISE_YES := 1
$(MISE_BIN):
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null; }
	@npm install --silent --no-audit --no-fund --prefix $(CACHE)/mise @jdxcode/mise@$(MISE_VERSION) >/dev/null

mise-lint: $(MISE_BIN)
	$(TIMED) "lint (mise run lint)" $(MISE_BIN) run lint

# In process: the collection's code imported and called (under a minute).
unit: venv
	$(TIMED) "unit tests" pytest -q tests/unit

# Real devpi-server, ansible-playbook, Caddy, promtool, mise and the galaxy build, on both cores; the bad-input cases
# of a role run as one playbook (conftest.role_batch), on one worker (loadgroup).
integration: venv $(CADDY_BIN) $(PROMTOOL_BIN) $(MISE_BIN)
	CADDY=$(CADDY_BIN) PROMTOOL=$(PROMTOOL_BIN) MISE=$(MISE_BIN) $(TIMED) "integration tests" pytest -q -n 2 --dist loadgroup tests/integration

docs-check: venv
	python3 tests/harness/role_docs.py --check

sanity: venv apt
	$(TIMED) "ansible-test sanity" tests/harness/sanity.sh

## ---- Molecule --------------------------------------------------------------------------------------
.PHONY: molecule test galaxy-import
# Two lanes at once (tests/harness/molecule-lanes.sh; MOLECULE_LANES=1 for one by one). MISE: the
# devpi_caddy/elsewhere scenario's controller container runs the example repo's mise tasks with it.
molecule: venv images $(MISE_BIN)
	@MISE=$(MISE_BIN) tests/harness/molecule-lanes.sh $(TIMINGS) $(SCENARIOS)

# The validation Galaxy runs on import (ansible-doc of every plugin, ansible-lint of the content), on the artifact
# `make build` makes; any error or warning fails.
galaxy-import: build
	@artifact=$$(cd build && ls hostnative-devpi-*.tar.gz) && echo "galaxy-importer build/$$artifact" && \
	(cd build && $(TIMED) galaxy-importer python3 -m galaxy_importer.main "$$artifact" > galaxy-importer.log 2>&1) || { cat build/galaxy-importer.log; exit 1; }; \
	if grep -E "WARNING|ERROR" build/galaxy-importer.log; then echo "galaxy-importer reported the lines above"; exit 1; fi; \
	tail -n 1 build/galaxy-importer.log

# Mutation testing of plugins/ against the in-process unit suite (not part of `make test`): prints the kill rate
# and the survivors; docs/testing.md explains them.
.PHONY: mutation
mutation: uv
	uv sync --locked --quiet --group mutation
	tests/harness/mutation.sh

.PHONY: timings-reset
timings-reset:
	@mkdir -p $(CACHE) && rm -f $(TIMINGS)

test: timings-reset check galaxy-import molecule
	@echo "Wall time of each part (seconds):" && cat $(TIMINGS)

## ---- main job ----------------------------------------------------------------------------------------
.PHONY: demo demo-down
demo: venv images collection-link
	ANSIBLE_COLLECTIONS_PATH=$(CACHE)/collections tests/harness/demo.sh up

demo-down: apt
	tests/harness/demo.sh down

## ---- docs and artifact -----------------------------------------------------------------------------
.PHONY: benchmark
# The benchmarks, one after the other; each prints its table (ratios against a baseline measured in the same run).
benchmark: venv images collection-link
	python3 benchmarks/converge.py
	python3 benchmarks/serving.py
	python3 benchmarks/replication.py
	python3 benchmarks/backup.py
	python3 benchmarks/metrics.py

.PHONY: docs build
docs: venv
	python3 tests/harness/role_docs.py --write

build: venv
	@rm -rf build && mkdir -p build && ansible-galaxy collection build --force --output-path build .
