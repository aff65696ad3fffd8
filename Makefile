# Parley — build, run and test.
#   make run    install what is missing, build, start a private PostgreSQL, serve
#   make test   the same set-up, then every test suite
# Other targets: make (build), asan, tsan, lint (C and JS), fmt-js, stop-db, clean.

SHELL := /bin/bash
.DEFAULT_GOAL := all

LIBS      := libpq jansson libcurl openssl libmaxminddb
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

CC        ?= cc
WARN      := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
HARDEN    := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -fstack-clash-protection
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) \
             -Ibackend/src -Ibuild -Ibuild/civetweb/include $(shell pkg-config --cflags $(LIBS) 2>/dev/null)
LDFLAGS_H := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
LDLIBS    := $(shell pkg-config --libs $(LIBS) 2>/dev/null) -lpthread -lm

# civetweb is compiled in (third_party/civetweb: upstream 1.15 as Debian ships
# it, plus our patch series, applied in order into build/civetweb). See
# third_party/civetweb/README.md and docs/architecture.md for why and what.
CW_DIR     := third_party/civetweb
CW_PATCHES := $(sort $(wildcard $(CW_DIR)/patches/*.patch))
CW_DEFS    := -DNO_CGI -DNO_FILES -DNO_CACHING -DUSE_WEBSOCKET -DOPENSSL_API_3_0 -DNO_SSL_DL \
              -DUSE_STACK_SIZE=262144 -DREENTRANT_TIME -DSTOP_FLAG_NEEDS_LOCK
CW_CFLAGS   = -std=c11 -D_GNU_SOURCE $(HARDEN) $(CFLAGS) $(CW_DEFS) -Ibuild/civetweb/include \
              $(shell pkg-config --cflags openssl 2>/dev/null) -Wno-deprecated-declarations

# backend/src/<layer>/<module>.[ch]; see docs/architecture.md for the layers.
LAYERS    := core db chat live http hooks api
SRC       := $(foreach l,$(LAYERS),$(wildcard backend/src/$(l)/*.c))
HDR       := $(foreach l,$(LAYERS),$(wildcard backend/src/$(l)/*.h))
MIGRATIONS:= $(sort $(wildcard migrations/*.sql)) $(sort $(wildcard backend/src/db/sql/*.sql))
OBJ       := $(patsubst backend/src/%.c,build/obj/%.o,$(SRC)) build/obj/migrations_gen.o build/obj/civetweb.o
UNIT_SRC  := $(wildcard backend/tests/test_*.c)
UNIT_BIN  := $(patsubst backend/tests/%.c,build/tests/%,$(UNIT_SRC))

# Debian 12's own nodejs is 18, whose test runner has no --test-concurrency
# (it then runs files one at a time); newer Node runs several at once: the
# integration files mostly wait (sweeps, timeouts, other nodes), so three
# at a time on two cores; the browser files keep a core busy each, so two
# (sanitizer builds: two integration files, they are slow enough).
NODE_PAR_OK = $(shell node -e 'process.stdout.write(+process.versions.node.split(".")[0] >= 20 ? "yes" : "")' 2>/dev/null)
NODE_PAR   = $(if $(NODE_PAR_OK),--test-concurrency=2)
INT_PAR    = $(if $(NODE_PAR_OK),--test-concurrency=3)
NODE_TEST  = node --test --test-reporter=tap

ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TSAN_FLAGS := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
ASAN_OPTIONS := detect_leaks=1:abort_on_error=0
LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
TSAN_OPTIONS := suppressions=$(CURDIR)/tests/tsan.supp:second_deadlock_stack=1:exitcode=66:print_suppressions=0

.PHONY: all deps node run test test-unit test-ui test-integration test-e2e screenshots asan asan-run tsan tsan-run lint lint-run lint-js fmt-js check-layers stop-db clean \
        db-start

all: backend/parleyd build/static/.built build/static/api/v1/openapi.json

# --- the front ends (widget, console): esbuild bundles into build/static ------

FRONTEND_SRC := $(shell find widget agent-console ui-shared -type f 2>/dev/null) scripts/build-frontend.js

build/static/.built: $(FRONTEND_SRC) node_modules/.package-lock.json
	node scripts/build-frontend.js
	@touch $@

build/static/api/v1/openapi.json: $(wildcard docs/openapi.yaml) scripts/build-openapi.js node_modules/.package-lock.json
	node scripts/build-openapi.js
	@mkdir -p $(dir $@) && touch $@

# --- set-up -----------------------------------------------------------------

deps:
	@scripts/install-deps

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node: node_modules/.package-lock.json

# --- the daemon -------------------------------------------------------------

build/migrations_gen.c: $(MIGRATIONS) scripts/embed-migrations
	@mkdir -p build
	scripts/embed-migrations migrations backend/src/db/sql > $@.tmp && mv $@.tmp $@

build/obj/migrations_gen.o: build/migrations_gen.c backend/src/db/migrate.h build/civetweb/.patched
	@mkdir -p build/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/civetweb/.patched: $(wildcard $(CW_DIR)/src/* $(CW_DIR)/include/*) $(CW_PATCHES)
	@rm -rf build/civetweb && mkdir -p build/civetweb
	@cp -r $(CW_DIR)/src $(CW_DIR)/include build/civetweb/
	@set -e; for p in $(CW_PATCHES); do echo "civetweb: $$(basename $$p)"; patch -s -p1 -d build/civetweb < $$p; done
	@touch $@

build/obj/civetweb.o: build/civetweb/.patched
	@mkdir -p build/obj
	$(CC) $(CW_CFLAGS) -c -o $@ build/civetweb/src/civetweb.c

build/obj/%.o: backend/src/%.c $(HDR) build/civetweb/.patched
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

backend/parleyd: backend/src/main.c $(OBJ) $(HDR)
	$(CC) $(ALL_CFLAGS) -DPARLEY_VERSION='"$(VERSION)"' $(LDFLAGS_H) -o $@ backend/src/main.c $(OBJ) $(LDLIBS)

# --- running ----------------------------------------------------------------

# DATABASE_URL set: use it. Unset: the private cluster under var/pg.
db-start:
	@if [ -z "$${DATABASE_URL:-}" ]; then scripts/pg-private start; fi

# Targets that install packages run the build in a second make: pkg-config's
# answers (LDLIBS, ALL_CFLAGS) are read when a make starts, and on a fresh
# machine the libraries only exist once deps has run.
run: deps
	@$(MAKE) --no-print-directory all db-start
	@export DATABASE_URL="$${DATABASE_URL:-$$(scripts/pg-private url)}"; \
	 echo "Parley on $${PARLEY_PUBLIC_URL:-http://$${PARLEY_LISTEN:-127.0.0.1:8080}} (Ctrl-C stops; make stop-db stops PostgreSQL)"; \
	 exec backend/parleyd serve

stop-db:
	@scripts/pg-private stop

# --- tests ------------------------------------------------------------------

build/tests/%: backend/tests/%.c $(OBJ) $(HDR)
	@mkdir -p build/tests
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) $(LDFLAGS_H) -o $@ $< $(OBJ) \
	    $(LDLIBS) $(shell pkg-config --libs cmocka)

# The tiny geolocation database the geoip unit test (and integration tests,
# through PARLEY_GEOIP_DB) read: written by tests/helpers/mmdb.js.
GEO_FIXTURE := build/test/geo-fixture.mmdb

$(GEO_FIXTURE): tests/helpers/mmdb.js
	@mkdir -p $(dir $@)
	node tests/helpers/mmdb.js $@

test-unit: $(UNIT_BIN) $(GEO_FIXTURE)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# The modules both front ends share (ui-shared/): socket, outbox, linkify, time.
test-ui: node
	$(NODE_TEST) ui-shared/test/*.test.js

test-integration: all node $(GEO_FIXTURE)
	$(NODE_TEST) $(INT_PAR) tests/integration/

# Browser tests: playwright-core driving Debian's /usr/bin/chromium.
test-e2e: all node $(GEO_FIXTURE)
	@if ls tests/e2e/*.test.js >/dev/null 2>&1; then \
	    $(NODE_TEST) $(NODE_PAR) tests/e2e/; \
	else echo "no browser tests yet"; fi

# The browser tests with every screenshot at both sizes in both languages
# (make test draws each view once wide in English and once narrow in Chinese).
screenshots: all node $(GEO_FIXTURE)
	PARLEY_SCREENSHOTS=all $(NODE_TEST) $(NODE_PAR) tests/e2e/

# The integration tests start their own throw-away PostgreSQL clusters.
test: deps
	@$(MAKE) --no-print-directory all node
	@$(MAKE) --no-print-directory check-layers
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-ui
	@$(MAKE) --no-print-directory test-integration
	@$(MAKE) --no-print-directory test-e2e

# Benchmarks written in C: programs that print numbers (bench/README.md).
bench/geoip_bench: bench/geoip_bench.c $(OBJ) $(HDR)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_H) -o $@ $< $(OBJ) $(LDLIBS)

# The same unit and integration tests against sanitizer builds: make asan
# (AddressSanitizer + UBSan, leak detection on) and make tsan
# (ThreadSanitizer). A report makes parleyd exit non-zero, which the tests'
# stopChecked turns into a failure with the report attached.
SAN_CFLAGS  = $(filter-out -O2 -D_FORTIFY_SOURCE=2,$(ALL_CFLAGS))
build/asan/%: SAN = $(ASAN_FLAGS)
build/tsan/%: SAN = $(TSAN_FLAGS)

build/asan/civetweb.o build/tsan/civetweb.o: build/civetweb/.patched
	@mkdir -p $(@D)
	$(CC) $(filter-out -O2 -D_FORTIFY_SOURCE=2,$(CW_CFLAGS)) $(SAN) -c -o $@ build/civetweb/src/civetweb.c

build/asan/parleyd build/tsan/parleyd: build/%/parleyd: backend/src/main.c $(SRC) $(HDR) build/migrations_gen.c \
    build/%/civetweb.o
	$(CC) $(SAN_CFLAGS) $(SAN) -o $@ backend/src/main.c $(SRC) build/migrations_gen.c build/$*/civetweb.o $(LDLIBS)

asan: deps
	@$(MAKE) --no-print-directory asan-run

asan-run: node build/asan/parleyd $(GEO_FIXTURE)
	@mkdir -p build/asan/tests
	@set -e; for t in $(UNIT_SRC); do b=build/asan/tests/$$(basename $$t .c); \
	    $(CC) $(SAN_CFLAGS) $(ASAN_FLAGS) $$(pkg-config --cflags cmocka) \
	    -o $$b $$t $(SRC) build/migrations_gen.c build/asan/civetweb.o $(LDLIBS) $$(pkg-config --libs cmocka); \
	    echo "== $$b"; $$b; done
	PARLEYD=$(CURDIR)/build/asan/parleyd ASAN_OPTIONS=$(ASAN_OPTIONS) LSAN_OPTIONS=$(LSAN_OPTIONS) \
	    $(NODE_TEST) $(NODE_PAR) tests/integration/

# ThreadSanitizer is slow (5-15x) and needs its memory map: one test file at
# a time. tests/tsan.supp lists what is suppressed, each with its reason.
tsan: deps
	@$(MAKE) --no-print-directory tsan-run

tsan-run: node build/tsan/parleyd $(GEO_FIXTURE)
	PARLEYD=$(CURDIR)/build/tsan/parleyd TSAN_OPTIONS=$(TSAN_OPTIONS) $(NODE_TEST) tests/integration/

# The layering of backend/src (docs/architecture.md, "Layers"): arrows point
# down, no import circles, SQL only in db/ and chat/.
check-layers:
	node scripts/check-layers.js

lint: deps
	@$(MAKE) --no-print-directory lint-run

lint-run: lint-js check-layers
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr --std=c11 \
	    -Ibackend/src backend/src backend/tests
	clang-format --dry-run --Werror backend/src/*.c $(SRC) $(HDR) backend/tests/*.c

# JavaScript: ESLint (eslint.config.js) and Prettier (.prettierrc.json) in
# check mode over the front ends, the modules they share, the build scripts and
# the benchmarks and the tests. `make fmt-js` rewrites in place.
JS_LINT     := eslint.config.js widget agent-console ui-shared scripts bench tests
JS_FORMAT   := eslint.config.js '{widget,agent-console,ui-shared}/**/*.{js,jsx,css}' 'scripts/*.js' 'bench/*.js' bench/chatload 'tests/**/*.js'

lint-js: node
	npx --no-install eslint --max-warnings 0 $(JS_LINT)
	npx --no-install prettier --check $(JS_FORMAT)

fmt-js: node
	npx --no-install prettier --write $(JS_FORMAT)
	npx --no-install eslint --fix $(JS_LINT)

clean:
	rm -rf build backend/parleyd bench/geoip_bench
