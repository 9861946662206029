"""Benchmarks of the service on this machine: `qa bench` (see `qa.bench.suite`)."""

from qa.bench.suite import BenchConfig, run_bench

__all__ = ["BenchConfig", "run_bench"]
