# `make install`: binaries, the browser client, man page, docs and deploy examples under PREFIX.
# Included by the top-level Makefile. DESTDIR is honoured for packaging (files land in
# $(DESTDIR)$(PREFIX) but refer to $(PREFIX)).
#
#   PREFIX/bin/cmmo-server, PREFIX/bin/cmmo-admin
#   PREFIX/share/cmmo/web/                       the browser client (--web-root)
#   PREFIX/share/man/man1/cmmo-admin.1, PREFIX/share/man/man8/cmmo-server.8
#   PREFIX/share/doc/cmmo/                       README and docs/*.md, examples/ (deploy files,
#                                                and the Lua scripts in examples/scripts/)
#   SYSTEMD_UNITDIR/cmmo.service                 deploy/cmmo.service with /usr/local -> PREFIX

PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL ?= install
# systemd reads units from /usr/lib/systemd/system and /usr/local/lib/systemd/system, but not from
# under another prefix such as /opt/cmmo: there the unit goes to /etc/systemd/system.
SYSTEMD_UNITDIR ?= $(if $(filter /usr /usr/local,$(PREFIX)),$(PREFIX)/lib/systemd/system,/etc/systemd/system)

.PHONY: install uninstall
install: build/cmmo-server build/cmmo-admin
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/cmmo/web \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/doc/cmmo/examples/nginx \
		$(DESTDIR)$(PREFIX)/share/doc/cmmo/examples/scripts \
		$(DESTDIR)$(SYSTEMD_UNITDIR)
	$(INSTALL) -m 0755 build/cmmo-server build/cmmo-admin $(DESTDIR)$(PREFIX)/bin/
	cd web && find . -type f ! -name README.md -exec $(INSTALL) -D -m 0644 {} \
		"$(DESTDIR)$(PREFIX)/share/cmmo/web/{}" \;
	$(INSTALL) -m 0644 tools/admin/cmmo-admin.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	$(INSTALL) -m 0644 docs/cmmo-server.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	$(INSTALL) -m 0644 README.md $(wildcard docs/*.md) $(DESTDIR)$(PREFIX)/share/doc/cmmo/
	$(INSTALL) -m 0644 deploy/cmmo.conf deploy/Dockerfile $(DESTDIR)$(PREFIX)/share/doc/cmmo/examples/
	$(INSTALL) -m 0644 deploy/nginx/cmmo.conf $(DESTDIR)$(PREFIX)/share/doc/cmmo/examples/nginx/
	$(INSTALL) -m 0644 $(wildcard examples/scripts/*.lua) \
		$(DESTDIR)$(PREFIX)/share/doc/cmmo/examples/scripts/
	sed 's#/usr/local#$(PREFIX)#g' deploy/cmmo.service > $(DESTDIR)$(SYSTEMD_UNITDIR)/cmmo.service
	sed 's#/usr/local#$(PREFIX)#g' deploy/cmmo.conf > $(DESTDIR)$(PREFIX)/share/doc/cmmo/examples/cmmo.conf
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/cmmo.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/cmmo-server $(DESTDIR)$(PREFIX)/bin/cmmo-admin \
		$(DESTDIR)$(PREFIX)/share/man/man1/cmmo-admin.1 \
		$(DESTDIR)$(PREFIX)/share/man/man8/cmmo-server.8 \
		$(DESTDIR)$(SYSTEMD_UNITDIR)/cmmo.service
	rm -rf $(DESTDIR)$(PREFIX)/share/cmmo $(DESTDIR)$(PREFIX)/share/doc/cmmo
