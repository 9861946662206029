"""Benchmarks of the service on this machine: `qa bench` (see `qa.bench.suite`)."""
