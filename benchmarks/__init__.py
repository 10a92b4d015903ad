"""Benchmarks: sfsync's API calls, time and memory against a naive integration."""
