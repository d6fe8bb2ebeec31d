"""nncli: a command-line trainer for dense neural networks on NumPy.

``nncli.train(config) -> Run`` and ``nncli.load_run(path).predict(X)``; the command line is a thin
shell over these. Heavy modules load on first use, so ``nncli --help`` starts fast.
"""

__version__ = "0.1.0"


def _start_signals() -> None:
    """In the process of `nncli` / `python -m nncli`, Ctrl-C and SIGTERM give one line and exit
    130/143 from here on, while Typer and the commands are imported (cli/starting.py)."""
    from .cli import starting

    if starting.started_as_command():
        starting.install()


_start_signals()


def train(*args, **kwargs):
    from .api import train as _train

    return _train(*args, **kwargs)


def load_run(*args, **kwargs):
    from .api import load_run as _load_run

    return _load_run(*args, **kwargs)


train.__doc__ = "See nncli.api.train."
load_run.__doc__ = "See nncli.api.load_run."
