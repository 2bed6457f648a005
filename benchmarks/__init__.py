"""Benchmarks: timings live here, never in tests (run each as a script)."""
