"""Benchmarks: nncli against scikit-learn and PyTorch on the same jobs (see benchmarks/README.md)."""
