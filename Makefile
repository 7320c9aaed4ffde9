# Two commands on a fresh machine (see README):
#   make run    install, upgrade the SQLite database in instance/, serve on 127.0.0.1:8000
#   make test   install (with test tools and Debian's chromium), run the test suite
#   make bench  install (with Debian's wrk), run every benchmark (BENCH=overhead runs one)
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test bench

$(VENV)/.runtime: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

/usr/bin/wrk:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk

run: $(VENV)/.runtime
	$(PY) app.py

test: $(VENV)/.dev /usr/bin/chromium
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev /usr/bin/wrk
	$(PY) -m bench $(BENCH)
