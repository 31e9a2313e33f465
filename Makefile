# shopstream — one plain, non-recursive GNU Makefile.
#   make            build/shopstream
#   make test       install deps, unit + end-to-end tests, then all again under ASan+UBSan
#   make demo       the main job on embedded defaults
#   make bench      benchmarks (figures, not pass/fail)
#   make analyze    gcc -fanalyzer over every product source (part of make test)
#   make install    the binary, a systemd unit and an example configuration (PREFIX, DESTDIR)
#   SANITIZE=1      build into build/san with AddressSanitizer + UndefinedBehaviorSanitizer
#   SANITIZE=thread build into build/tsan with ThreadSanitizer (not part of `make test`;
#                   run the threaded unit tests and the program by hand under it)

CC      ?= cc
PKGS    := rdkafka hiredis yaml-0.1 libmicrohttpd libzstd zlib sqlite3 libpq libxxhash
# jemalloc replaces malloc: librdkafka's broker threads allocate every message and the
# engine thread frees it, and glibc's arena lock serialized the two (README, Dependencies).
# Not under the sanitizers, which bring their own allocator.
ifeq ($(SANITIZE),1)
BUILD   := build/san
OPT     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
MALLOC_LIB :=
else ifeq ($(SANITIZE),thread)
BUILD   := build/tsan
# gcc's -Wformat-truncation misjudges postgres.c's ALTER at -O1 without ASan: off here only.
OPT     := -O1 -g -fsanitize=thread -fno-omit-frame-pointer -Wno-format-truncation
MALLOC_LIB :=
# librdkafka's C11 threads and locks, forwarded to pthreads TSan sees (tests/tsan/c11threads.c).
LDLIBS  += $(BUILD)/tests/tsan/c11threads.o
EXTRA_OBJ := $(BUILD)/tests/tsan/c11threads.o
else
BUILD   := build
# Link-time optimisation: the engine's hot path crosses files at every event (operators
# call the interner, the maps, the output rows), and inlining across them saves ~3 % of
# instructions and more of the time (README, Measured figures). The library then needs gcc-ar.
OPT     := -O2 -g -flto=auto
# Nothing in the program names a jemalloc symbol (it replaces malloc for every library),
# so the linker's --as-needed would drop it, as it does under LTO: keep it, and check.
MALLOC_LIB := -Wl,--push-state,--no-as-needed -ljemalloc -Wl,--pop-state
endif
LIBAR   ?= gcc-ar
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE $(OPT) $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(filter -fsanitize=% -flto=%,$(OPT))
LDLIBS  += $(PKG_LIBS) -lsnappy $(MALLOC_LIB) -lpthread -lm

