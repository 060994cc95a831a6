# Segments: `make run` serves on the embedded store, `make test` runs everything.
# Both set up their environment from scratch on a fresh machine.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := tests/acceptance/node/node_modules/.installed
PYTEST := $(PY) -m pytest -q -p no:cacheprovider

.PHONY: run test setup test-unit test-spec test-generative test-api test-acceptance test-scenario \
        test-fault test-fault-deep test-deep test-plain test-mongodb schema bench bench-ingest bench-conditions bench-membership bench-import \
        bench-webhooks bench-segment-spec bench-people bench-seam clean

run: $(STAMP) console
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

# The slowest tests are listed at the end, to keep an eye on the suite's time.
test: $(STAMP) $(NODE_STAMP) console chromium
	$(PYTEST) --durations=15 tests
	$(MAKE) --no-print-directory test-plain

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
# SIGKILL of a real `segments serve` at each crash point, then restart (docs/segments.md, "Crash safety").
test-fault: $(STAMP)
	$(PYTEST) tests/fault
# The import killed after its first chunk on 50,000 rows instead of 5,000.
test-fault-deep: $(STAMP)
	SEGMENTS_FAULT_PROFILE=deep $(PYTEST) tests/fault

# The domain's plain MongoDB calls on the embedded engine WITHOUT its seam
# (SEGMENTS_EMBEDDED_SEAM=off): what a real MongoDB receives, slower but the same
# answers (docs/decisions.md #21). The tests whose answers come from the queries the
# seam rewrites ($in, _id lookups, distinct, deletes by id, filter order): the
# condition spec, the store-using unit tests, and the API tests of people, segments,
# manual segments, imports, exports, Track ingestion, isolation and subscriptions.
# Not the HTTP-only suites (validation, limits, headers, TLS, CLI) nor the volume
# tests (100k-row files, demo scaling), which add minutes and no other query.
# About 80 s on 2 cores.
PLAIN_TESTS := tests/spec tests/unit/test_change_log.py tests/unit/test_condition_next_change.py \
  tests/unit/test_csv_import.py tests/unit/test_ingest_dispatch.py tests/unit/test_people_data.py \
  tests/api/test_graphql_people.py tests/api/test_people_nested_batching.py tests/api/test_manual_people_search.py \
  tests/api/test_manual_segments.py tests/api/test_segments.py tests/api/test_track.py tests/api/test_track_grouping.py \
  tests/api/test_isolation.py tests/api/test_export.py tests/api/test_csv_import.py tests/api/test_subscriptions.py
test-plain: $(STAMP)
	SEGMENTS_EMBEDDED_SEAM=off $(PYTEST) $(PLAIN_TESTS) -k "not 100k"

# Thousands of generated conditions instead of the modest default.
test-deep: $(STAMP)
	SEGMENTS_HYPOTHESIS_PROFILE=deep $(PYTEST) tests/generative

# The same suite against a real MongoDB: SEGMENTS_MONGODB_URI=mongodb://... make test-mongodb
test-mongodb: $(STAMP) $(NODE_STAMP)
	@test -n "$$SEGMENTS_MONGODB_URI" || { echo "set SEGMENTS_MONGODB_URI" >&2; exit 1; }
	$(PYTEST) tests

# Rewrites the committed GraphQL schema artifact.
schema: $(STAMP)
	$(PY) -m api.print_schema > schema.graphql

bench: bench-ingest bench-conditions bench-membership bench-import bench-webhooks bench-segment-spec bench-people bench-seam

bench-ingest: $(STAMP)
	$(PY) -m bench.ingest
bench-conditions: $(STAMP)
	$(PY) -m bench.conditions
bench-membership: $(STAMP)
	$(PY) -m bench.membership
bench-import: $(STAMP)
	$(PY) -m bench.import_export
bench-webhooks: $(STAMP)
	$(PY) -m bench.webhooks
# Segment-spec /v1/batch next to /api/v2/batch, same run, 500 messages a request.
bench-segment-spec: $(STAMP)
	$(PY) -m bench.segment_spec

# People pages with nested activity (issue #14): add --engine sqlite for the store of `make run`.
bench-people: $(STAMP)
	$(PY) -m bench.people_activity

clean:
	rm -rf $(VENV) tests/acceptance/node/node_modules .data console/node_modules console/dist console/src/gql

