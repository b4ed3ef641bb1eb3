"""The learning-rate schedule of STDP: A+ doubles during training up to a cap
(docs/original/stdp.md#learning-rate-schedule).

Two forms:

``"images"`` (default)
    A+ of the ``k``-th training image (0-based, counted over epochs) is
    ``min(a_plus * 2 ** (k // double_every), a_plus_max)``: doublings at image boundaries.
``"original_steps"``
    The original's formula on global time steps: after every step ``g`` with
    ``g mod (T * double_every - 1) == 0`` (including ``g = 0``) A+ doubles, capped. Use it with
    ``a_plus=0.002``: the doubling after step 0 gives the 0.004 of the first image.

A- is always ``a_minus_ratio * A+``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["a_plus_for_image", "after_step"]


@nb.njit(cache=True)
def a_plus_for_image(image_index, a_plus, double_every, a_plus_max):
    """A+ of training image ``image_index`` under the ``"images"`` schedule, as float32.

    ``double_every <= 0``: constant A+; ``a_plus_max = inf``: no cap.

    >>> [round(float(a_plus_for_image(i, 0.004, 500, 0.15)), 6) for i in (0, 500, 1000, 2500, 3000)]
    [0.004, 0.008, 0.016, 0.128, 0.15]
    """
    if double_every <= 0:
        return np.float32(a_plus)
    a = a_plus * 2.0 ** min(image_index // double_every, 64)
    return np.float32(min(a, a_plus_max))


@nb.njit(cache=True)
def after_step(a_state, step, period, a_plus_max):
    """A+ after global step ``step`` under the ``"original_steps"`` schedule: doubled (capped)
    when ``step mod period == 0``, ``period = T * double_every - 1``.

    >>> a = np.float32(0.002)
    >>> round(float(after_step(a, 0, 5999, 0.15)), 6), round(float(after_step(a, 1, 5999, 0.15)), 6)
    (0.004, 0.002)
    """
    if step % period == 0:
        return np.float32(min(2.0 * a_state, a_plus_max))
    return a_state
