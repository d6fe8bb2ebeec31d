"""The run directory and checkpoints: the only code that writes or reads them."""
