"""Event-camera recordings -> spike tensors ``(N, T, H, W, 2)``, as pure numpy functions.

Event convention
----------------
A recording is a 1-D numpy structured array, the layout of tonic and other event-camera tools:

* 2-D sensors (cameras): fields ``x`` (column), ``y`` (row), ``t`` (timestamp, integer
  microseconds) and ``p`` (polarity), e.g. ``spykeflow.datasets.EVENT_DTYPE`` as returned by
  ``spykeflow.datasets.load("nmnist")``, or tonic's ``[("x", int), ("y", int), ("t", int),
  ("p", int)]``.
* 1-D sensors (spiking audio such as SHD/SSC, cochleas): fields ``t``, ``x`` (channel), ``p``
  and no ``y``. They are a sensor of height 1: ``sensor_size=C`` (an int: the number of
  channels) or ``(1, C)``; the frames are ``(N, T, 1, C, 2)``.

Fields may come in any order and with any integer dtype (signed or unsigned, any width; extra
fields are ignored). ``p`` is ``bool`` (``True`` = ON) or an integer: ``1`` = ON and ``0`` =
OFF, or ``-1`` = OFF as some tools write it; a recording holding both ``0`` and ``-1`` is
refused as ambiguous. Float timestamps are refused (convert them to integer microseconds);
events outside the sensor raise ``ValueError``. All recordings of a batch must be of the same
kind (all with ``y`` or all without). :func:`check_events` applies these rules once, at the
public boundary; :func:`to_event_array` builds a recording from columns.

``sensor_size`` is ``(height, width)``. An int means a square sensor for 2-D events and the
number of channels (``(1, C)``) for 1-D events: the events' fields decide, so the same int never
means two things for the same data.

Binning
-------
:func:`bin_events` cuts each recording's time window into ``time_steps`` equal bins and
returns one frame per bin, with the channel order of :mod:`spykeflow.conventions`:
channel 0 = ON events (``p == 1``), channel 1 = OFF events (``p == 0`` or ``-1``).

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

from spykeflow._validation import check_bool, check_in, check_int, check_int_tuple, is_int

__all__ = ["bin_events", "check_binning", "check_events", "sensor_shape", "to_event_array",
           "MODES"]

MODES = ("binary", "count")
_FIELDS = ("x", "y", "p", "t")  # the 2-D form; the 1-D form has no y
_GROUP_EVENTS = 1_000_000  # events binned per vectorised step


def _has_y(rec: np.ndarray) -> bool:
    return "y" in (rec.dtype.names or ())


def _is_bool(dtype: np.dtype) -> bool:
    return np.issubdtype(dtype, np.bool_)


def _kind_text(rec: np.ndarray) -> str:
    return "2-D (x, y, p, t)" if _has_y(rec) else "1-D (x, p, t; no y)"


def check_events(events: Any, name: str = "events") -> list[np.ndarray]:
    """Return ``events`` as a list of 1-D structured arrays (one per recording).

    Accepts one structured array (one recording) or a sequence / object array of them, in the
    convention of this module: fields ``x``, ``p``, ``t`` and, for 2-D sensors, ``y``, in any
    order, integer dtypes (``p`` may be ``bool``), extra fields ignored. Raises ``TypeError``
    for other types, missing fields, float timestamps or a batch mixing 1-D and 2-D
    recordings, ``ValueError`` for an empty batch. Values (polarity, sensor range) are
    checked where the events are binned.

    >>> ev = np.zeros(2, dtype=[("t", "<i8"), ("x", "<i8"), ("p", "?")])   # 1-D (audio) form
    >>> [r.dtype.names for r in check_events(ev)]
    [('t', 'x', 'p')]
    >>> check_events(np.zeros(1, dtype=[("x", "i2"), ("y", "i2"), ("p", "i1"), ("t", "f8")]))
    Traceback (most recent call last):
    ...
    TypeError: Expected integer timestamps t in microseconds in events[0]. Received: t of dtype
    float64. Convert them, e.g. t = np.round(t_seconds * 1e6).astype(np.int64).
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
            "recording, e.g. spykeflow.datasets.EVENT_DTYPE; fields x, p, t for 1-D sensors) "
            "or a list / object array of them. "
            f"Received: {type(events).__name__}"
            + (f" with dtype={events.dtype}" if isinstance(events, np.ndarray) else "")
            + "."
        )
    if not recordings:
        raise ValueError(
            f"Expected at least one recording in {name}. Received: an empty sequence."
        )
    out: list[np.ndarray] = []
    for i, rec in enumerate(recordings):
        rec = np.asarray(rec)
        names: tuple[str, ...] = rec.dtype.names or ()
        missing = [f for f in ("x", "p", "t") if f not in names]
        if missing:
            raise TypeError(
                f"Expected {name}[{i}] to be a structured array with fields x, y, p, t (or "
                f"x, p, t for 1-D sensors). Received: dtype={rec.dtype} (missing {missing})."
            )
        if not np.issubdtype(rec.dtype["t"], np.integer):
            raise TypeError(
                f"Expected integer timestamps t in microseconds in {name}[{i}]. Received: t of "
                f"dtype {rec.dtype['t']}. Convert them, e.g. "
                "t = np.round(t_seconds * 1e6).astype(np.int64)."
            )
        bad: list[str] = [f for f in ("x", "y")
                          if f in names and not np.issubdtype(rec.dtype[f], np.integer)]
        if not _is_bool(rec.dtype["p"]) and not np.issubdtype(rec.dtype["p"], np.integer):
            bad.append("p")
        if bad:
            raise TypeError(
                f"Expected integer event fields in {name}[{i}] (p may be bool). Received: "
                f"non-integer fields {bad} (dtype={rec.dtype}). Cast x, y to pixels and p to "
                "polarity (1 = ON, 0 or -1 = OFF)."
            )
        if out and ("y" in names) != _has_y(out[0]):
            raise TypeError(
                f"Expected recordings of one kind in {name}. Received: {name}[0] is "
                f"{_kind_text(out[0])}, {name}[{i}] is {_kind_text(rec)}."
            )
        out.append(rec.ravel())
    return out