LIB_SRC  := $(sort $(wildcard src/core/*.c src/decode/*.c src/source/*.c src/ops/*.c src/state/*.c \
                 src/sink/*.c src/sink/parquet/*.c src/server/*.c src/engine/*.c src/report/*.c))
CMD_SRC  := $(sort $(wildcard src/cmd/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps test unit e2e analyze demo bench fuzz readme clean install uninstall
# The entry targets install what is missing first, then build in a second make: PKG_CFLAGS and
# PKG_LIBS are read from pkg-config when this file is parsed, so on a fresh machine the make
# that installed the -dev packages has them empty (no libpq include path, no -lrdkafka).
all: deps
	@$(MAKE) --no-print-directory $(BUILD)/shopstream

deps:
	@scripts/install-deps

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The dashboard is written as HTML and served from the binary: each line becomes a C
# string literal (\ " and ? escaped: -std=c11 reads ??( as a trigraph).
$(BUILD)/gen/dashboard_html.h: src/server/dashboard.html
	@mkdir -p $(dir $@)
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/"/' -e 's/$$/\\n"/' $< >$@
$(BUILD)/src/server/dashboard.o: $(BUILD)/gen/dashboard_html.h
$(BUILD)/src/server/dashboard.o: CFLAGS += -I$(BUILD)/gen

$(BUILD)/libshopstream.a: $(LIB_OBJ)
	@rm -f $@
	$(LIBAR) rcs $@ $^

$(BUILD)/shopstream: $(CMD_OBJ) $(BUILD)/libshopstream.a $(EXTRA_OBJ)
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libshopstream.a $(LDLIBS)
	@[ -z "$(MALLOC_LIB)" ] || readelf -d $@ | grep -q 'NEEDED.*libjemalloc' || \
	    { echo "$@: not linked with jemalloc (see MALLOC_LIB in the Makefile)" >&2; rm -f $@; exit 1; }

$(BUILD)/tests/%: tests/unit/%.c tests/unit/harness.h tests/unit/op_fixture.h tests/unit/sink_check.h tests/unit/fake_source.h tests/sink_rows.h $(BUILD)/libshopstream.a $(EXTRA_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -Isrc -o $@ $< $(BUILD)/libshopstream.a $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libshopstream.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -Isrc -o $@ $< $(BUILD)/libshopstream.a $(LDLIBS)

unit: $(UNIT_BIN) $(BUILD)/shopstream
	@tests/unit/run $(UNIT_BIN)

# The end-to-end tests start their own PostgreSQL, Redis and Kafka on loopback
# (scripts/*-test-server); install-deps installs what they need. Every test must run:
# a skipped one fails `make e2e`. E2E_HAVE is not taken from the environment (an empty
# one there skipped every service test); `make e2e E2E_HAVE=...` still overrides it.
E2E_HAVE = postgres redis kafka chromium
e2e: $(BUILD)/shopstream $(BUILD)/libshopstream.a
	@SHOPSTREAM_BIN=$(BUILD)/shopstream SHOPSTREAM_BUILD=$(BUILD) E2E_HAVE="$(E2E_HAVE)" E2E_REQUIRE_ALL=1 tests/e2e/run

# gcc's static analyzer (-fanalyzer: leaks, double frees and closes, NULL dereferences, use
# after free) over every product source, its warnings as errors; part of `make test`. One
# stamp per file, so a second run analyses only what changed. Not alloc.c: its blocks
# carry a size header and it hands out the address after it, which the analyzer takes for
# a leak of every block. -Wno-format-truncation: gcc misjudges postgres.c's ALTER at -O1 (as
# under SANITIZE=thread).
ANALYZE_SRC := $(filter-out src/core/alloc.c,$(LIB_SRC) $(CMD_SRC))
ANALYZE_OK  := $(ANALYZE_SRC:%.c=build/analyze/%.ok)
build/analyze/%.ok: %.c
	@mkdir -p $(dir $@)
	@$(CC) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -O1 -Wno-format-truncation -fanalyzer $(PKG_CFLAGS) -I$(BUILD)/gen \
	    -MMD -MP -MF $@.d -MT $@ -c $< -o /dev/null
	@touch $@
build/analyze/src/server/dashboard.ok: $(BUILD)/gen/dashboard_html.h
-include $(ANALYZE_OK:%=%.d)
analyze: $(ANALYZE_OK)
	@echo "analyze: $(words $(ANALYZE_OK)) files, no finding"

# The whole suite: normal build, then again under sanitizers.
test: deps
	@$(MAKE) --no-print-directory analyze
	@$(MAKE) --no-print-directory unit e2e
	@$(MAKE) --no-print-directory SANITIZE=1 unit e2e E2E_QUICK=1

demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/shopstream
	$(BUILD)/shopstream demo --seconds $${DEMO_SECONDS:-30}

bench: deps
	@$(MAKE) --no-print-directory $(BUILD)/shopstream $(BENCH_BIN)
	@bench/run $(BUILD)

# libFuzzer targets (tests/fuzz/README.md); not part of `make test`. They need clang, which
# is not a dependency (apt-get install clang). The library is rebuilt with clang's coverage
# instrumentation so that each fuzzer is guided through the code it feeds. Each target's
# corpus, build/fuzz-corpus/TARGET (seeded by tests/fuzz/seed), grows run by run; crash
# reproducers land in build/fuzz/.
#   make fuzz                        every target in turn, FUZZ_SECONDS each
#   make fuzz FUZZ_TARGET=pqread     one of them
# The machine is shared: one fuzzing process at a time, at the lowest priority.
FUZZ_TARGETS := decode pqread report config server
FUZZ_TARGET ?= $(FUZZ_TARGETS)
FUZZ_SECONDS ?= 60
FUZZ_OPT := -O1 -g -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# per target: the largest input (decode: a few records; pqread, report: a small lake file;
# config: a config file; server: sink URLs and a script), and config's dictionary of the
# YAML syntax and the config keys
FUZZ_ARGS_decode := -max_len=4096
FUZZ_ARGS_pqread := -max_len=65536 -len_control=0
FUZZ_ARGS_report := -max_len=65536 -len_control=0
FUZZ_ARGS_config := -max_len=4096 -dict=tests/fuzz/config.dict
FUZZ_ARGS_server := -max_len=4096
fuzz_one = echo "== fuzz_$(1)" && \
    clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc \
        tests/fuzz/fuzz_$(1).c build/fuzz/libshopstream.a $(PKG_LIBS) -lsnappy -lpthread -lm -o build/fuzz/fuzz_$(1) && \
    tests/fuzz/seed $(1) build/fuzz-corpus/$(1) $(BUILD)/shopstream && \
    nice -n 19 build/fuzz/fuzz_$(1) $(FUZZ_ARGS_$(1)) -timeout=10 -rss_limit_mb=2048 -max_total_time=$(FUZZ_SECONDS) \
        -artifact_prefix=build/fuzz/crash-$(1)- -print_final_stats=1 build/fuzz-corpus/$(1)
fuzz: $(BUILD)/shopstream
	@command -v clang >/dev/null || { echo "make fuzz: needs clang (apt-get install clang)" >&2; exit 2; }
	@$(MAKE) --no-print-directory CC=clang SANITIZE=1 BUILD=build/fuzz OPT="$(FUZZ_OPT)" build/fuzz/libshopstream.a
	@$(foreach t,$(FUZZ_TARGET),$(call fuzz_one,$(t)) && ) true

# Installs the binary, a systemd unit and an example configuration (README, Running as a
# service). GNU's variables: PREFIX (default /usr/local), DESTDIR for staging a package.
# SYSCONFDIR is /etc for PREFIX=/usr, as distributions have it, else PREFIX/etc. An existing
# shopstream.yaml or env there is the operator's and is never overwritten: the example
# configuration is also installed under DOCDIR, where an upgrade may replace it.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DOCDIR     ?= $(PREFIX)/share/doc/shopstream
UNITDIR    ?= $(PREFIX)/lib/systemd/system
install: $(BUILD)/shopstream
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSCONFDIR)/shopstream
	install -m 0755 $(BUILD)/shopstream $(DESTDIR)$(BINDIR)/shopstream
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	    packaging/shopstream.service.in >$(DESTDIR)$(UNITDIR)/shopstream.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/shopstream.service
	install -m 0644 README.md docs/SEMANTICS.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 packaging/shopstream.yaml $(DESTDIR)$(DOCDIR)/examples/shopstream.yaml
	install -m 0644 packaging/env.example $(DESTDIR)$(DOCDIR)/examples/env
	@[ -e $(DESTDIR)$(SYSCONFDIR)/shopstream/shopstream.yaml ] || \
	    install -m 0644 packaging/shopstream.yaml $(DESTDIR)$(SYSCONFDIR)/shopstream/shopstream.yaml
	@[ -e $(DESTDIR)$(SYSCONFDIR)/shopstream/env ] || \
	    install -m 0600 packaging/env.example $(DESTDIR)$(SYSCONFDIR)/shopstream/env

# The configuration in SYSCONFDIR stays, as a package's removal keeps edited conffiles.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/shopstream $(DESTDIR)$(UNITDIR)/shopstream.service
	rm -rf $(DESTDIR)$(DOCDIR)

readme: $(BUILD)/shopstream
	scripts/update-readme

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d)
