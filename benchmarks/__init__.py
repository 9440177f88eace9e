"""Benchmarks: scripts that print what they measured. Run them through `emporium bench NAME`."""
