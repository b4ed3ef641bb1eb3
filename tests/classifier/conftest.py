import numpy as np
import pytest


def prototypes_data(n=240, f=40, k=4, flip=0.05, seed=0):
    """Binary features: each class a random binary prototype with 5 % of bits flipped."""
    rng = np.random.default_rng(seed)
    protos = rng.random((k, f)) < 0.3
    y = np.arange(n) % k
    x = protos[y] ^ (rng.random((n, f)) < flip)
    return x, y


@pytest.fixture
def toy():
    x, y = prototypes_data()
    return x[:200], y[:200], x[200:], y[200:]

