# The two commands of the README are `make run` and `make test`; each builds .venv on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
VENV_SAM  := .venv-sam
VENV_AUDIT := .venv-audit
BIN       := $(VENV)/bin
export SAM_CLI_TELEMETRY := 0
# Python keeps what it compiles (__pycache__): a machine that turns that off (PYTHONDONTWRITEBYTECODE) would
# have every test worker, local runtime and fork compile botocore, moto and the tests' rewritten asserts anew.
unexport PYTHONDONTWRITEBYTECODE
# Offline checks need a region and must not probe EC2 metadata; deploys use the caller's own settings.
OFFLINE := AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} AWS_EC2_METADATA_DISABLED=true

# The first Python >= 3.11 on PATH (3.13 is what Lambda runs); override with `make PYTHON=/path/to/python3`.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
# sam build needs python3.13 on PATH: one that runs (a pyenv shim may not), else pyenv's own 3.13.
PYTHON313 ?= $(shell for p in python3.13 $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)

.PHONY: help run test test-fast lint format build deploy bench soak mutation openapi clean lock

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

# Three stamps: `make run` installs only what serving needs (requirements-run.txt); `make test` adds the
# test tools (requirements-test.txt, in one pip run on a fresh clone); lint and the rest add the developer
# tools (requirements-dev.txt). --no-compile: Python compiles what it imports, not all 500 MB up front.
RUN_REQUIREMENTS := requirements-run.txt constraints.txt layers/shared/requirements.txt layers/ticket_codes/requirements.txt layers/render/requirements.txt
PIP_INSTALL := $(BIN)/python -m pip install --quiet --no-compile
define venv
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed (none of python3.13, python3.12, python3.11, python3 on PATH is); install one or run make PYTHON=/path/to/python3.11" >&2; exit 1; }
	@test -x $(BIN)/python || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV) && $(PIP_INSTALL) --upgrade pip; }
endef

$(BIN)/.installed-run: $(RUN_REQUIREMENTS)
	$(venv)
	$(PIP_INSTALL) -r requirements-run.txt -c constraints.txt
	@touch $@

$(BIN)/.installed-test: $(RUN_REQUIREMENTS) requirements-test.txt requirements-translator.txt
	$(venv)
	$(PIP_INSTALL) -r requirements-test.txt -c constraints.txt
	$(PIP_INSTALL) --no-deps -r requirements-translator.txt
	@touch $(BIN)/.installed-run $@

$(BIN)/.installed: $(BIN)/.installed-test requirements-dev.txt
	$(PIP_INSTALL) -r requirements-dev.txt -c constraints.txt
	@touch $@

$(VENV_SAM)/.installed: requirements-sam.txt
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed" >&2; exit 1; }
	@test -x $(VENV_SAM)/bin/python || $(PYTHON) -m venv $(VENV_SAM)
	$(VENV_SAM)/bin/python -m pip install --quiet -r requirements-sam.txt
	@touch $@

run: $(BIN)/.installed-run ## the API on http://localhost:8000 (PORT=...), Swagger UI at /docs, data kept in .local-data/ (FRESH=1: start empty; LOG_LEVEL=INFO: handler logs)
	@FRESH=$(FRESH) exec $(BIN)/python -m devserver

# Tests run on every core and one more (pytest-xdist; each worker has its own moto and local runtime): the
# end-to-end tests wait on sockets, child processes and clocks, and the extra worker keeps the cores busy
# meanwhile (2 cores: 195 -> 153 s for the same CPU). WORKERS=1 runs them in one process.
WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
PYTEST := $(BIN)/python -m pytest $(if $(filter 1,$(WORKERS)),,-n $(WORKERS) --dist worksteal)

test: $(BIN)/.installed-test ## every test: unit, integration (moto), end-to-end (HTTP against the local runtime)
	$(PYTEST)

test-fast: $(BIN)/.installed-test ## unit and integration tests only (no HTTP server), for the edit-test loop
	$(PYTEST) tests/unit tests/integration

lint: $(BIN)/.installed $(VENV_SAM)/.installed ## ruff, mypy, cfn-lint and sam validate --lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/shared devserver scripts functions
	$(OFFLINE) $(BIN)/cfn-lint template.yaml
	$(OFFLINE) $(VENV_SAM)/bin/sam validate --lint --template template.yaml

format: $(BIN)/.installed ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

build: $(VENV_SAM)/.installed ## sam build (arm64; needs python3.13 on PATH, or pyenv with 3.13)
	@test -n "$(PYTHON313)" || { echo "error: sam build needs python3.13 on PATH (Lambda's runtime); install it or run make build PYTHON313=/path/to/python3.13" >&2; exit 1; }
	$(OFFLINE) PATH="$(dir $(PYTHON313)):$$PATH" $(VENV_SAM)/bin/sam build --template template.yaml

# The cold-start benchmark runs in what Lambda has: the layer's requirements plus boto3, nothing else.
# The ticket codes layer goes to a folder of its own, on the path only of the functions that carry it.
.venv-bench/.installed: layers/shared/requirements.txt layers/ticket_codes/requirements.txt layers/render/requirements.txt constraints.txt
	@test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet -r layers/shared/requirements.txt boto3 -c constraints.txt
	.venv-bench/bin/python -m pip install --quiet --upgrade --target .venv-bench/layers/ticket_codes -r layers/ticket_codes/requirements.txt -c constraints.txt
	.venv-bench/bin/python -m pip install --quiet --upgrade --target .venv-bench/layers/render -r layers/render/requirements.txt -c constraints.txt
	@touch $@

