#!/usr/bin/env python3
"""Stands the benchmark accounts ba0..ba<N-1> on the cells of an even grid over a W x H world,
in a cmmo SQLite database (as if everyone had walked there in an earlier session): the open-world
workload starts spread out instead of measuring a crowd at the spawn point.

usage: place_grid.py DB N W H"""
import math
import sqlite3
import sys

db, n, w, h = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
cols = max(1, math.ceil(math.sqrt(n * w / h)))
rows = (n + cols - 1) // cols
con = sqlite3.connect(db)
with con:
    for i in range(n):
        x = round((i % cols + 0.5) * w / cols, 3)
        y = round((i // cols + 0.5) * h / rows, 3)
        con.execute("UPDATE instanced_entity SET x = ?, y = ? WHERE id = (SELECT a.instanced_entity_id"
                    " FROM actor a JOIN user u ON u.id = a.user_id WHERE u.username = ?)",
                    (x, y, "ba%d" % i))
con.close()
