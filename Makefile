# Two commands on a fresh machine (see README):
#   make run    install, upgrade the SQLite database in instance/, serve on 127.0.0.1:8000
#   make test   install (with test tools and Debian's chromium), run the test suite
#   make bench  install (with Debian's wrk), run every benchmark (BENCH=overhead runs one)
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test bench chromium

$(VENV)/.runtime: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Debian's chromium for the browser tests: apt-get as root, sudo apt-get when sudo is there;
# otherwise say how to install it and run the suite anyway (the browser tests skip).
CHROMIUM ?= /usr/bin/chromium
APT_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
chromium:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then sh -c '$(APT_INSTALL)'; \
	elif command -v sudo >/dev/null 2>&1; then echo "Installing Debian's chromium for the browser tests (sudo apt-get)"; \
	  sudo sh -c '$(APT_INSTALL)'; \
	else echo "make test: the browser tests need Debian's chromium ($(CHROMIUM)) and this user cannot install it."; \
	  echo "  As root run:  apt-get install chromium   then make test again. Running the suite without them now."; fi

/usr/bin/wrk:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk

run: $(VENV)/.runtime
	$(PY) app.py

test: $(VENV)/.dev chromium
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev /usr/bin/wrk
	$(PY) -m bench $(BENCH)
