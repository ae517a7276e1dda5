# pam_gocap: `make` builds, `make test` runs every test, `make demo` shows
# the module at work. See README.md.

PREFIX     ?= /usr
LIBEXECDIR ?= $(PREFIX)/libexec
SBINDIR    ?= $(PREFIX)/sbin
DOCDIR     ?= $(PREFIX)/share/doc/pam-gocap
SYSCONFDIR ?= /etc
# Where this system's libpam looks for modules: beside pam_unix.so.
PAMDIR     ?= $(patsubst %/,%,$(dir $(firstword $(wildcard \
	/lib/*/security/pam_unix.so /usr/lib/*/security/pam_unix.so \
	/lib64/security/pam_unix.so /usr/lib64/security/pam_unix.so \
	/lib/security/pam_unix.so /usr/lib/security/pam_unix.so))))
# The module runs the helper from this path, fixed at build time.
HELPER     ?= $(LIBEXECDIR)/pam_gocap/pam_gocap-helper

GO        ?= go
GOFLAGS   ?= -trimpath
SO_LDFLAGS = -s -w -extldflags=-Wl,--version-script=$(CURDIR)/pam_gocap.map
GO_SRC     = $(shell find . -name '*.go' -not -path './build/*') go.mod go.sum
SO_SRC     = $(GO_SRC) exports.c decision.h pam_gocap.map
# A second build whose helper path points into build/test, for the tests.
TESTDIR    = $(CURDIR)/build/test

.PHONY: all test test-unit test-module install uninstall clean
all: pam_gocap.so pam_gocap-helper

# go build writes a C header beside the library: build in build/ so that it
# lands there.
pam_gocap.so: $(SO_SRC)
	CGO_ENABLED=1 CGO_CFLAGS="-O2 -DPAM_GOCAP_HELPER=\"$(HELPER)\"" \
		$(GO) build $(GOFLAGS) -buildmode=c-shared -ldflags "$(SO_LDFLAGS)" -o build/$@ .
	cp build/$@ $@

pam_gocap-helper: $(GO_SRC)
	CGO_ENABLED=1 $(GO) build $(GOFLAGS) -ldflags "-s -w" -o $@ ./cmd/pam_gocap-helper

$(TESTDIR)/pam_gocap.so: $(SO_SRC)
	mkdir -p $(TESTDIR)
	CGO_ENABLED=1 CGO_CFLAGS="-O2 -DPAM_GOCAP_HELPER=\"$(TESTDIR)/pam_gocap-helper\"" \
		$(GO) build $(GOFLAGS) -buildmode=c-shared -ldflags "$(SO_LDFLAGS)" -o $@ .

$(TESTDIR)/pam_gocap-helper: $(GO_SRC)
	mkdir -p $(TESTDIR)
	CGO_ENABLED=1 $(GO) build $(GOFLAGS) -o $@ ./cmd/pam_gocap-helper

$(TESTDIR)/pamhost: tests/c/pamhost.c
	mkdir -p $(TESTDIR)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $< -lpam -lpthread

test: test-unit test-module

# Policy: pure Go, no cgo, no root.
test-unit:
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) test -count=1 ./capconf/...

# The module through the real libpam, in C and Go hosts (root).
test-module: $(TESTDIR)/pam_gocap.so $(TESTDIR)/pam_gocap-helper $(TESTDIR)/pamhost
	PAM_GOCAP_BUILD=$(TESTDIR) $(GO) test -count=1 -timeout 20m ./tests/...

install: all
	install -D -m 0644 pam_gocap.so $(DESTDIR)$(PAMDIR)/pam_gocap.so
	install -D -m 0755 pam_gocap-helper $(DESTDIR)$(HELPER)
	install -D -m 0644 capability.conf.example $(DESTDIR)$(DOCDIR)/capability.conf.example
	test -e $(DESTDIR)$(SYSCONFDIR)/security/capability.conf || \
		install -D -m 0644 capability.conf.example $(DESTDIR)$(SYSCONFDIR)/security/capability.conf

# Removes what install put, but never the administrator's capability.conf.
uninstall:
	rm -f $(DESTDIR)$(PAMDIR)/pam_gocap.so $(DESTDIR)$(HELPER) \
		$(DESTDIR)$(DOCDIR)/capability.conf.example
	-rmdir $(DESTDIR)$(dir $(HELPER)) $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf build pam_gocap.so pam_gocap-helper
