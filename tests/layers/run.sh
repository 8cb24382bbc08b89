#!/usr/bin/env bash
# Checks the layering of src/ on its #include lines and the Makefile's link lines (see
# check_layers.py for the rule) and prints "RESULT: P passed, F failed". Needs no build.
set -uo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 tests/layers/check_layers.py
