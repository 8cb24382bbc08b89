# Fuzzing (clang libFuzzer) and the soak test. Included by the Makefile; see docs/SECURITY.md.
#
#   make fuzz-build     build every target into build/fuzz/
#   make fuzz           run each target long (FUZZ_SECONDS, default 600) on a working corpus
#                       under build/fuzz/corpus/<target>/, seeded from tests/fuzz/corpus/<target>/
#   make soak           10 minutes of churn under ASan (SOAK_MINUTES), see tools/soak/soak.sh
#
# `make test` runs tests/fuzz/run.sh, which builds the targets and runs each briefly.

FUZZ_CC      ?= clang
FUZZ_TARGETS := fuzz_http fuzz_ws fuzz_packet fuzz_session
FUZZ_SECONDS ?= 600
# CMMO_CHECKS: the invariant walkers run too (game_check after every tick of fuzz_session).
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -DCMMO_CHECKS
# Library objects get coverage instrumentation without libFuzzer's main; the targets link it.
FUZZ_CFLAGS  := $(CSTD) $(WARN) -O1 -g $(PKG_CFLAGS) -Isrc -MMD -MP $(FUZZ_SAN) -fsanitize=fuzzer-no-link

FUZZ_OBJ = $(patsubst %.c,build/fuzz/obj/%.o,$(1))

# What each target links, beyond its own source, as the layers' sources built with coverage. fuzz_session swaps argon2id for fast_auth.c
# (same contract, same asynchrony) so that the fuzzer spends its time in the session.
FUZZ_LIB_http    := src/net/http.c src/core/rcbuf.c
FUZZ_LIB_ws      := src/net/wsparse.c src/core/utf8.c
FUZZ_LIB_packet  := src/proto/packet.c src/proto/validate.c src/proto/jsonw.c src/core/utf8.c \
                    src/core/rcbuf.c
# The session target is the game layer and what it uses (LINK_game in the Makefile), as objects:
# a whole archive would bring auth.o's symbols in beside fast_auth's.
FUZZ_LIB_session := $(filter-out src/game/auth.c,$(foreach l,$(LINK_game),$(LAYER_SRC_$(l)))) \
                    tests/fuzz/fast_auth.c

# Kept between builds (make would delete them as intermediate files of the chain).
.PRECIOUS: build/fuzz/obj/%.o
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

# Prerequisites name each target's library list: needs second expansion.
.SECONDEXPANSION:
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(call FUZZ_OBJ,$$(FUZZ_LIB_$$*))
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CSTD) $(WARN) -O1 -g $(PKG_CFLAGS) -Isrc $(FUZZ_SAN) -fsanitize=fuzzer \
	    -o $@ $^ $(PKG_LIBS)


.PHONY: fuzz-build fuzz soak
fuzz-build: $(addprefix build/fuzz/,$(FUZZ_TARGETS))

# Long runs: one target after another, each for FUZZ_SECONDS, on a corpus that grows under
# build/ (the committed seeds stay small). Fork mode with -ignore_crashes keeps fuzzing past a
# crash (a known bug must not end the run); every crashing input lands in
# build/fuzz/artifacts/<target>/, and the last line of each log has the executions and coverage.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p build/fuzz/corpus/$$t build/fuzz/artifacts/$$t; \
	    echo "=== $$t for $(FUZZ_SECONDS) s (log: build/fuzz/$$t.log)"; \
	    case $$t in fuzz_packet|fuzz_session) dict=-dict=tests/fuzz/packet.dict ;; *) dict= ;; esac; \
	    build/fuzz/$$t $$dict -fork=1 -ignore_crashes=1 -max_total_time=$(FUZZ_SECONDS) \
	        -timeout=10 -rss_limit_mb=2048 -artifact_prefix=build/fuzz/artifacts/$$t/ \
	        build/fuzz/corpus/$$t tests/fuzz/corpus/$$t >build/fuzz/$$t.log 2>&1; \
	    grep -E '^#[0-9]+: cov:' build/fuzz/$$t.log | tail -n 1; \
	    echo "crashing inputs: $$(ls build/fuzz/artifacts/$$t | wc -l) in build/fuzz/artifacts/$$t/"; \
	done

soak: asan
	@tools/soak/soak.sh
