"""Slow, obviously-correct reference of STDP training, written straight from the reference
document (sections 2.2-2.3) with plain numpy loops. Only the tests use it: the compiled loop
in spykeflow.functional.stdp_loop must give the same weights and winners."""

import numpy as np


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
    for ep in range(epochs):
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
                # N2: integrate with the current weights
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
                            w[..., m] = w[..., m] - np.float32(decay) * w[..., m] * (np.float32(1) - w[..., m])
                # S3 competition
                won = []
                if competition == "greedy_all":
                    P = K.max(axis=2)
                    M = np.array([[int(np.flatnonzero(K[r, c] == K[r, c].max())[0]) for c in range(wo)]
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
                            r, c = next((r, c) for r in range(ho) for c in range(wo) if K[r, c, m] == v)
                            tops.append((-v, r * wo + c, m, r, c))
                    for _, _, m, r, c in sorted(tops):
                        if all(abs(r - r2) > h or abs(c - c2) > h for _, r2, c2 in won):
                            won.append((m, r, c))
                # S4 blocks, S5 STDP (increasing map order)
                for m, r, c in won:
                    A[max(0, r - h):r + h + 1, max(0, c - h):c + h + 1, :] = False
                    A[:, :, m] = False
                for m, r, c in sorted(won):
                    pre = x[:t + 1, r:r + kh, c:c + kw, :].any(axis=0)
                    winners.append((m, r, c, t))
                    if stdp_update == "per_step":
                        a_minus = np.float32(a_now * a_minus_ratio)
                        dw = np.where(pre, np.float32(a_now), -a_minus).astype(np.float32) * w[..., m] * (np.float32(1) - w[..., m])
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
                dw = np.where(pre, np.float32(a), -np.float32(a * a_minus_ratio)).astype(np.float32) * w[..., m] * (np.float32(1) - w[..., m])
                w[..., m] = w[..., m] + dw
            log.append(sorted(winners))
            seen += 1
    return w, log