# -- web console (console/: Vite + React + TypeScript) --------------------------
# Built into console/dist (not committed), rebuilt when a source or the schema changes.
CONSOLE_STAMP := console/node_modules/.installed
CONSOLE_SOURCES := $(shell find console/src console/index.html console/graphiql.html console/vite.config.ts \
                     console/codegen.ts console/tsconfig.json -type f -not -path 'console/src/gql/*' 2>/dev/null)
CHROMIUM ?= /usr/bin/chromium

.PHONY: console chromium test-browser bench-console screenshots

console: console/dist/index.html

$(CONSOLE_STAMP): console/package.json console/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm (Node.js 20.19+) is needed to build the console" >&2; exit 1; }
	cd console && npm ci --no-audit --no-fund --loglevel=error
	@touch $(CONSOLE_STAMP)

# codegen from schema.graphql, tsc --noEmit, vite build: a schema change that breaks the console fails here.
console/dist/index.html: $(CONSOLE_STAMP) $(CONSOLE_SOURCES) schema.graphql
	cd console && npm run --silent build
	@touch console/dist/index.html

# Debian's Chromium for the browser tests (a downloaded browser build cannot work here).
chromium:
	@command -v $(CHROMIUM) >/dev/null || (apt-get update && apt-get install -y chromium)
	@command -v $(CHROMIUM) >/dev/null || { echo "error: $(CHROMIUM) is missing: apt-get install chromium" >&2; exit 1; }

test-browser: $(STAMP) console chromium
	$(PYTEST) tests/browser

# Bundle size and time to first render of the segments list on demo data.
bench-console: $(STAMP) console chromium
	$(PY) -m bench.console

# Screenshots of the main screens for the README (docs/screenshots/).
screenshots: $(STAMP) console chromium
	SEGMENTS_SCREENSHOTS=docs/screenshots $(PYTEST) tests/browser

# Adversarial suites (issue 12): GraphQL and Track API fuzzing, generated isolation checks.
.PHONY: test-security test-security-deep
test-security: $(STAMP)
	$(PYTEST) tests/security
# 10,000 generated GraphQL operations and 5,000 Track API bodies instead of 600 and 600; every credential and cursor on every route.
test-security-deep: $(STAMP)
	SEGMENTS_SECURITY_PROFILE=deep $(PYTEST) tests/security

# The embedded-engine seam (api/embedded_store.py): each rule with and without it (issue #13).
bench-seam: $(STAMP)
	$(PY) -m bench.embedded_seam
# -- scale (issue #11): the 20 benchmark segments on a large demo data set, sqlite store.
# The data set is loaded once into .bench-scale/ and reused; size with ARGS="--people 100000".
.PHONY: bench-scale
bench-scale: $(STAMP)
	$(PY) -m bench.scale $(ARGS)
# The dashboard read under 50 clients from a separate process, against 1 and 2 serve processes on one sqlite file.
.PHONY: bench-dashboard
bench-dashboard: $(STAMP)
	$(PY) -m bench.dashboard $(ARGS)
# -- types (issue #13): mypy over rules/, resolvers/ and api/, configured in pyproject.toml.
# `make test` runs it first; about 20 s of CPU from a clean clone, 2 s with its cache (.mypy_cache/).
.PHONY: typecheck
typecheck: $(STAMP)
	$(PY) -m mypy
test: typecheck

# -- incremental cost (issue #11): identify -> visible p99 with 20 and with 100 segments defined.
.PHONY: bench-incremental
bench-incremental: $(STAMP)
	$(PY) -m bench.incremental $(ARGS)

# -- processes sharing a store (issue #11, decision #22): the rules-version read per pass, exits checked one by one.
.PHONY: bench-shared-store
bench-shared-store: $(STAMP)
	$(PY) -m bench.shared_store $(ARGS)
# -- the seam per engine (issue #11): the alternatives of rules 2-4 on one engine (sqlite by default), and rule 4's pass's memory.
.PHONY: bench-seam-engines
bench-seam-engines: $(STAMP)
	$(PY) -m bench.seam_engines $(ARGS)
# A segment's member pages read by batches (rules/people/segment_members.py), also without the seam.
PLAIN_TESTS += tests/unit/test_segment_members.py
