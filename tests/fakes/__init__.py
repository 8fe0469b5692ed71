"""Fake external services for tests, the local stack and benchmarks."""
