# The README's two commands: `make book` (build the executed book) and `make test` (every test).
# Each creates .venv from requirements.txt when it is missing or older than the requirements.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: book test lab clean browser

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

book: $(VENV)/.installed
	$(BIN)/jupyter-book build . -W -n --keep-going

test: $(VENV)/.installed browser
	$(BIN)/python -m pytest

# What the browser test (tests/test_rendered_book.py) needs beyond pip: Debian's Chromium, installed when missing and
# possible (root with apt-get: CI, containers; elsewhere the test skips and says why), and local copies of the pinned
# CDN files the pages load (tests/cdn_packages.txt), fetched once with npm into .venv/cdn.
browser: $(VENV)/cdn/.complete
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser test"; log=$$(mktemp); \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium; } >$$log 2>&1 || { cat $$log; rm -f $$log; exit 1; }; rm -f $$log; fi

$(VENV)/cdn/.complete: tests/cdn_packages.txt | $(VENV)/.installed
	@if command -v npm >/dev/null; then \
	  rm -rf $(VENV)/cdn && mkdir -p $(VENV)/cdn && \
	  for spec in $$(grep -v '^#' tests/cdn_packages.txt); do \
	    mkdir -p "$(VENV)/cdn/$$spec" && tgz=$$(cd $(VENV)/cdn && npm pack --silent "$$spec") && \
	    tar xzf "$(VENV)/cdn/$$tgz" -C "$(VENV)/cdn/$$spec" --strip-components=1 && rm "$(VENV)/cdn/$$tgz" || exit 1; \
	  done && touch $@; \
	else echo "npm not found: no CDN mirror for the browser test"; fi

lab: $(VENV)/.installed
	$(BIN)/jupyter lab book/

clean:
	rm -rf _build
