# pgai in C: the "ai" extension, the shared core library, the worker and the
# Python package. `make test` and `make demo` set up what is missing first.

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
export PG_CONFIG

.PHONY: setup build install test demo clean

setup:
	@bash scripts/setup.sh

build: setup
	$(MAKE) -s -C core
	$(MAKE) -s -C extension
	$(MAKE) -s -C worker

install: build
	$(MAKE) -s -C extension install >/dev/null
	$(MAKE) -s -C worker install

test: install
	@bash scripts/test-all

demo: install
	@bash scripts/demo

clean:
	$(MAKE) -s -C core clean
	$(MAKE) -s -C extension clean
	$(MAKE) -s -C worker clean
	rm -rf build
