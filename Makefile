# smtpdx - a hand-written Makefile.  `make V=1` shows the commands.

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=
VERSION  := 0.1.0

CC       ?= cc
PKGS     := ncursesw gnutls libedit libgsasl
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wundef \
            -Wno-unused-parameter
CFLAGS   ?= -O2 -g
# Deferred: evaluated in recipes, after tools/deps.sh has run.
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

ENGINE_SRC := $(wildcard src/*.c src/lab/*.c)
UI_SRC     := $(wildcard ui/*.c)
ENGINE_OBJ := $(patsubst %.c,build/%.o,$(filter-out src/main.c,$(ENGINE_SRC)))
UI_OBJ     := $(patsubst %.c,build/%.o,$(UI_SRC))
MAIN_OBJ   := build/src/main.o

.PHONY: all check run bench install uninstall clean asan fuzz screenshots deps

all: smtpdx

build/.deps-ok: tools/deps.sh
	$(Q)sh tools/deps.sh build
	$(Q)mkdir -p build && touch $@

build/%.o: %.c | build/.deps-ok
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

smtpdx: $(MAIN_OBJ) $(ENGINE_OBJ) $(UI_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# Unit tests link the engine only: proof that src/ needs no curses.
build/tests/unit: build/tests/unit.o $(ENGINE_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(filter-out -lncursesw -ltinfo -ledit,$(LIBS))

check: smtpdx build/tests/unit
	$(Q)sh tools/deps.sh test
	$(Q)sh tests/run-all.sh

run: smtpdx
	./smtpdx --lab

bench: smtpdx
	$(Q)sh tests/bench.sh

asan:
	$(MAKE) clean
	$(MAKE) CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

install: smtpdx
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 smtpdx $(DESTDIR)$(BINDIR)/smtpdx
	install -m 644 smtpdx.1 $(DESTDIR)$(MANDIR)/man1/smtpdx.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/smtpdx $(DESTDIR)$(MANDIR)/man1/smtpdx.1

screenshots: smtpdx
	$(Q)sh tests/screenshots.sh

clean:
	rm -rf build smtpdx

-include $(shell find build -name '*.d' 2>/dev/null)
