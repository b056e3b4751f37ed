# Two commands on a fresh machine: `make serve` (install, build the graph from seeds/, serve it) and
# `make test` (install, including the headless Chromium the UI tests drive, and run the tests).
VENV ?= .venv
PY := $(VENV)/bin/python
STORE ?= data/store
HOST ?= 127.0.0.1
PORT ?= 7878

.PHONY: install system-deps build serve test bench lint clean

$(VENV)/.installed: requirements.lock pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed

# Debian's Chromium for the browser tests (no browser download at test time: the network only reaches registries)
system-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; \
	fi

build: install
	$(VENV)/bin/kg build --store $(STORE)

serve: build
	$(VENV)/bin/kg serve --store $(STORE) --host $(HOST) --port $(PORT)

test: install system-deps
	$(PY) -m pytest -q

bench: install
	$(PY) -m bench

lint: install
	$(VENV)/bin/ruff check kg tests bench

clean:
	rm -rf data test-output .pytest_cache
