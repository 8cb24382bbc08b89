# cmmo-floor (tools/bench/floor/floor.c): the minimal sender `make bench` measures cmmo against.
# liburing: its --io uring (tools/bench/floor/uring_ab.sh measures it against write(2)).
build/cmmo-floor: tools/bench/floor/floor.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(shell pkg-config --libs libuv openssl liburing)
build: build/cmmo-floor
bench: build/cmmo-floor
