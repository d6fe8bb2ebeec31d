"""predict/evaluate ask for one BLAS thread before NumPy loads, unless the user chose a number."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = ("import os, sys; from nncli.cli.predict import one_blas_thread; loaded = 'numpy' in sys.modules; "
         "{pre}one_blas_thread(); print(loaded, os.environ.get('OPENBLAS_NUM_THREADS'), os.environ.get('OMP_NUM_THREADS'))")


def _probe(env_extra: dict, pre: str = "") -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.update(env_extra, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", PROBE.format(pre=pre)], env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_one_thread_when_unset():
    # the command module does not load NumPy itself, so the setting is in time
    assert _probe({}) == "False 1 1"


@pytest.mark.parametrize("var", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"])
def test_user_choice_is_kept(var):
    out = _probe({var: "2"})
    assert out == {"OPENBLAS_NUM_THREADS": "False 2 None", "OMP_NUM_THREADS": "False None 2",
                   "MKL_NUM_THREADS": "False None None"}[var]


def test_no_change_once_numpy_is_loaded():
    # OpenBLAS has read its settings by then; changing the environment would only mislead children
    assert _probe({}, pre="import numpy; ") == "False None None"
