"""tonic as an optional plug-in: its transforms, frames and datasets in SpykeFlow's convention.

`tonic <https://tonic.readthedocs.io>`_ (GPL-3) is not a dependency of SpykeFlow: install it
yourself (``pip install tonic``, or ``pip install "spykeflow[tonic]"``). Nothing here imports
it at module level; only :func:`tonic_transform` needs it, and raises an ``ImportError`` that
says how to install it when it is missing. The other functions work on tonic's data by its
documented layout and need no tonic:

* **Events**: tonic's structured event arrays (fields ``x, y, t, p``; ``t, x, p`` for audio)
  are already in the convention of :mod:`spykeflow.functional.events`; pass them to
  :class:`spykeflow.EventEncoder` as they are.
* **Transforms**: any tonic transform (``Denoise``, ``RefractoryPeriod``, ``CenterCrop``,
  ``Compose`` ...) or other callable events -> events goes into
  ``EventEncoder(event_transform=...)``, applied to each recording before binning.
  :func:`tonic_transform` builds one from a string such as ``"Denoise(filter_time=10000)"``
  (for command lines and configuration files) without ``eval``.
* **Frames**: tonic's ``ToFrame`` returns ``(T, P, H, W)`` counts whose channel is the
  polarity value (channel 0 = ``p = 0`` = OFF, 1 = ON); :func:`from_tonic_frames` reorders
  them to SpykeFlow's ``(T, H, W, 2)`` with channel 0 = ON.
* **Sizes**: tonic's ``sensor_size`` is ``(x = width, y = height, polarities)``, SpykeFlow's is
  ``(height, width)``: :func:`from_tonic_sensor_size`, :func:`to_tonic_sensor_size`.
* **Datasets**: :func:`spykeflow.datasets.from_tonic` wraps a tonic dataset as
  ``(events, label)`` samples with SpykeFlow's ``sensor_size``.

Where ``ToFrame`` and :func:`spykeflow.functional.events.bin_events` (``mode="count"``) give
the same frames (events sorted by time, ``T`` bins):

* ``ToFrame(sensor_size, n_time_bins=T)`` equals ``bin_events(events, size, T,
  window_us=T * ((t_last - t_first) // T))``: tonic's bins are ``(t_last - t_first) // T``
  microseconds wide from the first event, so events after ``T`` whole bins (at least the last
  event) are dropped. SpykeFlow's default (``window_us=None``) spreads ``t_last - t_first + 1``
  microseconds over the ``T`` bins exactly and keeps every event.
* ``ToFrame(sensor_size, time_window=W, start_time=s, end_time=s + T * W)`` equals
  ``bin_events(events, size, T, window_us=T * W, t_start=s)``.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

import numpy as np

from spykeflow._validation import check_int_tuple
from spykeflow.functional import events as events_fn

__all__ = ["require_tonic", "tonic_transform", "from_tonic_frames", "from_tonic_sensor_size",
           "to_tonic_sensor_size"]

INSTALL = "pip install tonic"


def require_tonic(what: str = "this feature") -> Any:
    """Import and return the optional ``tonic`` package, or raise an ``ImportError`` saying
    how to install it."""
    try:
        import tonic
    except ImportError as err:
        raise ImportError(
            f"Expected the optional package tonic for {what}. Received: tonic is not "
            f"installed. Install it with: {INSTALL} (GPL-3; SpykeFlow does not depend on it)."
        ) from err
    return tonic


def _literal(node: ast.AST, spec: str) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ValueError(
            f"Expected literal arguments (numbers, strings, tuples, lists, None, True/False) "
            f"in {spec!r}. Received: {ast.unparse(node)!r}."
        ) from None


def tonic_transform(spec: str) -> Any:
    """Build a ``tonic.transforms`` object from a string, e.g. ``"Denoise(filter_time=10000)"``.

    The string is parsed with ``ast``, never evaluated: it must be a call of a class of
    ``tonic.transforms`` by name, with literal arguments, or a list of such calls (composed in
    order with ``tonic.transforms.Compose``).

    Parameters
    ----------
    spec : str
        E.g. ``"Denoise(filter_time=10000)"``, ``"RefractoryPeriod(delta=1000)"``,
        ``"[Denoise(filter_time=10000), CenterCrop(sensor_size=(34, 34, 2), size=(28, 28))]"``.

    Returns
    -------
    callable
        events -> events, for ``EventEncoder(event_transform=...)``.

    Raises
    ------
    ImportError
        tonic is not installed (the message says ``pip install tonic``).
    ValueError
        Syntax error, unknown class, or non-literal arguments.
    """
    if not isinstance(spec, str):
        raise TypeError(f"Expected spec to be a str such as 'Denoise(filter_time=10000)'. "
                        f"Received: spec={spec!r}.")
    require_tonic(f"the event transform {spec!r}")
    import tonic.transforms as transforms

    try:
        body = ast.parse(spec.strip(), mode="eval").body
    except SyntaxError as err:
        raise ValueError(
            f"Expected a call such as 'Denoise(filter_time=10000)'. Received: {spec!r} "
            f"({err.msg})."
        ) from None
    calls = body.elts if isinstance(body, (ast.List, ast.Tuple)) else [body]
    known = sorted(n for n, v in vars(transforms).items()
                   if inspect.isclass(v) and not n.startswith("_"))
    built = []
    for call in calls:
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
            raise ValueError(
                f"Expected a call of a tonic.transforms class by name, e.g. "
                f"'Denoise(filter_time=10000)'. Received: {ast.unparse(call)!r}."
            )
        name = call.func.id
        if name not in known:
            raise ValueError(f"Expected a class of tonic.transforms, one of {known}. "
                             f"Received: {name!r}.")
        if any(k.arg is None for k in call.keywords) or any(
                isinstance(a, ast.Starred) for a in call.args):
            raise ValueError(f"Expected plain arguments in {spec!r}. Received: * or ** "
                             "unpacking.")
        args = [_literal(a, spec) for a in call.args]
        kwargs = {str(k.arg): _literal(k.value, spec) for k in call.keywords}
        try:
            built.append(getattr(transforms, name)(*args, **kwargs))
        except TypeError as err:
            raise ValueError(f"Expected the arguments of tonic.transforms.{name}. "
                             f"Received: {ast.unparse(call)!r} ({err}).") from None
    if not built:
        raise ValueError(f"Expected at least one transform. Received: {spec!r}.")
    return built[0] if len(built) == 1 else transforms.Compose(built)


def from_tonic_frames(frames: Any) -> np.ndarray:
    """tonic ``ToFrame`` output -> SpykeFlow's ON/OFF frames (counts, ``int32``).

    tonic indexes the polarity channel by the value of ``p``: channel 0 = ``p = 0`` (OFF),
    channel 1 = ``p = 1`` (ON). SpykeFlow puts ON first (:mod:`spykeflow.conventions`). A
    single-polarity sensor (``P = 1``; tonic then sets every ``p`` to 0) becomes the ON
    channel, with an empty OFF channel, as :func:`~spykeflow.functional.events.bin_events`
    does for 1-D recordings whose ``p`` is always 1 (SHD/SSC).

    Parameters
    ----------
    frames : array of integer or bool
        ``(T, P, H, W)`` (one recording), ``(N, T, P, H, W)`` (a batch) or ``(T, P, C)`` (one
        1-D recording, e.g. audio).

    Returns
    -------
    numpy.ndarray, int32
        ``(T, H, W, 2)``, ``(N, T, H, W, 2)`` or ``(T, 1, C, 2)``; channel 0 = ON, 1 = OFF.
        Use ``> 0`` for binary spikes.

    Examples
    --------
    >>> f = np.zeros((1, 2, 1, 3), np.int16)     # T=1, P=2, H=1, W=3
    >>> f[0, 1, 0, 2] = 4                        # tonic channel 1: ON events at x = 2
    >>> from_tonic_frames(f)[0, 0].tolist()      # (W, [ON, OFF])
    [[0, 0], [0, 0], [4, 0]]
    """
    frames = np.asarray(frames)
    if not (frames.dtype == bool or np.issubdtype(frames.dtype, np.integer)):
        raise TypeError(f"Expected integer (count) or bool frames from tonic's ToFrame. "
                        f"Received: dtype={frames.dtype}. Cast counts to integers first.")
    if frames.ndim == 3:
        frames = frames[:, :, None, :]
    if frames.ndim not in (4, 5) or frames.shape[-3] not in (1, 2):
        raise ValueError(
            "Expected tonic frames (T, P, H, W), (N, T, P, H, W) or (T, P, C) with P = 1 or 2 "
            f"polarity channels. Received: shape={frames.shape}."
        )
    moved = np.moveaxis(frames.astype(np.int32), -3, -1)  # (..., H, W, P)
    if moved.shape[-1] == 1:
        return np.concatenate([moved, np.zeros_like(moved)], axis=-1)
    return np.ascontiguousarray(moved[..., ::-1])


def from_tonic_sensor_size(sensor_size: Any) -> tuple[int, int]:
    """tonic's ``sensor_size`` ``(x, y, p)`` -> SpykeFlow's ``(height, width)``.

    >>> from_tonic_sensor_size((34, 34, 2)), from_tonic_sensor_size((700, 1, 1))
    ((34, 34), (1, 700))
    """
    width, height, polarities = check_int_tuple(sensor_size, "sensor_size (tonic: x, y, p)", 3)
    if polarities > 2:
        raise ValueError(f"Expected at most 2 polarities in tonic's sensor_size (x, y, p). "
                         f"Received: sensor_size={tuple(sensor_size)}.")
    return height, width


def to_tonic_sensor_size(sensor_size: Any, polarities: int = 2) -> tuple[int, int, int]:
    """SpykeFlow's ``sensor_size`` ``(height, width)`` (an int: square) -> tonic's
    ``(x, y, p)``, e.g. for ``ToFrame`` or ``CenterCrop``.

    >>> to_tonic_sensor_size((2, 3)), to_tonic_sensor_size(34)
    ((3, 2, 2), (34, 34, 2))
    """
    height, width = events_fn.sensor_shape(sensor_size)
    return width, height, polarities
