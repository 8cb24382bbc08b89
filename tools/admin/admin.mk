# cmmo-admin, the operator's tool (included by the top-level Makefile).
# It links the server's modules (store, validation, the admin socket's path rule), so accounts it
# creates are exactly what Register creates. build/cmmo-admin comes with `make build`,
# build/asan/cmmo-admin (sanitized, used by tests/admin) with `make asan`.

ADMIN_SRC := $(sort $(wildcard tools/admin/*.c))

build: build/cmmo-admin
asan: build/asan/cmmo-admin

build/cmmo-admin: $(ADMIN_SRC) $(wildcard tools/admin/*.h) $(OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools/admin -o $@ $(ADMIN_SRC) $(OBJ) $(PKG_LIBS)

build/asan/cmmo-admin: $(ADMIN_SRC) $(wildcard tools/admin/*.h) $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -Itools/admin -o $@ $(ADMIN_SRC) $(ASAN_OBJ) $(PKG_LIBS)

.PHONY: test-admin
test-admin: asan build
	@tests/admin/run.sh
