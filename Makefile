# palier — one non-recursive GNU Makefile.
#   make            build bin/palierd and bin/palierctl
#   make check      install missing packages, run every test, plain and under ASan+UBSan
#   make demo       start a private PostgreSQL under var/ and palierd on embedded defaults
#   make install DESTDIR=... PREFIX=...
.DEFAULT_GOAL := all
SHELL := /bin/bash

PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?=

ifeq ($(SAN),1)
OUT     := build/san
BINDIR  := build/san/bin
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
OUT     := build/obj
BINDIR  := bin
SANFLAGS :=
endif

PKGS := libpq inih jansson libutf8proc openssl libpcre2-8 libxml-2.0 libetpan \
        libmicrohttpd libcurl libesmtp-1.0
# Evaluated lazily, so that 'make deps' can install them first. libetpan's
# pkg-config adds a -specs file that silently makes binaries non-PIE: dropped.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(filter-out -specs=%,$(shell pkg-config --libs $(PKGS) 2>/dev/null)) -lcsv -lpthread
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
           -Wpointer-arith -Wcast-qual -Wvla -Wno-unused-parameter
ifneq ($(CI),)
WARN    += -Werror
endif
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -Idaemon -I$(OUT)/gen \
             -DPALIER_VERSION='"$(VERSION)"' -DPALIER_DATADIR='"$(PREFIX)/share/palier"' \
             $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

# Every .c under a stage folder is library code shared by both programs.
LIB_SRC   := $(sort $(wildcard daemon/core/*.c daemon/ingest/*.c daemon/classify/*.c \
               daemon/store/*.c daemon/fanout/*.c daemon/deliver/*.c daemon/http/*.c))
CTL_SRC   := $(sort $(wildcard daemon/ctl/*.c))
D_SRC     := daemon/palierd.c
GEN_SRC   := $(OUT)/gen/sql_migrations.c
LIB_OBJ   := $(LIB_SRC:%.c=$(OUT)/%.o) $(OUT)/gen/sql_migrations.o
CTL_OBJ   := $(CTL_SRC:%.c=$(OUT)/%.o)
D_OBJ     := $(D_SRC:%.c=$(OUT)/%.o)
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(OUT)/tests/%)
SQL_FILES := $(sort $(wildcard sql/[0-9][0-9][0-9]_*.sql))

.PHONY: all deps check check-run unit demo demo-stop bench bench-peers install clean
all: $(BINDIR)/palierd $(BINDIR)/palierctl

$(BINDIR)/palierd: $(D_OBJ) $(OUT)/libpalier.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BINDIR)/palierctl: $(CTL_OBJ) $(OUT)/libpalier.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(OUT)/libpalier.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(OUT)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OUT)/gen/sql_migrations.o: $(OUT)/gen/sql_migrations.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The migrations are compiled into the binaries: palierctl migrate never
# depends on where sql/ was installed.
$(OUT)/gen/sql_migrations.c: $(SQL_FILES) scripts/embed-sql.sh sql
	@mkdir -p $(@D)
	scripts/embed-sql.sh $(SQL_FILES) > $@.tmp && mv $@.tmp $@

$(OUT)/tests/%: tests/unit/%.c $(OUT)/libpalier.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(OUT)/libpalier.a $(PKG_LIBS) $(CMOCKA_LIBS)

TOOLS     := $(patsubst tests/tools/%.c,build/tools/%,$(wildcard tests/tools/*.c))
build/tools/%: tests/tools/%.c
	@mkdir -p $(@D)
	$(CC) -std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -o $@ $< -lpthread

unit: $(UNIT_BIN) $(TOOLS)

deps:
	@scripts/deps.sh

# The whole suite: a plain build, then the same tests under ASan+UBSan,
# against one private PostgreSQL cluster that the harness starts and stops.
check: deps
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory SAN=1 all unit
	@tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh start

demo-stop:
	@scripts/demo.sh stop

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/run.sh
	@tests/bench/sms.sh

# GNU Mailman 3 and mlmmj on the same work, installed from Debian: slow to set up.
bench-peers: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/peers.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/palier/filters \
	  $(DESTDIR)$(PREFIX)/share/palier/templates $(DESTDIR)$(PREFIX)/share/palier/sql \
	  $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)/lib/systemd/system
	install -m 755 bin/palierd bin/palierctl $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(SQL_FILES) $(DESTDIR)$(PREFIX)/share/palier/sql/
	-install -m 644 filters/*.rules $(DESTDIR)$(PREFIX)/share/palier/filters/ 2>/dev/null
	-install -m 644 templates/*.* $(DESTDIR)$(PREFIX)/share/palier/templates/ 2>/dev/null
	install -m 644 docs/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	sed 's|@BINDIR@|$(PREFIX)/bin|g' systemd/palierd.service > $(DESTDIR)/lib/systemd/system/palierd.service

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
