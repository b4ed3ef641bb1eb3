"""Plot tests run headless: the Agg backend, and every figure closed after each test."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def conv1_weights():
    """(5, 5, 2, 6) weights in [0, 1]: map m has ON weight m/10 and OFF weight 1 - m/10."""
    w = np.zeros((5, 5, 2, 6))
    for m in range(6):
        w[..., 0, m] = m / 10
        w[..., 1, m] = 1 - m / 10
    return w


@pytest.fixture
def sample_spikes():
    """One encoded sample (T=4, 6x6, ON/OFF) with known spikes."""
    s = np.zeros((4, 6, 6, 2), bool)
    s[0, 1, 1, 0] = s[0, 2, 2, 0] = True     # 2 ON spikes at t=0
    s[1, 3, 3, 1] = True                     # 1 OFF spike at t=1
    s[3, 5, 0, 1] = s[3, 0, 5, 0] = True     # 1 ON + 1 OFF at t=3
    return s
