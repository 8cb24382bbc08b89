# cmmo build. Two commands matter: `make run` and `make test` (see README.md).
# Release objects go to build/, sanitized (ASan+UBSan) objects to build/asan/.

CC      ?= cc
PKGS    := libuv jansson libsodium sqlite3 openssl libpq hiredis lua5.4
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lpthread -lm
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -Isrc -MMD -MP
# The sanitized build also runs the invariant walkers (game_check after every tick).
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DCMMO_CHECKS

# Layers, lowest first. Each folder of src/ is one layer and builds one static library
# (build/lib/libcmmo_<layer>.a, sanitized: build/asan/lib/), and a binary links the layers it uses,
# every one before those it depends on. So the link lines are the dependency rule: code of a lower
# layer calling a higher one fails to link in its unit tests. tests/layers checks the #includes and
# these lines against the same rule (and that `game` reaches no libuv).
LAYERS := core proto net store game cluster script server
# What each layer's library needs after it on a link line: the layer itself and, transitively,
# what it uses (core < proto < {net, store}; game uses store, proto, core; cluster and script use
# the game; server wires everything). Listed in link order.
LINK_core    := core
LINK_proto   := proto core
LINK_net     := net core
LINK_store   := store core
LINK_game    := game store proto core
LINK_cluster := cluster game store proto core
LINK_script  := script game store proto core
LINK_server  := server script cluster game net store proto core
LINK_ORDER   := $(LINK_server)
# System libraries each layer's own code calls (pkg-config names, then plain -l flags).
PKGS_core    := libuv
PKGS_proto   := jansson
PKGS_net     := libuv openssl
LIBS_net     := -lhttp_parser
PKGS_store   := sqlite3 libpq
PKGS_game    := libsodium openssl
PKGS_cluster := libuv hiredis
PKGS_script  := lua5.4
PKGS_server  := libuv

# The layers a source file names in its #include "layer/..." lines, closed over LINK_*, in link
# order: what a test or a tool links.
includes_of = $(sort $(shell sed -n 's|^\#include "\([a-z]*\)/.*|\1|p' $(1) /dev/null))
layers_for  = $(filter $(sort $(foreach l,$(filter $(LAYERS),$(call includes_of,$(1))),$(LINK_$(l)))),$(LINK_ORDER))
# Link flags for a list of layers (in link order): their archives, then their system libraries.
layer_libs  = $(foreach l,$(2),$(1)/lib/libcmmo_$(l).a)
layer_sys   = $(shell pkg-config --libs $(sort $(foreach l,$(1),$(PKGS_$(l)))) 2>/dev/null) \
              $(foreach l,$(1),$(LIBS_$(l))) -lpthread -lm

LAYER_SRC_server := $(filter-out src/server/main.c,$(wildcard src/server/*.c))
$(foreach l,$(filter-out server,$(LAYERS)),$(eval LAYER_SRC_$(l) := $(sort $(wildcard src/$(l)/*.c))))
LIB_SRC  := $(foreach l,$(LAYERS),$(LAYER_SRC_$(l)))
MAIN_SRC := src/server/main.c
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
BENCH_SRC := $(sort $(wildcard tools/bench/*.c))
BENCH_LAYERS = $(call layers_for,$(BENCH_SRC) $(wildcard tools/bench/*.h))

OBJ      = $(patsubst %.c,build/obj/%.o,$(LIB_SRC))
ASAN_OBJ = $(patsubst %.c,build/asan/obj/%.o,$(LIB_SRC))
LIBS      = $(call layer_libs,build,$(LAYERS))
ASAN_LIBS = $(call layer_libs,build/asan,$(LAYERS))
UNIT_BIN = $(patsubst tests/unit/%.c,build/asan/unit/%,$(UNIT_SRC))

# One archive per layer, release and sanitized, from that layer's objects.
define layer_archive
build/lib/libcmmo_$(1).a: $$(patsubst %.c,build/obj/%.o,$$(LAYER_SRC_$(1)))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
build/asan/lib/libcmmo_$(1).a: $$(patsubst %.c,build/asan/obj/%.o,$$(LAYER_SRC_$(1)))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_archive,$(l))))

.PHONY: all deps deps-run run test test-layers test-unit test-integration test-web build asan clean bench fmt fuzz soak libs
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
libs: $(LIBS) $(ASAN_LIBS)

build/cmmo-server: build/obj/$(MAIN_SRC:.c=.o) $(LIBS)
	$(CC) $(CFLAGS) -o $@ $< $(call layer_libs,build,$(LINK_server)) $(call layer_sys,$(LINK_server))

build/asan/cmmo-server: build/asan/obj/$(MAIN_SRC:.c=.o) $(ASAN_LIBS)
	$(CC) $(CFLAGS) $(SAN) -o $@ $< $(call layer_libs,build/asan,$(LINK_server)) \
	    $(call layer_sys,$(LINK_server))

build/cmmo-bench: $(BENCH_SRC) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools/bench -o $@ $(BENCH_SRC) \
	    $(call layer_libs,build,$(BENCH_LAYERS)) $(call layer_sys,$(BENCH_LAYERS) core) \
	    $(shell pkg-config --libs jansson openssl)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -c -o $@ $<

# A unit test links the layers its #includes name (and what they use), nothing more.
build/asan/unit/%: tests/unit/%.c $(ASAN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -Itests/unit -o $@ $< \
	    $(call layer_libs,build/asan,$(call layers_for,$<)) $(call layer_sys,$(call layers_for,$<)) \
	    -lcmocka

run: deps-run build
	@mkdir -p data
	build/cmmo-server --port 8081 --db sqlite:data/cmmo.db --web-root web --admin-socket data/cmmo-admin.sock

# `make test`: install, build (sanitized), run every suite; the last line sums them up.
test: deps asan build
	@tests/run-all.sh

test-unit: asan
	@tests/unit/run.sh

# The layering rule on #includes and link lines (needs no build).
test-layers:
	@tests/layers/run.sh

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
-include tools/bench/floor.mk

fmt:
	clang-format -i $(LIB_SRC) $(MAIN_SRC) $(UNIT_SRC) $(BENCH_SRC) $(wildcard src/*/*.h tests/unit/*.h tools/bench/*.h)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
