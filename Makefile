# dagster-lua: a Lua 5.4 host with a `dagster` module for Dagster's GraphQL API.
#   make            build build/dagster-lua and its man page, build/dagster-lua.1
#   make test       set up everything (Debian packages, venv, a local Dagster), run every spec
#   make demo       start a local Dagster, run scripts/demo.lua against it, stop it
#   make install    install the binary, man page and stock-Lua module (mk/package.mk)
PREFIX  ?= /usr/local
CC      ?= cc
PKGS    := lua5.4 libcurl
CFLAGS  ?= -O2 -g
WARN    := -std=c99 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
DEFS    := -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
PKGCFLAGS = $(shell pkg-config --cflags $(PKGS))
PKGLIBS   = $(shell pkg-config --libs $(PKGS))
LUA_SRC := $(shell find lua scripts/playbooks -name '*.lua' 2>/dev/null | LC_ALL=C sort)
C_SRC   := host/main.c host/run.c host/repl.c host/lerror.c host/lfile.c host/lhttp.c host/ljson.c host/lsys.c
OBJ     := $(C_SRC:host/%.c=build/%.o) build/embedded.o
BIN     := build/dagster-lua

.PHONY: all deps test demo install clean asan
all: $(BIN) man

deps:
	@bash scripts/install-deps

$(BIN): $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(PKGLIBS) -ldl -lm

build/%.o: host/%.c host/dagster.h | build
	$(CC) $(CFLAGS) $(WARN) $(DEFS) $(PKGCFLAGS) -c $< -o $@

build/embedded.c: host/embed.lua $(LUA_SRC) | build
	lua5.4 host/embed.lua $(LUA_SRC) > $@.tmp && mv $@.tmp $@

build/embedded.o: build/embedded.c host/dagster.h
	$(CC) $(CFLAGS) -std=c99 -Wall -Wextra -Werror -Ihost $(PKGCFLAGS) -c $< -o $@

build:
	@mkdir -p build

test:
	@bash scripts/test

demo:
	@bash scripts/demo

clean:
	rm -rf build build-asan build-fuzz

# sanitizers, valgrind and fuzzing (mk/check.mk); benchmarks (bench/bench.mk); the library,
# install, uninstall, man page, annotations and Debian packages (mk/package.mk)
-include mk/check.mk
-include mk/package.mk
-include bench/bench.mk
