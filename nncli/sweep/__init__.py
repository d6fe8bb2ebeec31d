"""Sweeps: spec, expansion, trial ids, executors (sequential, processes, Dask), results."""
