# mk/check.mk: the checks that catch what -Werror misses (included by the Makefile).
#   make asan       build build-asan/dagster-lua with ASan + UBSan and run the whole suite in
#                   it (scripts/test: real Dagsters, ~15 s to start); fails on any report
#   make valgrind   the specs that need no Dagster (VALGRIND_SPECS), under valgrind, in
#                   build/dagster-lua and in the copies of it the specs start; fails on any
#                   error or definite leak
#   make soak       the long load run: spec/load_spec.lua for SOAK_SECONDS (default 60) against
#                   a real Dagster of its own (scripts/test); every suite runs it for 8 s
#   make fuzz       libFuzzer on answer.decode (fuzz/fuzz_response.c), on the answer mapping of
#                   every method (fuzz/fuzz_methods.c) and on json.decode /
#                   encode (fuzz/fuzz_json.c), FUZZ_TIME seconds each (default 30), one core;
#                   installs clang first (WITH_CLANG=1 scripts/install-deps)
# Each prints one last line saying what it found. The objects are built from the Makefile's
# $(C_SRC) and $(LUA_SRC) with its $(WARN), $(DEFS) and pkg-config flags, into build-asan/
# and build-fuzz/ (never into build/, which `make` owns).

.PHONY: asan valgrind fuzz fuzz-build soak

# ------------------------------------------------------------------------------------------
# make soak
# ------------------------------------------------------------------------------------------
SOAK_SECONDS ?= 60

soak:
	@DAGSTER_LUA_LOAD_SECONDS=$(SOAK_SECONDS) bash scripts/test spec/load_spec.lua

# ------------------------------------------------------------------------------------------
# make asan
# ------------------------------------------------------------------------------------------
ASAN_DIR    := build-asan
ASAN_BIN    := $(ASAN_DIR)/dagster-lua
ASAN_CFLAGS ?= -O1 -g
ASAN_SAN    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_OBJ    := $(C_SRC:host/%.c=$(ASAN_DIR)/%.o) $(ASAN_DIR)/embedded.o
# gcc links libasan and libubsan as two shared libraries by default, and the second then
# ignores log_path (its reports go to stderr only): linked in statically, each writes its
# own files. clang has one runtime, static already.
ASAN_STATIC := $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),,-static-libasan -static-libubsan)
ASAN_LOGS   := $(CURDIR)/$(ASAN_DIR)/reports
SAN_PATTERN := runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY: UndefinedBehaviorSanitizer

# The Lua, cjson, curl and libedit libraries stay uninstrumented (Debian's); every malloc
# goes through ASan all the same, so leaks and double frees of theirs show up too.
#
# LeakSanitizer stays on. busted ends with os.exit(code, true): the `true` closes the Lua
# state first (every __gc runs, sessions and curl handles are released), and the processes
# the CLI specs start end through main(), which closes the state too. So at exit only memory
# that C code forgot to free is left unreachable, and that is exactly what LSan reports.
#
# Reports go to files (log_path), one per process: the copies of the binary that the CLI
# specs start write their stderr to a pipe the spec reads, where a report could go unseen.
# The run fails when any report file appears, or when the output has a report in it.
#
# quarantine_size_mb=16 (default 256): freed memory waits in the quarantine before reuse, and
# a big one shows in the RSS that faults_spec ("peak RSS under 150 MB") and load_spec ("flat
# memory") measure; 16 MB still catches a use after a recent free.
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:quarantine_size_mb=16:log_path=$(ASAN_LOGS)/asan:strip_path_prefix=$(CURDIR)/ \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(ASAN_LOGS)/ubsan:strip_path_prefix=$(CURDIR)/

$(ASAN_DIR):
	@mkdir -p $@

$(ASAN_DIR)/%.o: host/%.c host/dagster.h | $(ASAN_DIR)
	$(CC) $(ASAN_CFLAGS) $(ASAN_SAN) $(WARN) $(DEFS) $(PKGCFLAGS) -c $< -o $@

$(ASAN_DIR)/embedded.c: host/embed.lua $(LUA_SRC) | $(ASAN_DIR)
	lua5.4 host/embed.lua $(LUA_SRC) > $@.tmp && mv $@.tmp $@

