# pam_gocap: `make` builds, `make test` runs every test, `make demo` shows
# the module at work. See README.md.

PREFIX     ?= /usr
LIBEXECDIR ?= $(PREFIX)/libexec
SBINDIR    ?= $(PREFIX)/sbin
DATADIR    ?= $(PREFIX)/share/pam-gocap
SYSCONFDIR ?= /etc
PAMCONFIGS ?= $(PREFIX)/share/pam-configs
MANDIR     ?= $(PREFIX)/share/man
VERSION    ?= 0.1.0
# Where this system's libpam looks for modules: beside pam_unix.so.
PAMDIR     ?= $(patsubst %/,%,$(dir $(firstword $(wildcard \
	/lib/*/security/pam_unix.so /usr/lib/*/security/pam_unix.so \
	/lib64/security/pam_unix.so /usr/lib64/security/pam_unix.so \
	/lib/security/pam_unix.so /usr/lib/security/pam_unix.so))))
# The module runs the helper from this path, fixed at build time.
HELPER     ?= $(LIBEXECDIR)/pam_gocap/pam_gocap-helper

GO        ?= go
ifeq ($(shell $(GO) version 2>/dev/null),)
$(error Go 1.24 or later is needed to build pam_gocap (Debian 13's golang-go, or go.dev/dl))
endif
GOFLAGS   ?= -trimpath
SO_LDFLAGS = -s -w -extldflags=-Wl,--version-script=$(CURDIR)/pam_gocap.map
GO_SRC     = $(shell find . -name '*.go' -not -path './build/*') go.mod go.sum
SO_SRC     = $(GO_SRC) exports.c start.c start.h decision.h pam_gocap.map
# Libraries (the module and the floor) are built without the Green Tea
# garbage collector where the toolchain has it (Go 1.25 on): its mark bits
# inside each small-object span put a second written page in every span
# that a module's start and first decision touch, 44-64 KiB in every
# process that loads the module (bench/limits.md). Go 1.27 is to drop the
# opt-out; older toolchains do not know the name.
SO_GOENV  := $(if $(shell GOEXPERIMENT=nogreenteagc $(GO) env GOEXPERIMENT 2>/dev/null),GOEXPERIMENT=nogreenteagc)
# The Debian package.
DEB_ARCH      = $(shell dpkg --print-architecture)
DEB_MULTIARCH = $(shell $(CC) -print-multiarch)
DEB_ROOT      = build/deb/root
DEB           = build/pam-gocap_$(VERSION)-1_$(DEB_ARCH).deb

# A second build whose helper path points into build/test, for the tests.
TESTDIR    = $(CURDIR)/build/test
FAKEDIR    = $(TESTDIR)/fake
TEST_BUILD = $(TESTDIR)/pam_gocap.so $(TESTDIR)/pam_gocap-helper $(TESTDIR)/pamhost \
	$(FAKEDIR)/pam_gocap.so $(FAKEDIR)/pam_gocap-helper $(TESTDIR)/libnss_nssfail.so.2 gocap


.PHONY: all man test test-unit test-module test-package fuzz stress bench docker-test trace-test ldap-test demo install install-files uninstall deb clean FORCE \
	deps deps-build deps-test deps-docker deps-bench mutants
all: pam_gocap.so pam_gocap-helper gocap man

# The Debian packages each kind of target needs, from one list
# (scripts/deps.sh): installed when missing, as root; named otherwise.
deps: deps-build deps-test deps-docker deps-bench
deps-build deps-test deps-docker deps-bench:
	@bash scripts/deps.sh $(@:deps-%=%)

MANPAGES = build/man/pam_gocap.8 build/man/gocap.8
man: $(MANPAGES)
build/man/%.8: man/%.8.md go.mod
	@mkdir -p build/man
	$(GO) run github.com/cpuguy83/go-md2man/v2 -in $< -out $@

# The helper path is compiled into the module: rebuild it when it changes.
build/helper-path: FORCE
	@mkdir -p build
	@echo '$(HELPER)' | cmp -s - $@ || echo '$(HELPER)' >$@

# build_module OUT,HELPER: the module, running its helper from HELPER.
build_module = $(SO_GOENV) CGO_ENABLED=1 CGO_CFLAGS="-O2 -DPAM_GOCAP_HELPER=\"$(2)\"" \
	$(GO) build $(GOFLAGS) -buildmode=c-shared -ldflags "$(SO_LDFLAGS)" -o $(1) .

# go build writes a C header beside the library: build in build/ so that it
# lands there.
pam_gocap.so: $(SO_SRC) build/helper-path | deps-build
	$(call build_module,build/$@,$(HELPER))
	cp build/$@ $@

pam_gocap-helper: $(GO_SRC) | deps-build
	CGO_ENABLED=1 $(GO) build $(GOFLAGS) -buildmode=pie -ldflags "-s -w" -o $@ ./cmd/pam_gocap-helper

gocap: $(GO_SRC) | deps-build
	CGO_ENABLED=1 $(GO) build $(GOFLAGS) -buildmode=pie -ldflags "-s -w -X main.version=$(VERSION)" -o $@ ./cmd/gocap

$(TESTDIR)/pam_gocap.so: $(SO_SRC) | deps-build
	mkdir -p $(TESTDIR)
	$(call build_module,$@,$(TESTDIR)/pam_gocap-helper)

# The same module with a fake helper (tests/c/fakehelper.c) that tests
# script, to see what the helper inherits and how its failures are told.
$(FAKEDIR)/pam_gocap.so: $(SO_SRC) | deps-build
	mkdir -p $(FAKEDIR)
	$(call build_module,$@,$(FAKEDIR)/pam_gocap-helper)

$(FAKEDIR)/pam_gocap-helper: tests/c/fakehelper.c | deps-build
	mkdir -p $(FAKEDIR)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

$(TESTDIR)/pam_gocap-helper: $(GO_SRC) | deps-build
	mkdir -p $(TESTDIR)
	CGO_ENABLED=1 $(GO) build $(GOFLAGS) -o $@ ./cmd/pam_gocap-helper

$(TESTDIR)/pamhost: tests/c/pamhost.c | deps-build
	mkdir -p $(TESTDIR)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $< -lpam -lpthread

# An NSS service that fails as a directory can (tests/c/nssfail.c).
$(TESTDIR)/libnss_nssfail.so.2: tests/c/nssfail.c | deps-build
	mkdir -p $(TESTDIR)
	$(CC) -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $<

test: deps-build deps-test deps-docker test-unit test-module test-package fuzz docker-test

# Each fuzz target for FUZZTIME, with its count of inputs run
# (tests/fuzz.sh).
FUZZTIME ?= 60s
FUZZ_TARGETS = FuzzParseIAB FuzzFindRule FuzzParseArgs FuzzQuote
fuzz:
	bash tests/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

# pam_gocap.so against pam_cap.so, the Go floor and no module: writes
# BENCHMARKS.md.
bench: deps-bench deps-docker pam_gocap.so build/bench/pam_floor.so $(TESTDIR)/pamhost
	bash bench/bench.sh

# The Go floor: a do-nothing module built exactly as pam_gocap.so is.
build/bench/pam_floor.so: bench/floor/floor.go bench/floor/floor.c start.c start.h pam_gocap.map | deps-build
	mkdir -p build/bench
	$(SO_GOENV) CGO_ENABLED=1 $(GO) build $(GOFLAGS) -buildmode=c-shared -ldflags "$(SO_LDFLAGS)" -o $@ ./bench/floor

# The module tests with the full counts: 10,000 transactions in one host,
# 8 threads x 1,000 transactions.
stress: deps-test $(TEST_BUILD)
	PAM_GOCAP_STRESS=1 PAM_GOCAP_BUILD=$(TESTDIR) PAM_GOCAP_GOCAP=$(CURDIR)/gocap \
		$(GO) test -count=1 -timeout 60m -v -run 'LongRunning|EightThreads|Forked|Hostile|Changing' ./tests/...

# The package and the installed tree: lintian, man pages that render without
# warnings, and what make install lays out and uninstall removes.
test-package: deps-test $(DEB)
	lintian --fail-on error,warning --suppress-tags $(LINTIAN_ACCEPTED) $(DEB)
	for m in $(MANPAGES); do \
		out=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z $$m 2>&1 >/dev/null); \
		[ -z "$$out" ] || { echo "$$m: $$out"; exit 1; }; done
	bash tests/install-layout.sh

# Tags accepted on purpose: Go code has no _FORTIFY_SOURCE functions to use;
# the helper is run by the module only and has no man page of its own; the
# package is not an upload to Debian, so there is no ITP bug to close.
LINTIAN_ACCEPTED = hardening-no-fortify-functions,no-manual-page,initial-upload-closes-no-bugs

# The Debian releases the Docker harness runs on.
RELEASES = bookworm trixie

# su, login, sshd and pamtester, pam_cap.so beside, gocap trace and the
# directory clients, in containers of each release side by side; and the
# package built by Debian 13's own toolchain (docker/releases.sh).
docker-test: deps-build deps-docker
	bash docker/releases.sh $(RELEASES)

# gocap trace in a container that may trace, by both methods.
trace-test: deps-build deps-docker
	for r in $(RELEASES); do bash docker/run.sh trace $$r || exit 1; done

# @group rules for users and groups from a slapd directory, up and down,
# through nslcd and through sssd.
ldap-test: deps-build deps-docker
	for r in $(RELEASES); do bash docker/run.sh ldap $$r || exit 1; done

# Build, start a Debian 12 container, log two users in over ssh, show what
# they got.
demo: deps-build deps-docker
	bash docker/run.sh demo

# Policy and the command: pure Go, no cgo, no root.
test-unit: | deps-build
	$(GO) vet ./...
	$(GO) mod tidy -diff
	bash tests/build-constraints.sh
	CGO_ENABLED=0 $(GO) test -count=1 ./capconf/... ./captrace/... ./cmd/gocap/... ./internal/...

# The module through the real libpam, in C and Go hosts (root).
test-module: deps-test $(TEST_BUILD)
	PAM_GOCAP_BUILD=$(TESTDIR) PAM_GOCAP_GOCAP=$(CURDIR)/gocap $(GO) test -count=1 -timeout 20m $(TESTFLAGS) ./tests/...

# Deliberate bugs, one at a time in a scratch copy, each of which the tests
# must catch: prints "N killed, N survived" (tests/mutants; MUTANT=WORD
# runs only those whose names hold WORD). Not part of
# make test: it builds and tests the tree once per mutant.
mutants: deps-build deps-test
	$(GO) run ./tests/mutants $(MUTANT)

# Everything but the rules file, for packages too.
install-files: all
	install -D -m 0644 pam_gocap.so $(DESTDIR)$(PAMDIR)/pam_gocap.so
	install -D -m 0755 pam_gocap-helper $(DESTDIR)$(HELPER)
	install -D -m 0755 gocap $(DESTDIR)$(SBINDIR)/gocap
	install -D -m 0644 capability.conf.example $(DESTDIR)$(DATADIR)/capability.conf.example
	install -D -m 0644 debian-pkg/pam-config $(DESTDIR)$(PAMCONFIGS)/gocap
	install -d $(DESTDIR)$(MANDIR)/man8
	for m in $(MANPAGES); do gzip -9n <$$m >$(DESTDIR)$(MANDIR)/man8/$$(basename $$m).gz; done

# The rules file only when there is none: an administrator's is never replaced.
install: install-files
	test -e $(DESTDIR)$(SYSCONFDIR)/security/capability.conf || \
		install -D -m 0644 capability.conf.example $(DESTDIR)$(SYSCONFDIR)/security/capability.conf

# Removes what install-files put, but never capability.conf.
uninstall:
	rm -f $(DESTDIR)$(PAMDIR)/pam_gocap.so $(DESTDIR)$(HELPER) $(DESTDIR)$(SBINDIR)/gocap \
		$(DESTDIR)$(DATADIR)/capability.conf.example $(DESTDIR)$(PAMCONFIGS)/gocap \
		$(DESTDIR)$(MANDIR)/man8/pam_gocap.8.gz $(DESTDIR)$(MANDIR)/man8/gocap.8.gz
	-rmdir $(DESTDIR)$(dir $(HELPER)) $(DESTDIR)$(DATADIR) 2>/dev/null

# A Debian package built with dpkg-deb: the module where Debian's libpam
# looks, a pam-auth-update profile that is off until enabled, and
# maintainer scripts that call pam-auth-update as Debian's PAM packages do.
deb: $(DEB)
$(DEB): all debian-pkg/* Makefile
	rm -rf $(DEB_ROOT)
	$(MAKE) install-files PREFIX=/usr DESTDIR=$(CURDIR)/$(DEB_ROOT) PAMDIR=/usr/lib/$(DEB_MULTIARCH)/security
	install -D -m 0644 debian-pkg/copyright $(DEB_ROOT)/usr/share/doc/pam-gocap/copyright
	gzip -9n <debian-pkg/changelog >$(DEB_ROOT)/usr/share/doc/pam-gocap/changelog.Debian.gz
	install -d -m 0755 $(DEB_ROOT)/DEBIAN
	install -m 0755 debian-pkg/postinst debian-pkg/prerm $(DEB_ROOT)/DEBIAN/
	sed -e 's/@VERSION@/$(VERSION)-1/' -e 's/@ARCH@/$(DEB_ARCH)/' \
		-e "s/@SIZE@/$$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1)/" debian-pkg/control.in >$(DEB_ROOT)/DEBIAN/control
	(cd $(DEB_ROOT) && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | xargs -0 md5sum) >$(DEB_ROOT)/DEBIAN/md5sums
	dpkg-deb --root-owner-group --build $(DEB_ROOT) $@

clean:
	rm -rf build pam_gocap.so pam_gocap-helper gocap
