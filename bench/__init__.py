"""Benchmarks: scripts that print their figures (see each one's docstring)."""
