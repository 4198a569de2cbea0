"""Hillenbrand vowel formants (F1, F2) for binary vowel tasks.

The CSV (columns vowel, F1, F2) is read from a path; it is never shipped with the
package. Splits are random 80/20 drawn from a PRNG key; features are scaled to
[−1, 1] with the training set's min and max only. `load_digits` gives scikit-learn's
8×8 digits (pixels / 16, x ∈ [0, 1]) with a stratified split.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import jax
import numpy as np

from .._validate import prng_key

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


def load_vowels(path, vowels=("a", "i"), *, key, split: float = 0.8):
    """Train/test arrays for the given vowels.

    Args:
        path: the CSV (columns vowel, F1, F2).
        vowels: the vowels to keep; labels are their positions in this list.
        key: PRNG key of the random split (typed or legacy).
        split: training share.

    Returns:
        (x_train (S, 2), y_train (S,), x_test (T, 2), y_test (T,)) as numpy arrays.
    """
    key = prng_key("key", key)
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
    idx = np.asarray(jax.random.permutation(key, len(data)))
    n_train = int(split * len(data))
    tr, te = data[idx[:n_train]], data[idx[n_train:]]
    lo, hi = tr[:, :2].min(0), tr[:, :2].max(0)
    scale = lambda a: 2.0 * (a[:, :2] - lo) / (hi - lo) - 1.0
    return scale(tr), tr[:, 2].astype(int), scale(te), te[:, 2].astype(int)


def load_digits(test_fraction: float = 0.2, split_seed: int = 0, max_train: int = 0, max_test: int = 0):
    """scikit-learn's 8×8 digits: (x_train (S, 64), y_train (S,), x_test (T, 64), y_test (T,)), x ∈ [0, 1].

    Args:
        test_fraction: test share of the 1797 images (stratified split).
        split_seed: scikit-learn's `random_state` of the split.
        max_train: keep only this many training images (0: all).
        max_test: keep only this many test images (0: all).
    """
    from sklearn.datasets import load_digits as _digits
    from sklearn.model_selection import train_test_split

    d = _digits()
    xtr, xte, ytr, yte = train_test_split(d.data / 16.0, d.target, test_size=test_fraction,
                                          random_state=split_seed, stratify=d.target)
    if max_train:
        xtr, ytr = xtr[:max_train], ytr[:max_train]
    if max_test:
        xte, yte = xte[:max_test], yte[:max_test]
    return xtr, ytr, xte, yte


def logistic_baseline(x_train, y_train, x_test, y_test) -> tuple[float, float]:
    """Train and test accuracy of scikit-learn's (L2, C = 1) logistic regression."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=5000).fit(x_train, y_train)
    return float(clf.score(x_train, y_train)), float(clf.score(x_test, y_test))