def to_event_array(*, x: Any, p: Any, t: Any, y: Any = None, dtype: Any = None) -> np.ndarray:
    """Build one recording (a structured array) from columns.

    Parameters
    ----------
    x, p, t : array-like, 1-D, same length
        Column (or channel), polarity (``bool``, ``1`` = ON, ``0`` / ``-1`` = OFF) and integer
        timestamps in microseconds.
    y : array-like, optional
        Row; omit it for 1-D sensors (spiking audio): the result has fields ``x, p, t``.
    dtype : structured dtype, optional
        The result's dtype, with exactly the fields built (e.g.
        ``spykeflow.datasets.EVENT_DTYPE``); values are assigned by field name and must fit.
        Default: fields ``x, y, p, t`` (or ``x, p, t``), each with its column's dtype.

    Returns
    -------
    numpy.ndarray, structured, shape (n_events,)
        Validated by :func:`check_events`.

    Examples
    --------
    >>> ev = to_event_array(x=[1, 2], y=[0, 1], t=[0, 99], p=[True, False])
    >>> ev.dtype.names, ev["p"].tolist()
    (('x', 'y', 'p', 't'), [True, False])
    >>> from spykeflow.datasets import EVENT_DTYPE
    >>> to_event_array(x=ev["x"], y=ev["y"], t=ev["t"], p=ev["p"], dtype=EVENT_DTYPE)["p"]
    array([1, 0], dtype=uint8)
    """
    columns = {"x": x} if y is None else {"x": x, "y": y}
    columns.update(p=p, t=t)
    arrays = {k: np.asarray(v) for k, v in columns.items()}
    for k, v in arrays.items():
        if v.ndim != 1 or v.size != arrays["x"].size:
            shapes = {k: v.shape for k, v in arrays.items()}
            raise ValueError(
                f"Expected 1-D event columns of one length. Received: shapes {shapes}."
            )
    built = np.empty(arrays["x"].size, dtype=[(k, v.dtype) for k, v in arrays.items()])
    for k, v in arrays.items():
        built[k] = v
    check_events(built, "the columns")
    if dtype is None:
        return built
    target = np.dtype(dtype)
    if set(target.names or ()) != set(arrays):
        raise ValueError(
            f"Expected dtype with exactly the fields {sorted(arrays)}. Received: "
            f"dtype={target}."
        )
    out = np.empty(built.size, dtype=target)
    for k, v in arrays.items():
        kind = target[k]
        if v.size and _is_bool(kind) and not np.isin(v, (0, 1)).all():
            raise ValueError(f"Expected {k} in {{0, 1}} for dtype bool. Received: {k} in "
                             f"{v.min()}..{v.max()}.")
        if v.size and np.issubdtype(kind, np.integer):
            info = np.iinfo(kind)
            lo, hi = int(v.min()), int(v.max())
            if lo < info.min or hi > info.max:
                raise ValueError(
                    f"Expected {k} to fit dtype {kind} ({info.min}..{info.max}). Received: "
                    f"{k} in {lo}..{hi}. Choose a wider dtype."
                )
        out[k] = v
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

    ``sensor_size`` stays an int if given as one: its meaning (square sensor, or number of
    channels of 1-D events) is settled by :func:`sensor_shape` once the events are known.

    >>> check_binning((34, 34), 10)["sensor_size"], check_binning(700)["sensor_size"]
    ((34, 34), 700)
    >>> check_binning(time_steps=0)
    Traceback (most recent call last):
    ...
    ValueError: Expected time_steps >= 1. Received: time_steps=0.
    """
    return dict(
        sensor_size=(check_int(sensor_size, "sensor_size", minimum=1) if is_int(sensor_size)
                     else check_int_tuple(sensor_size, "sensor_size", 2)),
        time_steps=check_int(time_steps, "time_steps", minimum=1),
        window_us=check_int(window_us, "window_us", minimum=1, allow_none=True),
        t_start=check_int(t_start, "t_start", minimum=0, allow_none=True),
        mode=check_in(mode, "mode", MODES),
        first_spike_only=check_bool(first_spike_only, "first_spike_only"),
    )


def sensor_shape(sensor_size: Any, one_d: bool = False) -> tuple[int, int]:
    """``(height, width)`` of the frames for a ``sensor_size`` and the kind of events.

    2-D events: an int ``s`` is a square sensor ``(s, s)``. 1-D events (no ``y``): an int
    ``C`` is ``(1, C)``, and a pair must have height 1.

    >>> sensor_shape(34), sensor_shape(700, one_d=True), sensor_shape((1, 700), one_d=True)
    ((34, 34), (1, 700), (1, 700))
    >>> sensor_shape((2, 700), one_d=True)
    Traceback (most recent call last):
    ...
    ValueError: Expected sensor_size=C (channels) or (1, C) for 1-D events ... Received:
    sensor_size=(2, 700).
    """
    if is_int(sensor_size):
        size = check_int(sensor_size, "sensor_size", minimum=1)
        return (1, size) if one_d else (size, size)
    h, w = check_int_tuple(sensor_size, "sensor_size", 2)
    if one_d and h != 1:
        raise ValueError(
            "Expected sensor_size=C (channels) or (1, C) for 1-D events (fields x, p, t; no y). "
            f"Received: sensor_size={tuple(sensor_size)}."
        )
    return h, w


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
        One recording, or N recordings, in the convention of this module: fields ``x``,
        ``y``, ``p``, ``t`` (or ``x``, ``p``, ``t`` for 1-D sensors).
    sensor_size : int or (int, int)
        ``(height, width)`` of the sensor in pixels: rows index ``y``, columns index ``x``
        (N-MNIST: ``(34, 34)``); an int means a square sensor for 2-D events and the number of
        channels ``C`` (frames ``(1, C)``) for 1-D events (:func:`sensor_shape`).
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
        channel 1 = OFF (p = 0 or -1); ``H = 1`` for 1-D events. The settings are validated
        by :func:`check_binning` (as in :class:`spykeflow.encoders.EventEncoder`); events
        outside the sensor raise ``ValueError``.

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
    >>> audio = to_event_array(t=[0, 5, 9], x=[0, 3, 3], p=[1, 1, 1])   # 1-D: 4 channels
    >>> bin_events(audio, sensor_size=4, time_steps=2, mode="count")[0, :, 0, :, 0].tolist()
    [[1, 0, 0, 0], [0, 0, 0, 2]]
    """
    kw = check_binning(sensor_size, time_steps, window_us, t_start, mode, first_spike_only)
    check_bool(progress, "progress")
    recordings = check_events(events)
    h, w = sensor_shape(kw["sensor_size"], one_d=not _has_y(recordings[0]))
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
    # Each recording is cast on its own: concatenating mixed dtypes (e.g. uint64 and int64)
    # would promote to float64.
    x = np.concatenate([r["x"].astype(np.int64) for r in recordings])
    if _has_y(recordings[0]):
        y = np.concatenate([r["y"].astype(np.int64) for r in recordings])
    else:  # 1-D events: one row
        y = np.zeros_like(x)
    for field, values, hi in (("x", x, w - 1), ("y", y, h - 1)):
        if values.min() < 0 or values.max() > hi:
            raise ValueError(
                f"Expected event field {field!r} in 0..{hi} for sensor_size=(height={h}, "
                f"width={w}). Received values in {values.min()}..{values.max()}. "
                "Pass the recording's sensor_size=(height, width)."
            )
    off = _off_channel(recordings, sample)
    windows = [_window(r["t"].astype(np.int64), t_start, window_us) for r in recordings]
    start = np.repeat(np.array([s for s, _ in windows], np.int64), sizes)
    duration = np.repeat(np.array([d for _, d in windows], np.int64), sizes)
    rel = np.concatenate([r["t"].astype(np.int64) for r in recordings]) - start
    # Channel 0 = ON (p = 1), channel 1 = OFF (p = 0 or -1); index into (H, W, 2).
    idx = (y * w + x) * 2 + off
    if t_start is not None or window_us is not None:
        keep = (rel >= 0) & (rel < duration)
        idx, rel, duration, sample = idx[keep], rel[keep], duration[keep], sample[keep]
    step = (rel * t_steps) // duration  # exact integer binning
    return idx, step, sample


def _off_channel(recordings, sample) -> np.ndarray:
    """Channel per event: 0 = ON (p = 1 / True), 1 = OFF (p = 0 / -1 / False)."""
    p = np.concatenate([r["p"].astype(np.int64) for r in recordings])  # bool -> 0 / 1
    bad = (p < -1) | (p > 1)
    if bad.any():
        i = int(sample[np.argmax(bad)])
        raise ValueError(
            f"Expected polarity p in {{0, 1}} or {{-1, 1}} (1 = ON; 0 or -1 = OFF) or bool. "
            f"Received p={int(p[bad][0])} in recording {i}."
        )
    minus = p == -1
    if minus.any():
        n = int(sample.max()) + 1
        both = (np.bincount(sample, minus, n) > 0) & (np.bincount(sample, p == 0, n) > 0)
        if both.any():
            raise ValueError(
                "Expected one OFF code per recording (0 or -1). Received both 0 and -1 in "
                f"recording {int(np.flatnonzero(both)[0])}: ambiguous polarity. Map p to "
                "1 = ON, 0 = OFF first."
            )
    return (p != 1).astype(np.int64)
