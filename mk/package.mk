# mk/package.mk: dagster-lua as a Lua library and a Unix tool (included by the Makefile).
#   make lib        build/lib/dagster/{error,file,http,json,sys}.so: the C modules for a stock lua5.4
#                   (luaopen_dagster_*; not linked to liblua, the interpreter provides it)
#   make man        build/dagster-lua.1 from doc/dagster-lua.1.scd (scdoc)
#   make annotations  types/dagster.lua (LuaLS ---@meta) from lua/dagster/api.lua
#   make install    the binary, the man page, the module for stock Lua (Lua files and .so),
#                   the annotations, the playbooks and the examples of running them unattended
#                   (doc/examples: systemd, cron, Kubernetes), under $(DESTDIR)$(PREFIX); the
#                   list of what it wrote goes to $(PREFIX)/share/dagster-lua/installed-files
#   make uninstall  removes exactly the files that list names, the list, and the folders
#                   install made that are left empty
#   make deb        build/deb/dagster-lua_*.deb and lua-dagster_*.deb (scripts/make-deb)
#   make deb-check  builds them, installs them with apt-get, smoke-tests them against a real
#                   Dagster and removes them (scripts/deb-smoke; root or sudo)
#   make test-stock the specs in a stock lua5.4 with the rock installed into a temporary tree
#                   (scripts/test-stock: luarocks-5.4 lint and make, a real Dagster)

.PHONY: lib man annotations install uninstall deb deb-check test-stock

LUA_V      := 5.4
LIB_DIR    := build/lib
PIC_DIR    := build/pic
LIB_SO     := $(LIB_DIR)/dagster/error.so $(LIB_DIR)/dagster/file.so $(LIB_DIR)/dagster/http.so \
              $(LIB_DIR)/dagster/json.so $(LIB_DIR)/dagster/sys.so
LUA_CFLAGS  = $(shell pkg-config --cflags lua5.4)
CURL_LIBS   = $(shell pkg-config --libs libcurl)
MAN        := build/dagster-lua.1

# Install locations. LUA_LIBDIR/LUA_SHAREDIR are where a stock lua5.4 looks: with the
# default PREFIX=/usr/local, Debian's lua5.4 searches both (package.path and cpath).
BINDIR      = $(PREFIX)/bin
MANDIR      = $(PREFIX)/share/man/man1
LUA_LIBDIR  = $(PREFIX)/lib/lua/$(LUA_V)
LUA_SHAREDIR = $(PREFIX)/share/lua/$(LUA_V)
DATADIR     = $(PREFIX)/share/dagster-lua
MANIFEST    = $(DATADIR)/installed-files
PLAYBOOKS  ?= $(wildcard scripts/playbooks/*.lua)
EXAMPLES   ?= $(wildcard doc/examples/*)

lib: $(LIB_SO)

$(PIC_DIR) $(LIB_DIR)/dagster:
	@mkdir -p $@

$(PIC_DIR)/%.o: host/%.c host/dagster.h | $(PIC_DIR)
	$(CC) $(CFLAGS) -fPIC $(WARN) $(DEFS) $(LUA_CFLAGS) -c $< -o $@

# dagster.http raises dagster.Error objects from C: it carries its own copy of lerror.c,
# whose metatable lives in the registry (luaL_newmetatable), so both copies share it.
$(LIB_DIR)/dagster/error.so: $(PIC_DIR)/lerror.o | $(LIB_DIR)/dagster
	$(CC) $(CFLAGS) -shared $(LDFLAGS) -o $@ $^

$(LIB_DIR)/dagster/http.so: $(PIC_DIR)/lhttp.o $(PIC_DIR)/lerror.o | $(LIB_DIR)/dagster
	$(CC) $(CFLAGS) -shared $(LDFLAGS) -o $@ $^ $(CURL_LIBS)

$(LIB_DIR)/dagster/file.so: $(PIC_DIR)/lfile.o | $(LIB_DIR)/dagster
	$(CC) $(CFLAGS) -shared $(LDFLAGS) -o $@ $^

$(LIB_DIR)/dagster/json.so: $(PIC_DIR)/ljson.o | $(LIB_DIR)/dagster
	$(CC) $(CFLAGS) -shared $(LDFLAGS) -o $@ $^ -lm

$(LIB_DIR)/dagster/sys.so: $(PIC_DIR)/lsys.o | $(LIB_DIR)/dagster
	$(CC) $(CFLAGS) -shared $(LDFLAGS) -o $@ $^

man: $(MAN)

$(MAN): doc/dagster-lua.1.scd | build
	scdoc < $< > $@.tmp && mv $@.tmp $@

annotations:
	lua5.4 scripts/gen-annotations.lua > types/dagster.lua.tmp && mv types/dagster.lua.tmp types/dagster.lua

# install: every file goes through `inst MODE SRC DEST`, which also records DEST (without
# DESTDIR) in the manifest, so that uninstall removes exactly those.
install: $(BIN) $(LIB_SO) $(MAN)
	@set -e; d='$(DESTDIR)'; list=$$(mktemp); \
	inst() { install -D -m "$$1" "$$2" "$$d$$3"; echo "$$3" >> "$$list"; echo "install $$2 -> $$d$$3"; }; \
	inst 755 $(BIN) $(BINDIR)/dagster-lua; \
	inst 644 $(MAN) $(MANDIR)/dagster-lua.1; \
	for f in $(LIB_SO); do inst 644 $$f $(LUA_LIBDIR)/dagster/$$(basename $$f); done; \
	for f in $(filter lua/%,$(LUA_SRC)); do inst 644 $$f $(LUA_SHAREDIR)/$${f#lua/}; done; \
	inst 644 types/dagster.lua $(DATADIR)/types/dagster.lua; \
	for f in $(PLAYBOOKS); do inst 644 $$f $(DATADIR)/playbooks/$$(basename $$f); done; \
	for f in $(EXAMPLES); do inst 644 $$f $(DATADIR)/examples/$$(basename $$f); done; \
	install -D -m 644 "$$list" "$$d$(MANIFEST)"; rm -f "$$list"; \
	echo "install: $$(wc -l < "$$d$(MANIFEST)") files, listed in $$d$(MANIFEST)"

uninstall:
	@set -e; d='$(DESTDIR)'; m="$$d$(MANIFEST)"; \
	[ -f "$$m" ] || { echo "uninstall: $$m not found: nothing installed under $$d$(PREFIX)"; exit 1; }; \
	n=0; while read -r f; do rm -f "$$d$$f"; n=$$((n + 1)); done < "$$m"; rm -f "$$m"; \
	for dir in $(DATADIR)/playbooks $(DATADIR)/examples $(DATADIR)/types $(DATADIR) $(LUA_LIBDIR)/dagster \
	  $(LUA_SHAREDIR)/dagster; do [ -d "$$d$$dir" ] && rmdir --ignore-fail-on-non-empty "$$d$$dir"; done; \
	echo "uninstall: $$n files removed"

deb: $(BIN) $(LIB_SO) $(MAN)
	@bash scripts/make-deb

deb-check:
	@bash scripts/deb-smoke

test-stock:
	@bash scripts/test-stock
