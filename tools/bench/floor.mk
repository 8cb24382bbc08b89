# cmmo-floor (tools/bench/floor/floor.c): the minimal sender `make bench` measures cmmo against.
build/cmmo-floor: tools/bench/floor/floor.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(shell pkg-config --libs libuv openssl)
build: build/cmmo-floor
bench: build/cmmo-floor
