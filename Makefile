# Two commands on a fresh machine (see README):
#   make run    install, upgrade the SQLite database in instance/, serve on 127.0.0.1:8000
#   make test   install (with test tools, Debian's chromium and nginx), run the test suite
#   make bench  install (with Debian's wrk), run every benchmark (BENCH=overhead runs one)
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test bench chromium nginx

$(VENV)/.runtime: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Debian's tools for the tests (chromium for the browser tests, nginx for the TLS proxy test):
# apt-get as root, sudo apt-get when sudo is there; otherwise say how to install them and run
# the suite anyway (the tests that need them skip).
CHROMIUM ?= /usr/bin/chromium
NGINX ?= /usr/sbin/nginx
APT_INSTALL = apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1)
# $(call debian_tool,<path of the command>,<Debian package>,<tests that need it>)
define debian_tool
	@if [ -x "$(1)" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then sh -c '$(call APT_INSTALL,$(2))'; \
	elif command -v sudo >/dev/null 2>&1; then echo "Installing Debian's $(2) for $(3) (sudo apt-get)"; \
	  sudo sh -c '$(call APT_INSTALL,$(2))'; \
	else echo "make test: $(3) need Debian's $(2) ($(1)) and this user cannot install it."; \
	  echo "  As root run:  apt-get install $(2)   then make test again. Running the suite without them now."; fi
endef

chromium:
	$(call debian_tool,$(CHROMIUM),chromium,the browser tests)

nginx:
	$(call debian_tool,$(NGINX),nginx-light,the TLS proxy test)

/usr/bin/wrk:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk

run: $(VENV)/.runtime
	$(PY) app.py

test: $(VENV)/.dev chromium nginx
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev /usr/bin/wrk
	$(PY) -m bench $(BENCH)
