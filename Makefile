# iexec-kit: the commands of the README.
#   make lab        JupyterLab on notebooks/ at 127.0.0.1
#   make page       the demo page (Voilà) at 127.0.0.1:8866
#   make board      a workshop's board (Voilà) at 127.0.0.1:8867, for a projector
#   make demo       the headless end-to-end demo
#   make test       lint, then the whole suite, notebooks included
#   make lint       ruff check and ruff format --check
#   make fmt        ruff format, then ruff check --fix
# Each creates .venv when missing and installs only what changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
PAGE_PORT ?= 8866
PAGE   := notebooks/page/demo_page.ipynb
BOARD  := notebooks/page/pool_board.ipynb
BOARD_PORT ?= 8867
# the node whose scheduler the board shows (its node.json); SCHEDULER=URL names one directly
NODE_FOLDER ?= $(CURDIR)/.sandbox/node
# kernels that run the page before anyone comes (a visitor gets one at once; Voila starts the next)
PAGE_POOL ?= 2
# pytest-xdist processes for make test (most tests wait on a chain, a CLI or an app, so 3 keep 2 cores busy)
TEST_WORKERS ?= 3

# Debian packages some tests need, as command=package pairs (installed when missing and root).
SYSDEPS ?= ipfs_cid=ipfs-cid gimp=gimp openssl=openssl unzip=unzip dockerd=docker.io debootstrap=debootstrap chromium=chromium

.PHONY: install lab page board demo test lint fmt contracts bench sysdeps node clean help docker-app

help:
	@sed -n '1,10p' Makefile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project's dependency list changed.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

node: node_modules/.package-lock.json

sysdeps:
	@bash scripts/ensure-apt.sh $(SYSDEPS)

lab: $(STAMP) node
	$(BIN)/jupyter lab --notebook-dir=notebooks --ip=127.0.0.1 --port=$(PORT) --no-browser \
		$$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# The demo page: Voilà on 127.0.0.1, code hidden, no tracebacks on the page; each browser
# session gets its own kernel, so its own sandbox. Voilà's own server has no root check (unlike
# jupyter lab, it takes no --allow-root): as root it runs the same, and says so.
page: $(STAMP)
	@[ "$$(id -u)" = 0 ] && echo "(running as root: Voila's server needs no --allow-root)" || true
	@echo "the demo page: http://127.0.0.1:$(PAGE_PORT)/  (Ctrl-C stops it)"
	$(BIN)/voila $(PAGE) --Voila.ip=127.0.0.1 --port=$(PAGE_PORT) --no-browser \
		--show_tracebacks=False --preheat_kernel=True --pool_size=$(PAGE_POOL) $(PAGE_ARGS)

# The facilitator's board: the workerpool live (GET /pool of the node's scheduler), read only.
board: $(STAMP)
	@echo "the workshop's board: http://127.0.0.1:$(BOARD_PORT)/  (Ctrl-C stops it)"
	IEXEC_KIT_NODE_FOLDER=$(NODE_FOLDER) $(if $(SCHEDULER),IEXEC_KIT_SCHEDULER_URL=$(SCHEDULER)) \
		$(BIN)/voila $(BOARD) --Voila.ip=127.0.0.1 --port=$(BOARD_PORT) --no-browser \
		--show_tracebacks=False

demo: $(STAMP)
	$(BIN)/iexec-kit demo

test: $(STAMP) node sysdeps
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --nbmake tests notebooks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

contracts: $(STAMP) node
	$(BIN)/python -m iexec_kit.chain.compile

# the demo app's Docker image, built offline on the kit's private engine (see README)
docker-app: $(STAMP)
	bash scripts/docker-engine.sh start
	bash scripts/docker-build-app.sh $(BIN)/python

bench: $(STAMP) node
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) node_modules .pytest_cache
