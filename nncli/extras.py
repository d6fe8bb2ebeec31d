"""Optional extras: which packages each one needs, and the one-line hint when one is missing.

The hint names the packages themselves (``pip install matplotlib``), which is right wherever the
user is — in a checkout, in a virtualenv with nncli installed from a wheel, or with the
distribution installed under its package-index name ``nncli-trainer`` (the name ``nncli`` on the
index belongs to an unrelated project). tests/test_extras.py keeps EXTRAS equal to pyproject.toml.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingExtra

DISTRIBUTION = "nncli-trainer"

# extra -> the requirements pyproject.toml lists for it (same order)
EXTRAS: dict[str, list[str]] = {
    "plot": ["matplotlib>=3.6"],
    "dask": ["dask[distributed]>=2023.1"],
    "onnx": ["onnx>=1.14"],
    "sklearn": ["scikit-learn>=1.6"],
}


def install_command(extra: str) -> str:
    """``pip install PKG...`` for an extra, quoted for a POSIX shell."""
    return "pip install " + " ".join(f"'{req}'" if any(c in req for c in "[]<>=") else req
                                     for req in EXTRAS[extra])


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import ``module`` or raise MissingExtra: '<what> needs <module>, which is not installed: pip install …'."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{what} needs {module.split('.')[0]}, which is not installed: "
                           f"{install_command(extra)}") from None
