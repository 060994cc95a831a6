# Segments: `make run` serves on the embedded store, `make test` runs everything.
# Both set up their environment from scratch on a fresh machine.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := tests/acceptance/node/node_modules/.installed
PYTEST := $(PY) -m pytest -q -p no:cacheprovider

.PHONY: run test setup test-unit test-spec test-generative test-api test-acceptance test-scenario \
        test-deep test-mongodb schema bench bench-ingest bench-conditions bench-membership bench-import bench-people clean

run: $(STAMP)
	$(VENV)/bin/segments serve

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml scripts/find-python
	@if ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then \
	   PYBIN=$$(scripts/find-python) || exit 1; \
	   echo "Creating $(VENV) with $$PYBIN"; \
	   rm -rf $(VENV) && "$$PYBIN" -m venv $(VENV); \
	 fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(NODE_STAMP): tests/acceptance/node/package.json
	@command -v npm >/dev/null || { echo "error: npm (Node.js 20+) is needed for the customerio-node acceptance tests" >&2; exit 1; }
	cd tests/acceptance/node && npm install --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

test: $(STAMP) $(NODE_STAMP)
	$(PYTEST) tests

test-unit: $(STAMP)
	$(PYTEST) tests/unit
test-spec: $(STAMP)
	$(PYTEST) tests/spec
test-generative: $(STAMP)
	$(PYTEST) tests/generative
test-api: $(STAMP)
	$(PYTEST) tests/api
test-scenario: $(STAMP)
	$(PYTEST) tests/scenario
test-acceptance: $(STAMP) $(NODE_STAMP)
	$(PYTEST) tests/acceptance

# Thousands of generated conditions instead of the modest default.
test-deep: $(STAMP)
	SEGMENTS_HYPOTHESIS_PROFILE=deep $(PYTEST) tests/generative

# The same suite against a real MongoDB: SEGMENTS_MONGODB_URI=mongodb://... make test-mongodb
test-mongodb: $(STAMP) $(NODE_STAMP)
	@test -n "$$SEGMENTS_MONGODB_URI" || { echo "set SEGMENTS_MONGODB_URI" >&2; exit 1; }
	$(PYTEST) tests

# Rewrites the committed GraphQL schema artifact.
schema: $(STAMP)
	$(PY) -m resolvers.print_schema > schema.graphql

bench: bench-ingest bench-conditions bench-membership bench-import bench-people

bench-ingest: $(STAMP)
	$(PY) -m bench.ingest
bench-conditions: $(STAMP)
	$(PY) -m bench.conditions
bench-membership: $(STAMP)
	$(PY) -m bench.membership
bench-import: $(STAMP)
	$(PY) -m bench.import_export

# People pages with nested activity (issue #14): add --engine sqlite for the store of `make run`.
bench-people: $(STAMP)
	$(PY) -m bench.people_activity

clean:
	rm -rf $(VENV) tests/acceptance/node/node_modules .data
