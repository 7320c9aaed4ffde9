"""Benchmarks: each runs a baseline beside the real thing and prints the ratio."""