$(ASAN_DIR)/embedded.o: $(ASAN_DIR)/embedded.c host/dagster.h
	$(CC) $(ASAN_CFLAGS) $(ASAN_SAN) -std=c99 -Wall -Wextra -Werror -Ihost $(PKGCFLAGS) -c $< -o $@

$(ASAN_BIN): $(ASAN_OBJ)
	$(CC) $(ASAN_CFLAGS) $(ASAN_SAN) $(ASAN_STATIC) $(LDFLAGS) -o $@ $(ASAN_OBJ) $(PKGLIBS) -ldl -lm

asan: deps $(ASAN_BIN)
	@rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	@{ $(ASAN_ENV) DAGSTER_LUA_BIN=$(ASAN_BIN) bash scripts/test; echo $$? > $(ASAN_DIR)/test.rc; } 2>&1 \
	  | tee $(ASAN_DIR)/test.log
	@rc=$$(cat $(ASAN_DIR)/test.rc); \
	files=$$(ls $(ASAN_LOGS)); \
	inlog=$$(grep -cE '$(SAN_PATTERN)' $(ASAN_DIR)/test.log); \
	for f in $$files; do echo "== $(ASAN_LOGS)/$$f"; cat $(ASAN_LOGS)/$$f; done; \
	n=$$(echo $$files | wc -w); \
	echo "asan: $$(grep -E '^[0-9]+ passed, [0-9]+ failed' $(ASAN_DIR)/test.log | tail -n 1)," \
	  "$$n sanitizer report file(s), $$inlog report line(s) in the output"; \
	[ "$$rc" = 0 ] && [ "$$n" = 0 ] && [ "$$inlog" = 0 ]

# ------------------------------------------------------------------------------------------
# make valgrind
# ------------------------------------------------------------------------------------------
# The specs that need no DAGSTER_URL (faults_spec starts its own local fault server).
VALGRIND_SPECS ?= spec/json_spec.lua spec/client_args_spec.lua spec/cli_spec.lua spec/faults_spec.lua
# Two rows of faults_spec measure what valgrind itself changes, and are left out: the peak
# RSS of the process (valgrind's own memory counts in it), and a TLS handshake within a 2 s
# connect timeout (reading the system's CA bundle takes longer under valgrind).
VALGRIND_SKIP  ?= --filter-out='peak RSS' --filter-out='TLSError for a self%-signed'
VG_LOGS := $(CURDIR)/$(ASAN_DIR)/valgrind
# Children are traced so that the binaries the CLI specs start are checked too. The shells
# of io.popen must be traced for valgrind to reach the binaries they start; the programs
# under /usr (python3, mktemp, ...) and any Python are not. Only the logs of build/dagster-lua
# count: a shell's own leaks are none of ours.
VG_FLAGS := --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --num-callers=30 --trace-children=yes \
	--trace-children-skip='/usr/*,*/python*' --log-file=$(VG_LOGS)/vg.%p.log

valgrind: deps $(BIN)
	@rm -rf $(VG_LOGS) && mkdir -p $(VG_LOGS)
	@DAGSTER_LUA_ROOT=$(CURDIR) DAGSTER_LUA_BIN=$(CURDIR)/$(BIN) DAGSTER_LUA_SUMMARY= \
	  valgrind $(VG_FLAGS) $(BIN) /usr/bin/busted $(VALGRIND_SKIP) $(VALGRIND_SPECS) > $(VG_LOGS)/busted.out 2>&1; \
	rc=$$?; cat $(VG_LOGS)/busted.out; \
	ours=$$(grep -l '^==[0-9]*== Command: $(CURDIR)/$(BIN)\|^==[0-9]*== Command: $(BIN)\|^==[0-9]*== Command: \./dagster-lua' $(VG_LOGS)/vg.*.log); \
	[ -n "$$ours" ] || { echo "valgrind: no log of $(BIN) found in $(VG_LOGS)"; exit 1; }; \
	bad=$$(grep -L 'ERROR SUMMARY: 0 errors' $$ours); \
	for f in $$bad; do echo "== $$f"; cat $$f; done; \
	echo "valgrind: $$(grep -E '^[0-9]+ passed, [0-9]+ failed' $(VG_LOGS)/busted.out | tail -n 1)," \
	  "$$(echo $$ours | wc -w) processes of $(BIN) checked, $$(echo $$bad | wc -w) with errors or definite leaks"; \
	[ "$$rc" = 0 ] && [ -z "$$bad" ]

