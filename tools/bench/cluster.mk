# `make bench-cluster`: CPU per player and latency of a cluster (3 nodes over Redis, --redis)
# against one node with the same players, in the same sitting: an open world (1,500 players) and
# a crowded map. PostgreSQL and Redis are started on loopback and stopped by the script
# (tests/cluster/bench_cluster.py, docs/SCALING.md). BENCH_PLAYERS, BENCH_CROWDED_PLAYERS,
# BENCH_NODES, BENCH_DURATION and BENCH_WORKLOADS tune it.
.PHONY: bench-cluster
bench-cluster: deps build
	@/usr/bin/python3 tests/cluster/bench_cluster.py
