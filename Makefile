PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install sandbox test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Byte-compiled up front (a no-op when up to date): where PYTHONDONTWRITEBYTECODE is set, every
# start-up would otherwise compile the engine's modules again (~0.2 s)
BYTECODE := $(BIN)/python -m compileall -q mocks >/dev/null

sandbox: $(STAMP)
	$(BYTECODE)
	$(BIN)/mocks serve $(ARGS)

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check mocks tests examples benchmarks

# make bench: in-process, then over HTTP against the sandbox's HTTP layer alone (a fixed answer) and bare Starlette,
# the memory store beside the Redis store at 1 and 2 workers (a redis-server of its own on a free port, or
# ARGS="--redis URL"), then Redis memory per stored resource
# (benchmarks/redis_memory.py: REDIS_URL or a redis-server of its own); ANCHORS=1 adds WireMock and Prism
# (npm packages installed into .cache/anchors/ on first use). ARGS go to benchmarks.http, e.g.
# make bench ARGS="--seconds 3 --rounds 1 --soak 10"
bench: $(STAMP)
	$(BYTECODE)
	command -v wrk >/dev/null || (apt-get install -y -q wrk >/dev/null 2>&1 || echo "wrk unavailable: HTTP rounds skipped")
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.http $(if $(ANCHORS),--anchors) $(ARGS)
	$(BIN)/python -m benchmarks.redis_memory

clean:
	rm -rf $(VENV) build *.egg-info
