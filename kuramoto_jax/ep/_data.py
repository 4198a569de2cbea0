"""Hillenbrand vowel formants (F1, F2) for binary vowel tasks.

The CSV (columns vowel, F1, F2) is read from a path; it is never shipped with the
package. Splits are random 80/20 per seed; features are scaled to [−1, 1] with the
training set's min and max only.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np


DATA_ENV = "KURAMOTO_JAX_DATA"
"""Environment variable naming the vowel CSV (or a folder holding it) when a config leaves `data_path` empty."""
DATA_FILE = "hillenbrand_vowels.csv"
"""The vowel CSV's file name inside a folder named by `DATA_ENV`."""


def default_data_path() -> Path | None:
    """The vowel CSV named by $KURAMOTO_JAX_DATA (the file, or a folder holding
    hillenbrand_vowels.csv); None when the variable is not set."""
    env = os.environ.get(DATA_ENV)
    if not env:
        return None
    p = Path(env).expanduser()
    return p / DATA_FILE if p.is_dir() else p


def load_vowels(path, vowels=("a", "i"), *, split: float = 0.8, seed: int = 0):
    """Train/test arrays for the given vowels.

    Returns (x_train (S, 2), y_train (S,), x_test (T, 2), y_test (T,)); labels are
    the positions of the vowels in `vowels`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"`data_path` {str(path)!r} does not exist; expected the Hillenbrand vowels CSV")
    if not 0.0 < split < 1.0:
        raise ValueError(f"`split` must be in (0, 1), got {split!r}")
    vowels = list(vowels)
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["vowel"] in vowels:
                rows.append((float(r["F1"]), float(r["F2"]), vowels.index(r["vowel"])))
    if len({r[2] for r in rows}) != len(vowels):
        raise ValueError(f"`vowels` {vowels} not all present in {str(path)!r}")
    data = np.asarray(rows)
    idx = np.random.default_rng(seed).permutation(len(data))
    n_train = int(split * len(data))
    tr, te = data[idx[:n_train]], data[idx[n_train:]]
    lo, hi = tr[:, :2].min(0), tr[:, :2].max(0)
    scale = lambda a: 2.0 * (a[:, :2] - lo) / (hi - lo) - 1.0
    return scale(tr), tr[:, 2].astype(int), scale(te), te[:, 2].astype(int)
