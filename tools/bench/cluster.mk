# `make bench-cluster`: chat and movement latency across two cluster nodes (--redis) against one
# node, players split evenly; PostgreSQL and Redis are started on loopback and stopped by the
# script (tests/cluster/bench_cluster.py, docs/SCALING.md). BENCH_PLAYERS, BENCH_DURATION tune it.
.PHONY: bench-cluster
bench-cluster: deps build
	@/usr/bin/python3 tests/cluster/bench_cluster.py
