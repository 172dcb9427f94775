# Two commands for a newcomer: `make run` and `make test`. Everything else is set up on demand.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
MODEL := models/faq.tar.gz
TRAINING_DATA := bot/data/faq.yml config.yml domain.yml data/nlu.yml data/rules.yml data/stories.yml addons/tfidf_classifier.py
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONWARNINGS := ignore

# Rasa 3.6 needs Python 3.10: take python3.10 from the PATH, or from pyenv's versions.
PYTHON310 := $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo $$p; break; }; done)

.PHONY: help setup system-packages sync train run shell test lint report review import-faq purge lock clean bench bench-quick cluster bench-cluster
.DEFAULT_GOAL := help

help:  ## this list (`make run` and `make test` are all a newcomer needs)
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/\1\t\2/' | \
	  awk -F'\t' '{ printf "  make %-14s %s\n", $$1, $$2 }'

$(VENV)/.installed: requirements.txt
	@test -n "$(PYTHON310)" || { echo "Python 3.10 est introuvable (Rasa 3.6 en a besoin)."; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip==24.0
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip check
	touch $@

# The chat widget (rasa-webchat, pinned in package-lock.json, with its accessibility patch from
# patches/ applied by patch-package), served by ops/web/server.py; axe-core for the browser tests.
# Dependencies' install scripts stay off: only our own patch step runs.
WEBCHAT := node_modules/rasa-webchat/lib/index.js
$(WEBCHAT): package.json package-lock.json $(wildcard patches/*.patch)
	@command -v npm >/dev/null || { echo "npm est introuvable (Node.js 20 installe le widget web)."; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	npx --no-install patch-package --error-on-fail
	touch $@

setup: $(VENV)/.installed $(WEBCHAT)

sync: setup  ## regenerate the FAQ intents of domain.yml and data/rules.yml from bot/data/faq.yml
	$(PY) -m maintenance.sync

$(MODEL): $(VENV)/.installed $(TRAINING_DATA)
	$(PY) -m maintenance.sync
	$(PY) -m addons.cli train --fixed-model-name faq --out models
	touch $(MODEL)

train: $(MODEL)  ## train models/faq.tar.gz when the data or the pipeline changed (make run and make test do it)

run: $(MODEL) $(WEBCHAT)  ## action server + Rasa server (REST on localhost:5005) + web page (http://localhost:8080), Ctrl-C stops all
	$(PY) -m ops.serve

cluster: $(MODEL) $(WEBCHAT)  ## REPLICAS Rasa replicas (2) x WORKERS (1), ACTION_SERVERS (2), PostgreSQL, Redis, all behind nginx on localhost:5005
	$(PY) -m ops.cluster.run $(if $(REPLICAS),--replicas $(REPLICAS)) $(if $(WORKERS),--workers $(WORKERS)) \
	  $(if $(ACTION_SERVERS),--action-servers $(ACTION_SERVERS)) $(if $(PORT),--port $(PORT))

shell: $(MODEL)  ## Rasa's terminal shell, custom actions included
	$(PY) -m ops.serve --shell

# Browser and cluster tests need Debian packages (Chromium, PostgreSQL, Redis, nginx): installed with
# apt-get as root or through sudo, else the exact command to run is printed.
system-packages:  ## the Debian packages the tests need (apt-get, as root or with sudo)
	@scripts/install-system-packages.sh

test: system-packages $(MODEL) $(WEBCHAT)  ## everything the tests need, then lint, format check and the whole suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: $(VENV)/.installed  ## fix what ruff can (imports, format); `make test` checks it
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup $(MODEL)  ## benchmarks, one run (~2 h when the data changed: three stock Rasa trainings, kept in models/bench/; ~30 min after): answer quality vs baselines, latency, throughput, footprint -> bench/RESULTS.md; cluster mode -> bench/CLUSTER.md; the maintainers' grouping -> bench/GROUPING.md
	$(PY) -m maintenance.sync
	$(PY) -m bench.run --cluster
	$(PY) -m bench.grouping

bench-quick: $(MODEL) $(WEBCHAT)  ## the benchmark on a small sample in a few minutes (CI check) -> test-output/bench/RESULTS.md
	$(PY) -m bench.run --quick

bench-cluster: $(MODEL)  ## cluster mode alone: throughput and p95 of 1 vs 2 replicas (and workers) at 32 conversations -> bench/CLUSTER.md
	$(PY) -m bench.cluster

report: setup  ## maintainers' report: terminal tables + reports/ (CSV, HTML with charts); DAYS=N for the last N days
	$(PY) -m maintenance.report --out reports $(if $(DAYS),--days $(DAYS))

review: $(VENV)/.installed  ## FAQ maintainers: the groups of unanswered questions, one by one, into data/nlu.yml (DECISIONS=file.csv: from a file, no retraining; DAYS=N)
	$(PY) -m maintenance.review $(if $(DECISIONS),--decisions $(DECISIONS)) $(if $(DAYS),--jours $(DAYS))

import-faq: $(VENV)/.installed  ## compare a text capture of the ANS's FAQ page (SCRAPE=file) with bot/data/faq.yml; APPLY=1 writes changed texts and new drafts
	@test -n "$(SCRAPE)" || { echo "Usage : make import-faq SCRAPE=capture.txt [APPLY=1]"; exit 2; }
	@$(PY) -m maintenance.import_faq $(SCRAPE) $(if $(filter 1,$(APPLY)),--apply)

purge: setup  ## RGPD: delete feedback, unanswered questions and conversations older than DAYS days
	@test -n "$(DAYS)" || { echo "Usage : make purge DAYS=30"; exit 2; }
	$(PY) -m maintenance.purge --days $(DAYS)

lock: setup  ## re-resolve requirements.txt from requirements.in
	$(PY) -m pip install --quiet -r requirements.in
	{ echo "# Pinned set, resolved from requirements.in on Python 3.10 (pip check clean). Regenerate with: make lock"; \
	  $(PY) -m pip freeze; } > requirements.txt

clean:  ## remove trained models and runtime files (var/*.db, the feedback and conversations, stay: see make purge)
	rm -rf models .rasa var/endpoints.*.yml  # var/*.db hold the feedback and conversations: see `make purge`
