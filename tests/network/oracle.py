"""The test oracle: slow, obviously-correct numpy versions of the STDP network's mechanisms,
written independently of the Numba kernels in spykeflow/functional (docs/original/stdp.md is
the specification). Only the tests use it: the compiled training loop and the event-driven
inference pass must agree with it.

- :func:`reference_train`: STDP training of one conv layer, step by step with dense arrays.
- Dense mechanisms on whole ``(..., T, H, W, C)`` tensors: :func:`conv_valid`,
  :func:`cumulative_potentials`, :func:`lateral_inhibition`, :func:`first_crossing`,
  :func:`inhibit_sequence`, :func:`max_pool`, :func:`spike_pool`, :func:`pool_features`.
"""

import numpy as np

POOL_MODES = ("first_spike", "transient", "accumulate")
FEATURE_VALUES = ("binary", "counts", "first_spike_times")


def reference_train(spikes, w, *, threshold=15.0, thetas=None, window=11, strict=False,
                    inhibition=True, competition="greedy_all", homeostasis=True, block=5,
                    factor=3.0, decay=0.003, count_first_image=False, stdp_update="per_step",
                    a_plus=0.004, a_minus_ratio=0.75, lr_double_every=500, a_plus_max=0.15,
                    lr_schedule="image", epochs=1, a_plus_state=None):
    """Train kernels ``w`` (kh, kw, Cin, C) on ``spikes`` (n, T, H, W, Cin); returns
    (weights, winners) where winners is a list per image of (map, row, col, step)."""
    spikes = np.asarray(spikes, bool)
    w = np.array(w, np.float32)
    n, T, H, Wd, cin = spikes.shape
    kh, kw, _, C = w.shape
    ho, wo = H - kh + 1, Wd - kw + 1
    h = window // 2
    counts = np.zeros(C)
    g = 0
    a_state = np.float32(a_plus if a_plus_state is None else a_plus_state)
    seen = 0
    log = []
    for _ in range(epochs):
        for i in range(n):
            theta = threshold if thetas is None else thetas[seen]
            x = spikes[i]
            first_of_block = i % block == 0
            if homeostasis and count_first_image and first_of_block:
                counts[:] = 0
            if lr_schedule == "image":
                a_img = min(a_plus * 2.0 ** (seen // lr_double_every), a_plus_max)
            V = np.zeros((ho, wo, C), np.float32)
            F = np.zeros((ho, wo), bool)             # position fired (inhibition on)
            Sp = np.zeros((ho, wo, C), bool)         # neuron fired (inhibition off)
            A = np.ones((ho, wo, C), bool)
            pending = []
            winners = []
            for t in range(T):
                if homeostasis and not count_first_image and first_of_block:
                    counts[:] = 0
                a_now = float(a_state) if lr_schedule == "original_steps" else a_img
                # integrate with the current weights
                for r in range(ho):
                    for c in range(wo):
                        V[r, c] += np.tensordot(x[t, r:r + kh, c:c + kw, :].astype(np.float32),
                                                w, axes=3)
                cand = V > theta if strict else V >= theta
                S = np.zeros_like(cand)
                for r in range(ho):
                    for c in range(wo):
                        if inhibition:
                            if F[r, c] or not cand[r, c].any():
                                continue
                            m = int(np.flatnonzero(V[r, c] == V[r, c].max())[0])
                            S[r, c, m] = True
                            F[r, c] = True
                        else:
                            S[r, c] = cand[r, c] & ~Sp[r, c]
                            Sp[r, c] |= cand[r, c]
                K = np.where(S & A, V, 0).astype(np.float64)
                if homeostasis and (K > 0).any():
                    for m in range(C):
                        if counts[m] > block / factor:
                            K[:, :, m] = 0
                            wm = w[..., m]
                            w[..., m] = wm - np.float32(decay) * wm * (np.float32(1) - wm)
                # competition
                won = []
                if competition == "greedy_all":
                    P = K.max(axis=2)
                    M = np.array([[int(np.flatnonzero(K[r, c] == K[r, c].max())[0])
                                   for c in range(wo)]
                                  for r in range(ho)])
                    while (P > 0).any():
                        best = P.max()
                        r, c = next((r, c) for r in range(ho) for c in range(wo) if P[r, c] == best)
                        m = M[r, c]
                        won.append((m, r, c))
                        P[M == m] = 0
                        P[max(0, r - h):r + h + 1, max(0, c - h):c + h + 1] = 0
                else:
                    tops = []
                    for m in range(C):
                        if K[:, :, m].max() > 0:
                            v = K[:, :, m].max()
                            r, c = next((r, c) for r in range(ho) for c in range(wo)
                                        if K[r, c, m] == v)
                            tops.append((-v, r * wo + c, m, r, c))
                    for _, _, m, r, c in sorted(tops):
                        if all(abs(r - r2) > h or abs(c - c2) > h for _, r2, c2 in won):
                            won.append((m, r, c))
                # blocks, then STDP (increasing map order)
                for m, r, c in won:
                    A[max(0, r - h):r + h + 1, max(0, c - h):c + h + 1, :] = False
                    A[:, :, m] = False
                for m, r, c in sorted(won):
                    pre = x[:t + 1, r:r + kh, c:c + kw, :].any(axis=0)
                    winners.append((m, r, c, t))
                    if stdp_update == "per_step":
                        a_minus = np.float32(a_now * a_minus_ratio)
                        rate = np.where(pre, np.float32(a_now), -a_minus).astype(np.float32)
                        dw = rate * w[..., m] * (np.float32(1) - w[..., m])
                        w[..., m] = w[..., m] + dw
                    else:
                        pending.append((m, pre, a_now))
                    if homeostasis:
                        counts[m] += 1
                if lr_schedule == "original_steps":
                    if g % (T * lr_double_every - 1) == 0:
                        a_state = np.float32(min(2 * float(a_state), a_plus_max))
                g += 1
            for m, pre, a in pending:
                ltd = -np.float32(a * a_minus_ratio)
                rate = np.where(pre, np.float32(a), ltd).astype(np.float32)
                dw = rate * w[..., m] * (np.float32(1) - w[..., m])
                w[..., m] = w[..., m] + dw
            log.append(sorted(winners))
            seen += 1
    return w, log


# ------------------------------------------------------------------ dense mechanisms
def conv_valid(x, w):
    """Valid, stride-1 cross-correlation of one frame ``(H, W, C_in)`` with kernels
    ``(kh, kw, C_in, C_out)``.

    Returns ``(H - kh + 1, W - kw + 1, C_out)`` float32.

    >>> x = np.zeros((3, 3, 1), np.float32); x[1, 1, 0] = 1
    >>> w = np.arange(4, dtype=np.float32).reshape(2, 2, 1, 1)
    >>> conv_valid(x, w)[..., 0].tolist()
    [[3.0, 2.0], [1.0, 0.0]]
    """
    x = np.asarray(x, np.float32)
    w = np.asarray(w, np.float32)
    kh, kw = w.shape[:2]
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(0, 1))
    # win: (Ho, Wo, C_in, kh, kw) -> contract with w (kh, kw, C_in, C_out)
    return np.einsum("hwcij,ijco->hwo", win, w, dtype=np.float32).astype(np.float32)


def cumulative_potentials(spikes, weights):
    """Potentials of every step ``(N, T, Ho, Wo, C_out)`` with fixed weights: frame-by-frame
    valid convolution, summed over time (no leak, no reset within a sample)."""
    spikes = np.asarray(spikes)
    out = np.stack([np.stack([conv_valid(frame, weights) for frame in sample])
                    for sample in spikes])
    return np.cumsum(out, axis=1, dtype=np.float32)


def argmax_lowest(values, axis=-1):
    """Argmax along ``axis`` with ties going to the lowest index (made explicit, not implied).

    >>> argmax_lowest(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])).tolist()
    [1, 0]
    """
    values = np.asarray(values)
    return np.argmax(values == values.max(axis=axis, keepdims=True), axis=axis)


def lateral_inhibition(potentials, candidates, fired):
    """One step of lateral inhibition over maps.

    Parameters
    ----------
    potentials : ndarray (H, W, C)
        Cumulative potentials after this step's integration.
    candidates : ndarray of bool (H, W, C)
        Neurons above threshold this step.
    fired : ndarray of bool (H, W)
        Positions that already spiked in this sample.

    Returns
    -------
    spikes : ndarray of bool (H, W, C)
        New spikes: one per position that had a candidate and had not fired, in the argmax map.
    fired : ndarray of bool (H, W)
        Updated position mask.

    >>> v = np.array([[[16.0, 17.0, 17.0]], [[3.0, 20.0, 1.0]]])      # (2, 1, 3)
    >>> s, f = lateral_inhibition(v, v >= 15, np.array([[False], [False]]))
    >>> s.astype(int).tolist(), f.tolist()
    ([[[0, 1, 0]], [[0, 1, 0]]], [[True], [True]])
    """
    potentials = np.asarray(potentials)
    active = np.asarray(candidates, bool).any(axis=-1) & ~np.asarray(fired, bool)
    winner = argmax_lowest(potentials, axis=-1)
    spikes = (winner[..., None] == np.arange(potentials.shape[-1])) & active[..., None]
    return spikes, np.asarray(fired, bool) | active


def first_crossing(candidates, spiked):
    """Inhibition off: neurons spike once, at their first crossing. Returns ``(spikes, spiked)``.

    >>> s, sp = first_crossing(np.array([True, True]), np.array([True, False]))
    >>> s.tolist(), sp.tolist()
    ([False, True], [True, True])
    """
    candidates = np.asarray(candidates, bool)
    spiked = np.asarray(spiked, bool)
    return candidates & ~spiked, spiked | candidates


def inhibit_sequence(potentials, threshold, strict=False, inhibition=True):
    """Spikes of a whole sample (or batch) with inhibition, from its potentials of every step.

    Vectorised equivalent of applying :func:`lateral_inhibition` (or :func:`first_crossing`)
    step by step. ``potentials`` is ``(..., T, H, W, C)``; ``threshold`` a scalar or an array
    broadcastable to the leading axes ``(...,)``. Returns bool spikes of the same shape.

    >>> v = np.zeros((3, 1, 2, 2), np.float32)      # T=3, H=1, W=2, C=2
    >>> v[1:, 0, 0] = [15.0, 16.0]; v[2, 0, 1] = [20.0, 20.0]
    >>> s = inhibit_sequence(v, 15.0)
    >>> np.argwhere(s).tolist()                      # (t, row, col, map)
    [[1, 0, 0, 1], [2, 0, 1, 0]]
    """
    v = np.asarray(potentials)
    theta = np.asarray(threshold, v.dtype).reshape(np.shape(threshold) + (1,) * 4)
    cand = v > theta if strict else v >= theta
    t_axis = v.ndim - 4
    if not inhibition:
        first = np.cumsum(cand, axis=t_axis) == 1
        return cand & first
    any_c = cand.any(axis=-1)                                   # (..., T, H, W)
    new = any_c & (np.cumsum(any_c, axis=t_axis) == 1)          # first step per position
    winner = argmax_lowest(v, axis=-1)                          # (..., T, H, W)
    return new[..., None] & (winner[..., None] == np.arange(v.shape[-1]))


def max_pool(x, size=2, stride=2):
    """Valid max pooling over the two spatial axes ``(-3, -2)`` of ``(..., H, W, C)``.

    >>> max_pool(np.arange(9.0).reshape(3, 3, 1))[..., 0].tolist()
    [[4.0]]
    """
    x = np.asarray(x)
    h, w = x.shape[-3], x.shape[-2]
    ph, pw = (h - size) // stride + 1, (w - size) // stride + 1
    out = None
    for i in range(size):
        for j in range(size):
            rows = slice(i, i + stride * (ph - 1) + 1, stride)
            cols = slice(j, j + stride * (pw - 1) + 1, stride)
            part = x[..., rows, cols, :]
            out = part if out is None else np.maximum(out, part)
    return out


def spike_pool(x, threshold, mode="first_spike", lateral_inhibition=False, size=2, stride=2,
               strict=False):
    """Pool spikes over a sample (or batch) ``x`` of shape ``(..., T, H, W, C)``.

    ``x`` holds the potentials of newly spiking neurons (0 elsewhere); ``threshold`` is a scalar
    or broadcastable to the leading axes. Returns bool ``(..., T, P, Q, C)``.

    >>> x = np.zeros((3, 2, 2, 1), np.float32); x[0, 0, 0, 0] = 16; x[2, 1, 1, 0] = 15
    >>> [spike_pool(x, 15.0, m)[:, 0, 0, 0].astype(int).tolist() for m in POOL_MODES]
    [[1, 0, 0], [1, 0, 1], [1, 1, 1]]
    """
    if mode not in POOL_MODES:
        raise ValueError(f"Expected pool_mode in {POOL_MODES}. Received: pool_mode={mode!r}.")
    x = np.asarray(x, np.float32)
    t_axis = x.ndim - 4
    pooled = max_pool(x, size, stride)
    if mode == "accumulate":
        pooled = np.cumsum(pooled, axis=t_axis)
    if lateral_inhibition:
        # lateral inhibition on the pool potentials: one spike per pool position
        return inhibit_sequence(pooled, threshold, strict, inhibition=True)
    theta = np.asarray(threshold, np.float32).reshape(np.shape(threshold) + (1,) * 4)
    spikes = pooled > theta if strict else pooled >= theta
    if mode == "first_spike":
        spikes = spikes & (np.cumsum(spikes, axis=t_axis) == 1)
    return spikes


def flatten_map_major(a):
    """Flatten ``(N, P, Q, C)`` to ``(N, C*P*Q)`` map-major (each map's grid contiguous).

    >>> a = np.zeros((1, 2, 2, 3)); a[0, 1, 0, 2] = 1
    >>> int(np.argmax(flatten_map_major(a)[0]))      # 2*4 + 1*2 + 0
    10
    """
    a = np.asarray(a)
    return np.transpose(a, (0, 3, 1, 2)).reshape(a.shape[0], -1)


def pool_features(pool_spikes, values="binary"):
    """Feature vectors ``(N, F)`` from pool spikes ``(N, T, P, Q, C)``, map-major.

    ``"binary"``: spiked at least once (uint8); ``"counts"``: number of spikes (int16);
    ``"first_spike_times"``: step of the first spike, -1 if none (int8).

    >>> s = np.zeros((1, 3, 1, 1, 2), bool); s[0, 1:, 0, 0, 1] = True
    >>> [pool_features(s, v)[0].tolist() for v in FEATURE_VALUES]
    [[0, 1], [0, 2], [-1, 1]]
    """
    if values not in FEATURE_VALUES:
        raise ValueError(f"Expected feature_values in {FEATURE_VALUES}. Received: {values!r}.")
    s = np.asarray(pool_spikes, bool)
    if values == "binary":
        out = s.any(axis=1).astype(np.uint8)
    elif values == "counts":
        out = s.sum(axis=1, dtype=np.int16)
    else:
        out = np.where(s.any(axis=1), np.argmax(s, axis=1), -1).astype(np.int8)
    return flatten_map_major(out)
