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

# $(call on-both-databases,COMMAND): COMMAND on SQLite, then on a throwaway PostgreSQL cluster.
define on-both-databases
	$(1)
	pgdir=$$(mktemp -d /tmp/registry-pg.XXXXXX) && url=$$(scripts/pg-throwaway.sh start $$pgdir) && \
	  { $(1) --database-url $$url; rc=$$?; scripts/pg-throwaway.sh stop $$pgdir; exit $$rc; }
endef

ORGANIZATIONS ?= 1000000
.PHONY: bench-search
bench-search: install
	$(call on-both-databases,$(BIN)/python bench/search.py --organizations $(ORGANIZATIONS))

DELIVERIES ?= 2000
.PHONY: bench-webhooks
bench-webhooks: install
	$(call on-both-databases,$(BIN)/python bench/webhooks.py --deliveries $(DELIVERIES))

LOOKUP_ORGANIZATIONS ?= 1000000
.PHONY: bench-lookup
bench-lookup: install
	scripts/ensure-wrk.sh
	$(BIN)/python bench/lookup.py --organizations $(LOOKUP_ORGANIZATIONS)

BULK_LINES ?= 1000000
.PHONY: bench-bulk bench
bench-bulk: install
	$(BIN)/python bench/bulk.py --lines $(BULK_LINES)

# Issue 18's credit check goals, on SQLite then a throwaway PostgreSQL: one bulk check of 1,000
# codes against 1,000 single checks, and single checks under wrk against a trivial FastAPI app.
CREDIT_ORGANIZATIONS ?= 1000000
.PHONY: bench-credit
bench-credit: install
	scripts/ensure-wrk.sh
	$(call on-both-databases,$(BIN)/python bench/credit_checks.py --organizations $(CREDIT_ORGANIZATIONS) --publish)

# Issue 19's product search goal (p95 <= 10 ms through HTTP at 1,000,000 spot checks), on SQLite then PostgreSQL.
INSPECTIONS ?= 1000000
.PHONY: bench-inspections
bench-inspections: install
	$(call on-both-databases,$(BIN)/python bench/inspection_search.py --inspections $(INSPECTIONS))

# Issue 19's statistics goal (p95 <= 50 ms through HTTP at 1,000,000 organizations and 5,000,000
# records, counts kept by the writes), on SQLite then PostgreSQL, against counting the records per request.
STATISTICS_ORGANIZATIONS ?= 1000000
STATISTICS_RECORDS ?= 5000000
.PHONY: bench-statistics
bench-statistics: install
	$(call on-both-databases,$(BIN)/python bench/public_statistics.py --organizations $(STATISTICS_ORGANIZATIONS) --records $(STATISTICS_RECORDS) --publish)

# Every figure of the benchmark suite, each against its baseline from the same run; appends to
# bench/RESULTS.md. About 15 minutes on 2 cores.
bench: bench-lookup bench-bulk bench-webhooks
	$(BIN)/python bench/search.py --organizations $(ORGANIZATIONS)

# Crash safety, the full run: SIGKILL of server and worker mid-traffic, CRASH_TRIALS times on
# SQLite and on PostgreSQL. The last line sums up trials, acknowledged writes, losses and statuses.
# Then every negative control (a build with one defect: answer-before-commit, skip-webhook-sends,
# unlocked-sequence, duplicate-insert) on both databases, one line each: each must be caught by
# the check made for it. Then PostgreSQL restarted under traffic CRASH_TRIALS times (-m fast and
# -m immediate): 500s (none allowed) and the time to the first success after it is back.
CRASH_TRIALS ?= 20
.PHONY: crash
crash: install
	pgdir=$$(mktemp -d /tmp/registry-pg.XXXXXX) && url=$$(scripts/pg-throwaway.sh start $$pgdir) && \
	  { $(BIN)/python -m tests.crash_harness --trials $(CRASH_TRIALS) --database-url sqlite --database-url $$url; \
	    rc=$$?; $(BIN)/python -m tests.crash_harness --negative-control all --database-url sqlite --database-url $$url || rc=1; \
	    $(BIN)/python -m tests.crash_harness --restart-cluster $$pgdir --trials $(CRASH_TRIALS) || rc=1; \
	    scripts/pg-throwaway.sh stop $$pgdir; exit $$rc; }

# Overload: 60 s at 8x the saturating connections (wrk), then the recovery. The last line says
# PASS or FAIL with the status-code counts.
.PHONY: overload
overload: install
	scripts/ensure-wrk.sh
	$(BIN)/python bench/overload.py --seconds 60

# Mutation testing (mutmut) of the functions that decide visibility, list rules and masking, with
# the tests that cover them, on SQLite, one worker; pyproject.toml's [tool.mutmut] names the files and
# the tests. Prints each mutant the tests did not kill, with its diff, and the score last. About 30
# minutes on 2 cores; not part of `make test`. bench/RESULTS.md lists the survivors and why they live.
# MUTANTS chooses other functions (mutmut's names: module.x_function__mutmut_N). The code and masking
# cores take longer (every test reaches them; a survivor costs minutes): a deeper run is
#   make mutants MUTANTS='service.codes.* service.records.personal_data.* db.repositories.public.x_list_entries__*'
MUTANTS ?= db.repositories.records.x_visible_to__* db.repositories.records.x_event_visible_to__* \
	db.repositories.public.x__in_force__* service.records.changes.x__owned_active__* \
	service.lists.red_and_black.x_require_red_list_eligible__* db.repositories.records.x*black_entry_overlapping__* \
	service.lists.red_and_black.x_overlaps__* service.lists.red_and_black.x_end_red_entries__* \
	service.lists.red_and_black.x_end_red_entries_under_black__* db.repositories.records.x*red_entries_under_black__* \
	service.lists.red_and_black.x_reinstate_red_entries__* db.repositories.records.x*superseded_by__* \
	service.public.organizations.x__list_status__* db.repositories.public.x__on_list__* db.repositories.public.x__listed__* \
	db.repositories.public.x__black_listed__* db.repositories.public.x_list_statuses__* \
	service.records.personal_data.x_mask_fields__* service.records.fields.x_public_summary__* \
	service.organizations.master_data.x__public_columns__* service.records.personal_data.x__is_resident_id__* \
	service.records.personal_data.x__is_uscc__* service.records.personal_data.x_luhn_valid__* \
	service.records.personal_data.x_resident_id_check_valid__* service.codes.x_validate_org_code__*
.PHONY: mutants
mutants: install
	rm -rf mutants
	env -u TEST_DATABASE_URL $(BIN)/mutmut run --max-children 1 $(foreach m,$(MUTANTS),'$(m)')
	$(BIN)/python scripts/mutants_report.py $(foreach m,$(MUTANTS),'$(m)')

# Fuzzing, the deep run: tests/test_fuzzing.py with FUZZ_EXAMPLES examples per operation (the
# suite runs 20) on SQLite, then on a throwaway PostgreSQL cluster. The suite reads the cluster's
# URL from TEST_DATABASE_URL, so this is on-both-databases with that instead of --database-url.
FUZZ_EXAMPLES ?= 300
FUZZ = FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/test_fuzzing.py -q -p no:cacheprovider --durations=0
.PHONY: fuzz
fuzz: install
	$(FUZZ) -k sqlite
	pgdir=$$(mktemp -d /tmp/registry-pg.XXXXXX) && url=$$(scripts/pg-throwaway.sh start $$pgdir) && \
	  { TEST_DATABASE_URL=$$url $(FUZZ) -k postgresql; rc=$$?; scripts/pg-throwaway.sh stop $$pgdir; exit $$rc; }
