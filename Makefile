# The two commands: `make run` (serve the embedded SQLite database with demo data) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_ORGANIZATIONS ?= 300

.PHONY: run test install migrate demo openapi clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/credit-registry migrate
	$(BIN)/credit-registry demo-data --if-empty --organizations $(DEMO_ORGANIZATIONS)
	$(BIN)/credit-registry serve --no-migrate

test: install
	scripts/test.sh

migrate: install
	$(BIN)/credit-registry migrate

demo: install
	$(BIN)/credit-registry demo-data --organizations $(DEMO_ORGANIZATIONS)

openapi: install
	$(BIN)/python -m api.export_openapi

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis

ORGANIZATIONS ?= 1000000
.PHONY: bench-search
bench-search: install
	$(BIN)/python bench/search.py --organizations $(ORGANIZATIONS)
	pgdir=$$(mktemp -d /tmp/registry-pg.XXXXXX) && url=$$(scripts/pg-throwaway.sh start $$pgdir) && \
	  { $(BIN)/python bench/search.py --organizations $(ORGANIZATIONS) --database-url $$url; rc=$$?; \
	    scripts/pg-throwaway.sh stop $$pgdir; exit $$rc; }

DELIVERIES ?= 2000
.PHONY: bench-webhooks
bench-webhooks: install
	$(BIN)/python bench/webhooks.py --deliveries $(DELIVERIES)
	pgdir=$$(mktemp -d /tmp/registry-pg.XXXXXX) && url=$$(scripts/pg-throwaway.sh start $$pgdir) && \
	  { $(BIN)/python bench/webhooks.py --deliveries $(DELIVERIES) --database-url $$url; rc=$$?; \
	    scripts/pg-throwaway.sh stop $$pgdir; exit $$rc; }
