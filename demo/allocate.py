"""Integer allocation of a total to weighted parts (largest remainder), with a floor per part."""

from __future__ import annotations

import numpy as np


def allocate(total: int, weights, minimum: int = 0) -> np.ndarray:
    """Integers >= minimum, proportional to weights, that add up to exactly `total`."""
    weights = np.asarray(weights, dtype=float)
    spare = total - minimum * weights.size
    if spare < 0:
        raise ValueError(f"cannot give {weights.size} parts {minimum} each out of {total}")
    share = spare * weights / weights.sum()
    counts = np.floor(share).astype(int)
    remainder = spare - counts.sum()
    counts[np.argsort(-(share - counts), kind="stable")[:remainder]] += 1
    return counts + minimum