# ------------------------------------------------------------------------------------------
# make fuzz
# ------------------------------------------------------------------------------------------
FUZZ_DIR     := build-fuzz
FUZZ_CC      ?= clang
FUZZ_CFLAGS  ?= -O1 -g
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_TIME    ?= 30
FUZZ_MAXLEN  ?= 65536
FUZZ_TARGETS ?= response json methods
FUZZ_ARGS    ?=
# every host object but main.c, instrumented for coverage (fuzzer-no-link); clang's warnings
# are shown but do not stop the build (its set differs from gcc's, which the Makefile uses)
FUZZ_OBJ     := $(patsubst host/%.c,$(FUZZ_DIR)/%.o,$(filter-out host/main.c,$(C_SRC))) \
	$(FUZZ_DIR)/embedded.o

$(FUZZ_DIR):
	@mkdir -p $@

$(FUZZ_DIR)/%.o: host/%.c host/dagster.h | $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(filter-out -Werror,$(WARN)) \
	  $(DEFS) $(PKGCFLAGS) -c $< -o $@

$(FUZZ_DIR)/embedded.c: host/embed.lua $(LUA_SRC) | $(FUZZ_DIR)
	lua5.4 host/embed.lua $(LUA_SRC) > $@.tmp && mv $@.tmp $@

$(FUZZ_DIR)/embedded.o: $(FUZZ_DIR)/embedded.c host/dagster.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -std=c99 -Ihost $(PKGCFLAGS) -c $< -o $@

FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

$(FUZZ_BINS): $(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OBJ) host/dagster.h fuzz/luacov.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) $(filter-out -Werror,$(WARN)) $(DEFS) \
	  -Ihost $(PKGCFLAGS) -o $@ $< $(FUZZ_OBJ) $(PKGLIBS) -ldl -lm

fuzz-build: $(FUZZ_BINS)

# New corpus entries go to build-fuzz/corpus/<target> (the first corpus directory, the only
# one libFuzzer writes to); fuzz/corpus/<target> holds the seeds and is only read. Crashes
# are written to build-fuzz/crash-<target>-*.
# -detect_leaks=0: one Lua state serves every input, and its garbage is freed by later
# collections, so an input that allocates more than it frees is the rule, not a leak: each
# would cost a full LSan pass (libFuzzer gives up after 1000, a third of a 30 s run). The
# C code under these targets allocates through Lua, and `make valgrind` checks the JSON
# specs for leaks.
fuzz:
	@WITH_CLANG=1 bash scripts/install-deps
	@$(MAKE) -s --no-print-directory fuzz-build
	@total=0; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	  echo "fuzz: fuzz_$$t for $(FUZZ_TIME) s"; \
	  $(FUZZ_DIR)/fuzz_$$t -max_len=$(FUZZ_MAXLEN) -max_total_time=$(FUZZ_TIME) -timeout=10 -detect_leaks=0 \
	    -dict=fuzz/json.dict -artifact_prefix=$(FUZZ_DIR)/crash-$$t- -print_final_stats=1 \
	    $(FUZZ_ARGS) $(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t > $(FUZZ_DIR)/fuzz_$$t.log 2>&1; \
	  rc=$$?; \
	  runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/fuzz_$$t.log); \
	  speed=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $(FUZZ_DIR)/fuzz_$$t.log); \
	  if [ $$rc -ne 0 ]; then \
	    tail -n 60 $(FUZZ_DIR)/fuzz_$$t.log; \
	    echo "fuzz: fuzz_$$t FAILED after $${runs:-?} runs (log: $(FUZZ_DIR)/fuzz_$$t.log)"; \
	    exit 1; \
	  fi; \
	  echo "fuzz: fuzz_$$t: $$runs runs, $$speed exec/s, no crash"; \
	  total=$$((total + runs)); \
	done; \
	echo "fuzz: $$total runs in all, no crash"
