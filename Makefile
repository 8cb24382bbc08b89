# cmmo build. Two commands matter: `make run` and `make test` (see README.md).
# Release objects go to build/, sanitized (ASan+UBSan) objects to build/asan/.

CC      ?= cc
PKGS    := libuv jansson libsodium sqlite3 openssl libpq hiredis
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lpthread -lm
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -Isrc -MMD -MP
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# Every module under src/ except the entry point; the server, the tests and the tools link these.
LIB_SRC  := $(sort $(wildcard src/core/*.c src/net/*.c src/proto/*.c src/game/*.c src/store/*.c src/cluster/*.c src/server/*.c))
LIB_SRC  := $(filter-out src/server/main.c,$(LIB_SRC))
MAIN_SRC := src/server/main.c
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
BENCH_SRC := $(sort $(wildcard tools/bench/*.c))

OBJ      = $(patsubst %.c,build/obj/%.o,$(LIB_SRC))
ASAN_OBJ = $(patsubst %.c,build/asan/obj/%.o,$(LIB_SRC))
UNIT_BIN = $(patsubst tests/unit/%.c,build/asan/unit/%,$(UNIT_SRC))

.PHONY: all deps deps-run run test test-unit test-integration test-web build asan clean bench fmt fuzz soak
all: build

# What the binaries say they are (--version, the start-up log, cmmo_build_info). The number's one
# place is the VERSION file; the commit is git's in a checkout, "unknown" otherwise (a tarball; the
# Docker build context leaves .git out, so deploy/Dockerfile passes CMMO_COMMIT=... instead).
CMMO_VERSION := $(shell cat VERSION)
CMMO_COMMIT  := $(shell [ -e .git ] && git describe --always --dirty 2>/dev/null || echo unknown)
# Only version.o is compiled with them. It depends on a stamp that is rewritten only when either
# changes (checked at every make), so a new commit recompiles that one file and relinks.
VERSION_OBJ := build/obj/src/server/version.o build/asan/obj/src/server/version.o
$(VERSION_OBJ): build/version.stamp
$(VERSION_OBJ): ALL_CFLAGS += -DCMMO_VERSION='"$(CMMO_VERSION)"' -DCMMO_COMMIT='"$(CMMO_COMMIT)"'
build/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(CMMO_VERSION) $(CMMO_COMMIT)' | cmp -s - $@ || echo '$(CMMO_VERSION) $(CMMO_COMMIT)' > $@
.PHONY: FORCE

deps:
	@scripts/install-deps.sh test
deps-run:
	@scripts/install-deps.sh run

build: build/cmmo-server $(if $(BENCH_SRC),build/cmmo-bench)
asan: build/asan/cmmo-server $(UNIT_BIN)

build/cmmo-server: $(OBJ) build/obj/$(MAIN_SRC:.c=.o)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

build/asan/cmmo-server: $(ASAN_OBJ) build/asan/obj/$(MAIN_SRC:.c=.o)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(PKG_LIBS)

build/cmmo-bench: $(BENCH_SRC) $(OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools/bench -o $@ $(BENCH_SRC) $(filter build/obj/src/core/%,$(OBJ)) $(PKG_LIBS)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -c -o $@ $<

build/asan/unit/%: tests/unit/%.c $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -Itests/unit -o $@ $< $(ASAN_OBJ) $(PKG_LIBS) -lcmocka

run: deps-run build
	@mkdir -p data
	build/cmmo-server --port 8081 --db sqlite:data/cmmo.db --web-root web --admin-socket data/cmmo-admin.sock

# `make test`: install, build (sanitized), run every suite; the last line sums them up.
test: deps asan build
	@tests/run-all.sh

test-unit: asan
	@tests/unit/run.sh

test-integration: asan
	@tests/integration/run.sh

test-web: asan
	@tests/e2e/run.sh

bench: deps build
	@tools/bench/run.sh

# Long fuzzing runs and the soak test (see docs/SECURITY.md); rules live beside their sources.
-include tests/fuzz/fuzz.mk
-include tools/admin/admin.mk
-include deploy/install.mk
-include tools/bench/cluster.mk

fmt:
	clang-format -i $(LIB_SRC) $(MAIN_SRC) $(UNIT_SRC) $(BENCH_SRC) $(wildcard src/*/*.h tests/unit/*.h tools/bench/*.h)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
