"""Event-camera recordings -> spike tensors ``(N, T, H, W, 2)``, as pure numpy functions.

An event recording is a structured array with integer fields ``x`` (column), ``y`` (row),
``p`` (polarity: 1 = ON, 0 = OFF) and ``t`` (timestamp in microseconds), e.g.
``spykeflow.datasets.EVENT_DTYPE`` as returned by ``spykeflow.datasets.load("nmnist")``.
:func:`bin_events` cuts each recording's time window into ``time_steps`` equal bins and
returns one frame per bin, with the channel order of :mod:`spykeflow.conventions`:
channel 0 = ON events (``p == 1``), channel 1 = OFF events (``p == 0``).

Time window
-----------
``window_us=None``: from ``t_start`` (default: the recording's first event) to its last event,
inclusive. Bin ``b`` holds ``t_start + b * D / T <= t < t_start + (b + 1) * D / T`` with
``D = t_last - t_start + 1``, so every event falls in a bin; the bin width differs between
recordings of different durations. ``window_us=D``: a fixed window ``[t_start,
t_start + D)`` for every recording (bin width ``D / T`` microseconds); events outside it are
dropped. Bin index: ``floor((t - t_start) * T / D)`` in exact integer arithmetic.

Values
------
``mode="binary"``: ``True`` where a pixel/channel had at least one event in the bin (bool).
``mode="count"``: the number of events (``int32``). ``first_spike_only=True`` keeps only the
earliest bin of each pixel/channel (at most one spike per input neuron, like the image
encoder); it can be combined with either mode (a count of 1 at the first bin).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spykeflow._validation import check_bool, check_in, check_int, check_int_tuple

__all__ = ["bin_events", "check_binning", "check_events", "MODES"]

MODES = ("binary", "count")
_FIELDS = ("x", "y", "p", "t")
_GROUP_EVENTS = 1_000_000  # events binned per vectorised step


def check_events(events: Any, name: str = "events") -> list[np.ndarray]:
    """Return ``events`` as a list of 1-D structured arrays (one per recording).

    Accepts one structured array (one recording) or a sequence / object array of them.
    Raises ``TypeError`` for other types or missing fields, ``ValueError`` for an empty batch.
    """
    if isinstance(events, np.ndarray) and events.dtype.names is not None:
        recordings = [events]
    elif isinstance(events, np.ndarray) and events.dtype == object:
        recordings = list(events.ravel())
    elif isinstance(events, (list, tuple)):
        recordings = list(events)
    else:
        raise TypeError(
            f"Expected {name} to be a structured event array with fields x, y, p, t (one "
            "recording, e.g. spykeflow.datasets.EVENT_DTYPE) or a list / object array of them. "
            f"Received: {type(events).__name__}"
            + (f" with dtype={events.dtype}" if isinstance(events, np.ndarray) else "")
            + "."
        )
    if not recordings:
        raise ValueError(
            f"Expected at least one recording in {name}. Received: an empty sequence."
        )
    out = []
    for i, rec in enumerate(recordings):
        rec = np.asarray(rec)
        names = rec.dtype.names or ()
        missing = [f for f in _FIELDS if f not in names]
        if missing:
            raise TypeError(
                f"Expected {name}[{i}] to be a structured array with fields x, y, p, t. "
                f"Received: dtype={rec.dtype} (missing {missing})."
            )
        bad = [f for f in _FIELDS if not np.issubdtype(rec.dtype[f], np.integer)]
        if bad:
            raise TypeError(
                f"Expected integer event fields in {name}[{i}]. Received: non-integer "
                f"fields {bad} (dtype={rec.dtype}). Cast x, y, p to pixels/polarity and t to "
                "microseconds."
            )
        out.append(rec.ravel())
    return out


def _window(t, t_start, window_us):
    """Per-recording (start, duration) in microseconds."""
    if t_start is None:
        start = int(t.min()) if t.size else 0
    else:
        start = int(t_start)
    if window_us is None:
        duration = (int(t.max()) - start + 1) if t.size else 1
        duration = max(duration, 1)
    else:
        duration = int(window_us)
    return start, duration


def check_binning(
    sensor_size: Any = (34, 34),
    time_steps: Any = 12,
    window_us: Any = None,
    t_start: Any = None,
    mode: Any = "binary",
    first_spike_only: Any = False,
) -> dict[str, Any]:
    """Validate the settings of :func:`bin_events`; return them in canonical types.

    >>> check_binning((34, 34), 10)["sensor_size"]
    (34, 34)
    >>> check_binning(time_steps=0)
    Traceback (most recent call last):
    ...
    ValueError: Expected time_steps >= 1. Received: time_steps=0.
    """
    return dict(
        sensor_size=check_int_tuple(sensor_size, "sensor_size", 2),
        time_steps=check_int(time_steps, "time_steps", minimum=1),
        window_us=check_int(window_us, "window_us", minimum=1, allow_none=True),
        t_start=check_int(t_start, "t_start", minimum=0, allow_none=True),
        mode=check_in(mode, "mode", MODES),
        first_spike_only=check_bool(first_spike_only, "first_spike_only"),
    )


def bin_events(
    events: Any,
    sensor_size: Any = (34, 34),
    time_steps: int = 12,
    *,
    window_us: int | None = None,
    t_start: int | None = None,
    mode: str = "binary",
    first_spike_only: bool = False,
    progress: bool = False,
) -> np.ndarray:
    """Bin event recordings into ``time_steps`` frames with ON/OFF polarity channels.

    Parameters
    ----------
    events : structured array or sequence of structured arrays
        One recording, or N recordings, with integer fields ``x``, ``y``, ``p``, ``t``.
    sensor_size : int or (int, int)
        ``(height, width)`` of the sensor in pixels: rows index ``y``, columns index ``x``
        (N-MNIST: ``(34, 34)``); an int means a square sensor.
    time_steps : int
        Number of bins ``T``.
    window_us : int or None
        Fixed window length in microseconds; None uses each recording's own span.
    t_start : int or None
        Window start in microseconds; None uses each recording's first event.
    mode : {"binary", "count"}
    first_spike_only : bool
        Keep only the first bin in which each pixel/channel had an event.
    progress : bool
        Show a tqdm progress bar over the recordings.

    Returns
    -------
    numpy.ndarray, shape (N, T, H, W, 2)
        ``bool`` for ``mode="binary"``, ``int32`` for ``"count"``. Channel 0 = ON (p = 1),
        channel 1 = OFF (p = 0). The settings are validated by :func:`check_binning` (as in
        :class:`spykeflow.encoders.EventEncoder`); events outside the sensor raise
        ``ValueError``.

    Examples
    --------
    >>> from spykeflow.datasets import EVENT_DTYPE
    >>> ev = np.array([(1, 0, 1, 0), (1, 0, 1, 50), (2, 1, 0, 99)], dtype=EVENT_DTYPE)
    >>> s = bin_events(ev, sensor_size=(2, 3), time_steps=2, mode="count")
    >>> s.shape, s.dtype
    ((1, 2, 2, 3, 2), dtype('int32'))
    >>> s[0, :, 0, 1, 0].tolist(), s[0, :, 1, 2, 1].tolist()  # ON at (0, 1); OFF at (1, 2)
    ([1, 1], [0, 1])
    >>> bin_events(ev, (2, 3), 2, first_spike_only=True)[0, :, 0, 1, 0].tolist()
    [True, False]
    """
    kw = check_binning(sensor_size, time_steps, window_us, t_start, mode, first_spike_only)
    check_bool(progress, "progress")
    recordings = check_events(events)
    h, w = kw["sensor_size"]
    t_steps = kw["time_steps"]
    window_us, t_start = kw["window_us"], kw["t_start"]
    n = len(recordings)
    hw2 = h * w * 2
    size = n * t_steps * hw2
    if first_spike_only:
        first = np.full(n * hw2, t_steps, np.int64)  # first bin per (sample, y, x, channel)
    else:
        spikes = np.zeros(size, np.int32 if mode == "count" else bool)
    # Recordings are processed in groups of about a million events: vectorised, bounded memory.
    group, n_events = [], 0
    numbered: Any = enumerate(recordings)
    if progress:
        from tqdm.auto import tqdm

        numbered = tqdm(numbered, total=n, desc="EventEncoder", unit="recording")
    for i, rec in numbered:
        group.append(i)
        n_events += rec.size
        if n_events < _GROUP_EVENTS and i + 1 < n:
            continue
        idx, step, sample = _bin_group([recordings[j] for j in group], group, (h, w), t_steps,
                                       t_start, window_us)
        if first_spike_only:
            np.minimum.at(first, sample * hw2 + idx, step)
        else:
            flat = (sample * t_steps + step) * hw2 + idx  # into (N, T, H, W, 2)
            if mode == "count" and flat.size:
                lo = int(flat.min())
                counts = np.bincount(flat - lo)
                spikes[lo : lo + counts.size] += counts.astype(np.int32)
            else:
                spikes[flat] = True
        group, n_events = [], 0
    if first_spike_only:
        fired = np.flatnonzero(first < t_steps)
        sample, idx = np.divmod(fired, hw2)
        spikes = np.zeros(size, np.int32 if mode == "count" else bool)
        spikes[(sample * t_steps + first[fired]) * hw2 + idx] = 1
    return spikes.reshape(n, t_steps, h, w, 2)


def _bin_group(recordings, ids, sensor, t_steps, t_start, window_us):
    """Events of some recordings -> (pixel-channel index, time bin, sample id), kept only."""
    h, w = sensor
    sizes = [r.size for r in recordings]
    if not sum(sizes):
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    sample = np.repeat(np.asarray(ids, np.int64), sizes)
    x, y, p = (np.concatenate([r[f] for r in recordings]).astype(np.int64) for f in "xyp")
    for field, values, hi in (("x", x, w - 1), ("y", y, h - 1), ("p", p, 1)):
        if values.min() < 0 or values.max() > hi:
            raise ValueError(
                f"Expected event field {field!r} in 0..{hi} for sensor_size=(height={h}, "
                f"width={w}). Received values in {values.min()}..{values.max()}. "
                "Pass the recording's sensor_size=(height, width)."
            )
    windows = [_window(r["t"].astype(np.int64), t_start, window_us) for r in recordings]
    start = np.repeat(np.array([s for s, _ in windows], np.int64), sizes)
    duration = np.repeat(np.array([d for _, d in windows], np.int64), sizes)
    rel = np.concatenate([r["t"] for r in recordings]).astype(np.int64) - start
    # Channel 0 = ON (p = 1), channel 1 = OFF (p = 0); index into (H, W, 2).
    idx = (y * w + x) * 2 + (1 - p)
    if t_start is not None or window_us is not None:
        keep = (rel >= 0) & (rel < duration)
        idx, rel, duration, sample = idx[keep], rel[keep], duration[keep], sample[keep]
    step = (rel * t_steps) // duration  # exact integer binning
    return idx, step, sample
