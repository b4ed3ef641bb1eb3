"""Non-leaky integrate-and-fire: how input spikes raise the potentials of a convolutional layer.

The potential of a convolutional neuron is the running sum of its input currents,

    V_t = V_{t-1} + conv(x_t, W),       V_{-1} = 0,

with no leak and no reset after a spike; it returns to 0 only at the next sample
(docs/original/stdp.md#integrate-and-fire). ``conv`` is cross-correlation with valid padding
and stride 1. Because inputs and weights are non-negative, a neuron that crossed its threshold
stays above it.

The kernel works on events: every input spike ``(row, col, k)`` of a step adds the kernel rows
``W[i, j, k, :]`` to the output positions ``(row - i, col - j)`` it feeds. Weights are stored
as ``(kh*kw*C_in, C_out)`` (row ``(i*kw + j)*C_in + k``), potentials as
``(H_out*W_out, C_out)``. Only the positions an input reached this step can newly cross the
threshold, so :func:`integrate_step` lists them for the firing rule
(:func:`spykeflow.functional.inhibition.fire_step`).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .spike_events import unravel

__all__ = ["integrate_step", "sample_thresholds"]


def sample_thresholds(threshold, jitter, seed, layer_index, n, start=0, train=False):
    """Per-sample thresholds ``theta (1 - a + 2 a u)``, ``u ~ U(0, 1)``, for samples
    ``start .. start + n - 1`` of a layer (``jitter`` = a; 0: all equal to ``theta``).

    Training draws one stream per layer (sample ``k`` of training is the ``k``-th draw);
    inference draws each sample's value from its own seed, so a sample's threshold does not
    depend on the batch it is in. Both are fixed by ``seed``.

    >>> sample_thresholds(15.0, 0.0, 0, 0, 3).tolist()
    [15.0, 15.0, 15.0]
    >>> a = sample_thresholds(15.0, 0.1, 0, 0, 4)                 # samples 0..3
    >>> bool(((a >= 13.5) & (a <= 16.5)).all()), bool(a[2] == sample_thresholds(
    ...     15.0, 0.1, 0, 0, 2, start=2)[0])                         # batch-independent
    (True, True)
    """
    if jitter == 0:
        return np.full(n, threshold, np.float32)
    if train:
        u = np.random.default_rng([int(seed), layer_index, 1]).random(start + n)[start:]
    else:
        u = np.array([np.random.default_rng([int(seed), layer_index, 2, start + i]).random()
                      for i in range(n)])
    return (threshold * (1 - jitter + 2 * jitter * u)).astype(np.float32)


@nb.njit(cache=True)
def integrate_step(e, e_end, ev_t, ev_idx, w, win, cin, kh, kw, ho, wo, stamp, stamp_id,
                   touched, inc):
    """Sum this step's input currents: for the events ``e..`` that share the step of event
    ``e``, add the kernel rows ``w[(i*kw + j)*cin + k]`` into ``inc`` of every output position
    they feed.

    Returns ``(next event, nt)``; ``touched[:nt]`` lists the positions reached, each once
    (``stamp`` marks them with ``stamp_id``, which must be new for every step). ``inc`` holds
    the step's current of those positions only; the caller adds it to the potentials.

    >>> import numpy as np
    >>> w = np.array([[1.0], [2.0], [3.0], [4.0]], np.float32)      # a 2x2 kernel, 1 -> 1 map
    >>> t = np.zeros(1, np.int32); idx = np.array([4], np.int32)     # (1, 1) of a 3x3 input
    >>> stamp = np.full(4, -1, np.int64); touched = np.empty(4, np.int32)
    >>> inc = np.zeros((4, 1), np.float32)
    >>> e, nt = integrate_step(0, 1, t, idx, w, 3, 1, 2, 2, 2, 2, stamp, 0, touched, inc)
    >>> e, sorted(touched[:nt].tolist()), inc[:, 0].tolist()
    (1, [0, 1, 2, 3], [4.0, 3.0, 2.0, 1.0])
    """
    t = ev_t[e]
    c_out = w.shape[1]
    nt = 0
    while e < e_end and ev_t[e] == t:
        row, col, k = unravel(ev_idx[e], win, cin)
        for ii in range(max(0, row - ho + 1), min(kh, row + 1)):
            for jj in range(max(0, col - wo + 1), min(kw, col + 1)):
                pos = (row - ii) * wo + col - jj
                wrow = (ii * kw + jj) * cin + k
                if stamp[pos] != stamp_id:
                    stamp[pos] = stamp_id
                    touched[nt] = pos
                    nt += 1
                    for m in range(c_out):
                        inc[pos, m] = w[wrow, m]
                else:
                    for m in range(c_out):
                        inc[pos, m] += w[wrow, m]
        e += 1
    return e, nt
