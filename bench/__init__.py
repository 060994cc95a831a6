"""Benchmarks: `make bench` (see each module's docstring)."""
