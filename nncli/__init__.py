"""nncli: a command-line trainer for dense neural networks on NumPy."""
__version__ = "0.1.0"
