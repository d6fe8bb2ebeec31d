"""One seed, independent named random streams.

Every random choice nncli makes draws from one of these streams, spawned from the config's ``seed``
with NumPy's SeedSequence, so that (for example) adding dropout does not change the initial weights
or the split. The stream numbers are part of the reproducibility contract: changing one changes the
weights.npz bytes of every run that uses it.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    INIT = 0        # initial weights
    SHUFFLE = 1     # the order of samples in each epoch
    SPLIT = 2       # train/validation/test split
    DROPOUT = 3     # dropout masks
    GENERATOR = 4   # built-in generated datasets


def rng(seed: int, stream: Stream) -> np.random.Generator:
    """The generator of one named stream for this seed."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(len(Stream))[int(stream)])
