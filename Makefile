# smtpdx - a hand-written Makefile.  `make V=1` shows the commands.

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=
VERSION  := 0.1.0

CC       ?= cc
PKGS     := ncursesw gnutls gnutls-dane libedit libgsasl inih libidn2
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wundef \
            -Wno-unused-parameter
CFLAGS   ?= -O2 -g
# Deferred: evaluated in recipes, after tools/deps.sh has checked them.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DSMTPDX_VERSION='"$(VERSION)"' \
             $(WARN) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LIBS      = $(PKG_LIBS) -lresolv -lpthread

ifeq ($(V),1)
Q :=
else
Q := @
endif

# BUILD is the object tree, BIN the program: the sanitizer build uses
# `make BUILD=build-asan BIN=build-asan/smtpdx CC=clang ...` and never
# mixes with build/ and ./smtpdx.
BUILD      ?= build
BIN        ?= smtpdx
ENGINE_SRC := $(wildcard src/*.c src/lab/*.c)
UI_SRC     := $(wildcard ui/*.c)
ENGINE_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(filter-out src/main.c,$(ENGINE_SRC)))
UI_OBJ     := $(patsubst %.c,$(BUILD)/%.o,$(UI_SRC))
MAIN_OBJ   := $(BUILD)/src/main.o

.PHONY: all check test run bench install uninstall clean asan fuzz fuzz-build screenshots deps

all: $(BIN)

# Plain `make` only builds: when a library is missing it names the Debian
# packages (`make deps`, `make run` and `make check` install them).
$(BUILD)/.deps-ok: tools/deps.sh
	$(Q)sh tools/deps.sh build
	$(Q)mkdir -p $(BUILD) && touch $@

$(BUILD)/%.o: %.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BIN): $(MAIN_OBJ) $(ENGINE_OBJ) $(UI_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# Unit tests link the engine only: proof that src/ needs no curses.
$(BUILD)/tests/unit: $(BUILD)/tests/unit.o $(ENGINE_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(filter-out -lncursesw -ltinfo -ledit,$(LIBS))

# ---- libFuzzer targets (tests/fuzz/), in build-fuzz/ -------------------
# `make fuzz FUZZ_SECONDS=600` runs every target for that long, one after
# the other, each on a copy of its seed corpus in build-fuzz/corpus/.
FUZZ_BUILD   := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
FUZZ_ENGINE  := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(filter-out src/main.c,$(ENGINE_SRC)))

$(FUZZ_BUILD)/.deps-ok: tools/deps.sh
	$(Q)sh tools/deps.sh build
	$(Q)mkdir -p $(FUZZ_BUILD) && touch $@

$(FUZZ_BUILD)/%.o: %.c | $(FUZZ_BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (fuzz)")
	$(Q)clang $(filter-out -Werror,$(ALL_CFLAGS)) -O1 -g $(FUZZ_SAN) \
		-fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_ENGINE)
	@$(if $(Q),echo "  LD      $@")
	$(Q)clang -g $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ \
		$(filter-out -lncursesw -ltinfo -ledit,$(LIBS))

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Every Debian package the build, the tests and the screenshots need.
deps:
	$(Q)sh tools/deps.sh --install all

# The fast tier, for every edit: the build, layering, unit tests and a
# slice of the lab end-to-end suite (well under a minute).
test: $(BIN) $(BUILD)/tests/unit
	$(Q)sh tests/run-all.sh --fast

# Everything (what CI runs): installs what the suites need first.
check:
	$(Q)sh tools/deps.sh --install build test
	$(Q)$(MAKE) --no-print-directory $(BIN) $(BUILD)/tests/unit
	$(Q)sh tests/run-all.sh

run:
	$(Q)sh tools/deps.sh --install build
	$(Q)$(MAKE) --no-print-directory smtpdx
	./smtpdx --lab

bench: smtpdx
	$(Q)sh tests/bench.sh

# The sanitizer build lives in build-asan/ (tests/sanitize.sh runs it).
ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=all
asan:
	$(MAKE) BUILD=build-asan BIN=build-asan/smtpdx CC=clang \
		CFLAGS="$(ASAN_CFLAGS)" build-asan/smtpdx build-asan/tests/unit

install: smtpdx
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 smtpdx $(DESTDIR)$(BINDIR)/smtpdx
	install -m 644 smtpdx.1 $(DESTDIR)$(MANDIR)/man1/smtpdx.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/smtpdx $(DESTDIR)$(MANDIR)/man1/smtpdx.1

screenshots:
	$(Q)sh tools/deps.sh --install build screenshots
	$(Q)$(MAKE) --no-print-directory smtpdx
	$(Q)sh tests/screenshots.sh

clean:
	rm -rf build smtpdx build-asan build-fuzz

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
