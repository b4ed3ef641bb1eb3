"""Radar range-Doppler sequences -> spike trains (numpy).

The Soli loader (:func:`spykeflow.datasets.load` with ``"soli"``) returns one float32 array of
shape ``(T, 4, 32, 32)`` per recording: ``T`` frames (variable, 54-72 in the sample), 4 receive
channels, 32 range bins x 32 Doppler bins, values in [0, 1] (each frame is already scaled to a
maximum of 1 and about 1 % of the bins are non-zero). The steps below turn such recordings into
the spike layout of :mod:`spykeflow.conventions`, ``(N, T, H, W, C)`` bool:

1. :func:`to_frames` -- move the receive channels last: ``(T, 4, 32, 32) -> (T, 32, 32, 4)``.
2. :func:`resample_time` -- linear interpolation to a fixed number of frames (so recordings of
   different lengths batch together; a ConvSNN needs a fixed ``T`` per batch).
3. :func:`normalize` -- divide by the maximum over the whole recording, per channel
   (``"channel"``), globally (``"global"``), or not at all (``None``).
4. One encoding:

   * :func:`threshold_encode` -- a bin spikes in every frame where its value >= ``threshold``
     (``C`` output channels);
   * :func:`delta_encode` -- send-on-delta, like an event camera: a bin emits an ON spike when
     its value has risen by >= ``threshold`` since its last spike and an OFF spike when it has
     fallen by as much; the reference is reset to the current value at each spike
     (``2 C`` output channels: ON maps first, then OFF maps);
   * :func:`rate_encode` -- Bernoulli spikes with probability = value (seeded).

:func:`preprocess_soli` chains these for a list of recordings.

>>> seq = np.zeros((3, 4, 32, 32), np.float32); seq[1, 2, 5, 6] = 1.0
>>> preprocess_soli([seq], length=3, encoding="threshold", threshold=0.5).shape
(1, 3, 32, 32, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_float, check_in, check_int

__all__ = [
    "ENCODINGS",
    "NORMALIZATIONS",
    "to_frames",
    "resample_time",
    "normalize",
    "threshold_encode",
    "delta_encode",
    "rate_encode",
    "preprocess_soli",
]

#: Encodings accepted by :func:`preprocess_soli`.
ENCODINGS = ("threshold", "delta", "rate")


#: Values of :func:`normalize`'s ``mode``.
NORMALIZATIONS = ("channel", "global", None)


def to_frames(maps: Any) -> np.ndarray:
    """``(T, C, H, W)`` (Soli: C = 4 receive channels) -> channels-last ``(T, H, W, C)`` float32.

    Flattened maps ``(T, C, H*W)`` with a square ``H*W`` are reshaped first.

    >>> to_frames(np.zeros((5, 4, 1024))).shape
    (5, 32, 32, 4)
    """
    x = np.asarray(maps, dtype=np.float32)
    if x.ndim == 3:
        side = int(round(np.sqrt(x.shape[2])))
        if side * side != x.shape[2]:
            raise ValueError(
                "Expected maps (T, C, H, W) or flattened square maps (T, C, H*W). "
                f"Received: shape={x.shape}."
            )
        x = x.reshape(x.shape[0], x.shape[1], side, side)
    if x.ndim != 4:
        raise ValueError(f"Expected maps of shape (T, C, H, W). Received: shape={x.shape}.")
    if x.shape[0] < 1:
        raise ValueError(f"Expected at least one frame. Received: shape={x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError("Expected finite range-Doppler values. Received NaN/inf entries.")
    return np.ascontiguousarray(np.transpose(x, (0, 2, 3, 1)))


def resample_time(frames: Any, length: int) -> np.ndarray:
    """Linearly interpolate ``frames`` ``(T, ...)`` to ``(length, ...)`` along axis 0.

    The first and last frames are kept; a single frame is repeated.

    >>> resample_time(np.array([0.0, 1.0, 2.0]), 5).tolist()
    [0.0, 0.5, 1.0, 1.5, 2.0]
    """
    x = np.asarray(frames, dtype=np.float32)
    length = check_int(length, "length")
    t = x.shape[0]
    if t < 1:
        raise ValueError(f"Expected at least one frame. Received: shape={x.shape}.")
    if t == length:
        return x.copy()
    if t == 1:
        return np.repeat(x, length, axis=0)
    pos = np.linspace(0.0, t - 1.0, int(length))
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, t - 1)
    w = (pos - lo).astype(np.float32).reshape((-1,) + (1,) * (x.ndim - 1))
    return (1.0 - w) * x[lo] + w * x[hi]


def normalize(frames: Any, mode: str | None = "channel", eps: float = 1e-12) -> np.ndarray:
    """Scale ``frames`` ``(T, H, W, C)`` to a maximum of 1 over the recording.

    ``mode="channel"``: each channel by its own maximum; ``"global"``: one maximum; ``None``:
    unchanged. All-zero channels stay zero.

    >>> f = np.ones((2, 1, 1, 2), np.float32); f[..., 1] = 4
    >>> normalize(f)[0, 0, 0].tolist()
    [1.0, 1.0]
    """
    check_in(mode, "mode", NORMALIZATIONS)
    x = np.asarray(frames, dtype=np.float32)
    if mode is None:
        return x.copy()
    if mode == "channel":
        peak = np.abs(x).max(axis=tuple(range(x.ndim - 1)), keepdims=True)
    else:
        peak = np.abs(x).max()
    return x / np.maximum(peak, eps)


def threshold_encode(frames: Any, threshold: float = 0.25) -> np.ndarray:
    """Spike where ``frames >= threshold``: bool of the same shape.

    >>> threshold_encode(np.array([0.1, 0.3]), 0.25).tolist()
    [False, True]
    """
    threshold = check_float(threshold, "threshold", low=0, low_open=True)
    return np.asarray(frames) >= threshold


def delta_encode(frames: Any, threshold: float = 0.25) -> np.ndarray:
    """Send-on-delta ON/OFF spikes of ``frames`` ``(T, ..., C)`` -> bool ``(T, ..., 2C)``.

    Each bin keeps a reference ``r`` (initially 0). At frame ``t`` it emits ON if
    ``x[t] - r >= threshold``, OFF if ``r - x[t] >= threshold``, and then sets ``r = x[t]``.
    Channels ``[0, C)`` hold ON spikes, ``[C, 2C)`` OFF spikes.

    >>> s = delta_encode(np.array([[0.0], [0.5], [0.6], [0.1]]), 0.3)
    >>> s[:, 0].tolist(), s[:, 1].tolist()      # ON, OFF
    ([False, True, False, False], [False, False, False, True])
    """
    threshold = check_float(threshold, "threshold", low=0, low_open=True)
    x = np.asarray(frames, dtype=np.float32)
    ref = np.zeros(x.shape[1:], np.float32)
    on = np.zeros(x.shape, bool)
    off = np.zeros(x.shape, bool)
    for t in range(x.shape[0]):
        d = x[t] - ref
        on[t] = d >= threshold
        off[t] = -d >= threshold
        fired = on[t] | off[t]
        ref[fired] = x[t][fired]
    return np.concatenate([on, off], axis=-1)


def rate_encode(frames: Any, seed: int | None = None) -> np.ndarray:
    """Bernoulli spikes with probability ``clip(frames, 0, 1)`` (same shape, bool).

    >>> rate_encode(np.array([0.0, 1.0]), seed=0).tolist()
    [False, True]
    """
    p = np.clip(np.asarray(frames, dtype=np.float32), 0.0, 1.0)
    return np.random.default_rng(seed).random(p.shape) < p


def preprocess_soli(sequences: Sequence[Any] | np.ndarray, length: int = 40,
                    encoding: str = "threshold", threshold: float = 0.25,
                    norm: str | None = "channel", seed: int | None = None) -> np.ndarray:
    """Soli recordings -> spike trains ``(N, length, 32, 32, C)`` bool.

    Parameters
    ----------
    sequences : sequence of arrays ``(T_i, 4, 32, 32)``
        As returned by ``spykeflow.datasets.load("soli")`` (object array) or a list.
    length : int
        Frames per sample after :func:`resample_time`.
    encoding : {"threshold", "delta", "rate"}
        ``C`` is 4 for threshold/rate and 8 (ON x 4, OFF x 4) for delta.
    threshold : float
        Threshold of the threshold and delta encodings (on normalised values).
    norm : {"channel", "global", None}
        Normalisation (see :func:`normalize`).
    seed : int, optional
        Seed of the rate encoding (sample ``k`` uses ``seed + k``).
    """
    check_in(encoding, "encoding", ENCODINGS)
    if isinstance(sequences, np.ndarray) and sequences.dtype != object:
        sequences = list(sequences) if sequences.ndim == 5 else [sequences]
    if len(sequences) == 0:
        raise ValueError("Expected at least one recording. Received: 0.")
    out = []
    for k, seq in enumerate(sequences):
        frames = normalize(resample_time(to_frames(seq), length), norm)
        if encoding == "threshold":
            out.append(threshold_encode(frames, threshold))
        elif encoding == "delta":
            out.append(delta_encode(frames, threshold))
        else:
            out.append(rate_encode(frames, None if seed is None else int(seed) + k))
    return np.stack(out)