bench: $(BIN)/.installed .venv-bench/.installed ## cold start per function vs a boto3 floor and the bare framework, DynamoDB calls per request, search read amplification
	$(BIN)/python -m scripts.bench

deploy: build ## sam deploy with samconfig.toml (ENV=prod for the prod section; see docs/DEPLOY.md)
	$(VENV_SAM)/bin/sam deploy $(if $(ENV),--config-env $(ENV))

soak: $(BIN)/.installed ## a fresh local runtime under mixed load until 10,000 bookings or 20 min: req/s, p95, RSS per 30 s
	$(BIN)/python -m scripts.soak $(SOAK_ARGS)

# Slow (hours for every mutant): a fixed sample of MUTATION_SAMPLE (150) mutants, niced, within MUTATION_MINUTES (25).
mutation: $(BIN)/.installed ## mutmut over store/ and logic/ against the unit and integration tests (not in CI)
	$(BIN)/python -m scripts.mutation $(MUTANTS)

openapi: $(BIN)/.installed ## regenerate the OpenAPI document served at /openapi.json from the handlers
	$(BIN)/python -m scripts.openapi

clean: ## remove virtualenvs and build output
	rm -rf $(VENV) $(VENV_SAM) $(VENV_AUDIT) .venv-bench .mutation .aws-sam .pytest_cache .mypy_cache .ruff_cache

lock: $(BIN)/.installed ## re-pin every transitive dependency of .venv into constraints.txt
	{ echo "# Full transitive pins for .venv (pip install -r requirements-dev.txt -c constraints.txt); regenerate with make lock."; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt

# --- operations (docs/DEPLOY.md) ---
.PHONY: audit smoke sam-local create-admin replay-domain-events prune-versions
SAM ?= $(VENV_SAM)/bin/sam

$(VENV_AUDIT)/.installed: requirements-audit.txt
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed" >&2; exit 1; }
	@test -x $(VENV_AUDIT)/bin/python || $(PYTHON) -m venv $(VENV_AUDIT)
	$(VENV_AUDIT)/bin/python -m pip install --quiet -r requirements-audit.txt
	@touch $@

audit: $(BIN)/.installed $(VENV_AUDIT)/.installed ## checkov (offline) and cfn-lint with informational checks on template.yaml
	$(OFFLINE) $(VENV_AUDIT)/bin/checkov --config-file .checkov.yaml -f template.yaml --framework cloudformation --skip-download --compact
	$(OFFLINE) $(BIN)/cfn-lint -c I -- template.yaml

# Seconds per request: cold calls of emulated (arm64 on x86) sam local containers take 31-47 s.
SMOKE_TIMEOUT ?= 30

smoke: ## end-to-end flow against BASE_URL (ADMIN_EMAIL, ADMIN_PASSWORD: an admin login there; SMOKE_TIMEOUT=60 per request)
	@test -n "$(BASE_URL)" || { echo "usage: make smoke BASE_URL=https://... ADMIN_EMAIL=... ADMIN_PASSWORD=... [SMOKE_TIMEOUT=60]" >&2; exit 2; }
	@$(or $(wildcard $(BIN)/python),$(PYTHON)) scripts/smoke.py "$(BASE_URL)" --timeout $(SMOKE_TIMEOUT)

sam-local: $(BIN)/.installed build ## sam local start-api on :3000 over a local DynamoDB (Docker; README: SAM_LOCAL_ARGS, CONTAINER_HOST, SAM=)
	$(OFFLINE) PYTHONPATH=layers/shared:. $(BIN)/python -m scripts.sam_local --sam "$(SAM)" $(SAM_LOCAL_ARGS)

create-admin: $(BIN)/.installed ## the first admin of a deployed stack: make create-admin STACK=boxoffice-prod
	@test -n "$(STACK)" || { echo "usage: make create-admin STACK=<stack name> [ADMIN_EMAIL=...] [PROMOTE=1]" >&2; exit 2; }
	@PYTHONPATH=layers/shared:. $(BIN)/python -m scripts.create_admin --stack "$(STACK)" $(if $(PROMOTE),--promote)

replay-domain-events: $(BIN)/.installed ## publish again the stream batches kept in the failures bucket: make replay-domain-events STACK=boxoffice-prod
	@test -n "$(STACK)" || { echo "usage: make replay-domain-events STACK=<stack name>" >&2; exit 2; }
	@PYTHONPATH=layers/shared:. $(BIN)/python -m scripts.replay_domain_events --stack "$(STACK)"

prune-versions: $(BIN)/.installed ## after a deploy, delete function versions no alias points at: make prune-versions STACK=boxoffice-prod [DRY_RUN=1]
	@test -n "$(STACK)" || { echo "usage: make prune-versions STACK=<stack name> [DRY_RUN=1]" >&2; exit 2; }
	@$(BIN)/python -m scripts.prune_versions --stack "$(STACK)" $(if $(DRY_RUN),--dry-run)
