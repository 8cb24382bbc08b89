# cmmo-admin, the operator's tool (included by the top-level Makefile).
# It links the server's layers it names (store, validation, the admin socket's path rule), so
# accounts it creates are exactly what Register creates. build/cmmo-admin comes with `make build`,
# build/asan/cmmo-admin (sanitized, used by tests/admin) with `make asan`.

ADMIN_SRC := $(sort $(wildcard tools/admin/*.c))
ADMIN_LAYERS = $(call layers_for,$(ADMIN_SRC) $(wildcard tools/admin/*.h))

build: build/cmmo-admin
asan: build/asan/cmmo-admin

build/cmmo-admin: $(ADMIN_SRC) $(wildcard tools/admin/*.h) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools/admin -o $@ $(ADMIN_SRC) \
	    $(call layer_libs,build,$(ADMIN_LAYERS)) $(call layer_sys,$(ADMIN_LAYERS))

build/asan/cmmo-admin: $(ADMIN_SRC) $(wildcard tools/admin/*.h) $(ASAN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -Itools/admin -o $@ $(ADMIN_SRC) \
	    $(call layer_libs,build/asan,$(ADMIN_LAYERS)) $(call layer_sys,$(ADMIN_LAYERS))

.PHONY: test-admin
test-admin: asan build
	@tests/admin/run.sh
