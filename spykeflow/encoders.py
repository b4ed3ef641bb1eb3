"""Encoders for inputs that are not grey images: event recordings and real-valued series.

One small scikit-learn estimator per input kind, each configured in its constructor
(:class:`spykeflow.InputLayer` is the image encoder):

* :class:`EventEncoder`: event-camera recordings (e.g. N-MNIST) -> spike frames
  ``(N, T, H, W, 2)`` (:mod:`spykeflow.functional.events`).
* :class:`DeltaEncoder`: real-valued series ``(N, T, F)`` -> send-on-delta spikes
  (:mod:`spykeflow.functional.send_on_delta`).

Both are stateless: ``__init__`` stores the parameters, ``fit`` validates them (and ``X`` if
given) and returns ``self``, ``transform`` validates and encodes; ``get_params``,
``set_params`` and :func:`sklearn.base.clone` work as for any estimator. Neither is part of
the original SpykeFlow (docs/original/encoding.md#events-and-series).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone

from spykeflow._validation import check_bool
from spykeflow.functional import events as events_fn
from spykeflow.functional import send_on_delta as sod_fn

__all__ = ["EventEncoder", "DeltaEncoder"]


class StatelessEncoder(TransformerMixin, BaseEstimator):
    """Base of SpykeFlow's encoders: scikit-learn transformers that learn nothing.

    ``__init__`` stores the parameters, ``fit`` validates them (and the data, if given) and
    returns ``self``, and the encoder counts as fitted from the start, so it can head a
    ``Pipeline`` or be used without ``fit``. Subclasses implement ``_validate_params()`` (it
    returns whatever ``_check_input`` needs) and ``_check_input(X, params)``.
    """

    def __sklearn_is_fitted__(self) -> bool:  # stateless: usable without fit
        return True

    def fit(self, X: Any = None, y: Any = None) -> Any:
        """Validate the parameters (and ``X`` if given); return ``self``. Nothing is learned."""
        params = self._validate_params()
        if X is not None:
            self._check_input(X, params)
        return self

    def _validate_params(self) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def _check_input(self, X: Any, params: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class EventEncoder(StatelessEncoder):
    """Bin event recordings (e.g. N-MNIST) into spike frames ``(N, T, H, W, 2)``.

    Each recording's time window is cut into ``time_steps`` equal bins; a frame holds the
    events of its bin, channel 0 = ON (``p = 1``), 1 = OFF (``p = 0``), as in
    :mod:`spykeflow.conventions`. See :func:`spykeflow.functional.events.bin_events` for the
    exact binning rule.

    Parameters
    ----------
    sensor_size : (int, int) or int, default=(34, 34)
        ``(height, width)`` of the sensor: rows index ``y``, columns index ``x``.
    time_steps : int, default=12
        Number of equal time bins ``T``.
    window_us : int, optional
        Fixed window length in microseconds (e.g. 300_000 for N-MNIST's three saccades);
        default each recording's own span from ``t_start`` to its last event.
    t_start : int, optional
        Window start in microseconds; default each recording's first event.
    mode : {"binary", "count"}, default="binary"
        ``True`` if any event fell in the bin, or the number of events (``int32``).
    first_spike_only : bool, default=False
        Keep only each pixel/channel's first bin with an event (at most one spike per input
        neuron, like the image encoder).
    progress : bool, default=False
        Show a tqdm progress bar over the recordings.
    event_transform : callable, optional
        Applied to (a copy of) each recording before binning: events -> events in the same
        convention, e.g. a tonic transform (``tonic.transforms.Denoise(filter_time=10000)``,
        ``RefractoryPeriod``, ``CenterCrop`` with ``sensor_size`` set to the crop, or a
        ``Compose`` of them; see :mod:`spykeflow.tonic_plugin`) or any function. A transform
        that is not a scikit-learn estimator is an opaque value: :func:`sklearn.base.clone`
        deep-copies it and ``get_params(deep=True)`` does not look inside it.

    Events are structured arrays in the convention of :mod:`spykeflow.functional.events`:
    fields ``x``, ``y``, ``p``, ``t`` in any order and integer dtypes (``p`` bool, 0/1 or
    -1/+1), or ``x``, ``p``, ``t`` for 1-D sensors (spiking audio: ``sensor_size=C`` channels,
    frames ``(N, T, 1, C, 2)``).

    Examples
    --------
    >>> import numpy as np
    >>> from spykeflow.datasets import EVENT_DTYPE
    >>> from spykeflow.encoders import EventEncoder
    >>> ev = np.array([(1, 0, 1, 0), (1, 0, 1, 50), (2, 1, 0, 99)], dtype=EVENT_DTYPE)
    >>> enc = EventEncoder(sensor_size=(2, 3), time_steps=2, mode="count").fit()
    >>> s = enc.transform([ev, ev])
    >>> s.shape, s.dtype
    ((2, 2, 2, 3, 2), dtype('int32'))
    >>> s[0, :, 0, 1, 0].tolist(), s[0, :, 1, 2, 1].tolist()  # ON at (0, 1); OFF at (1, 2)
    ([1, 1], [0, 1])
    """

    def __init__(
        self,
        sensor_size: int | tuple[int, int] = (34, 34),
        time_steps: int = 12,
        *,
        window_us: int | None = None,
        t_start: int | None = None,
        mode: str = "binary",
        first_spike_only: bool = False,
        progress: bool = False,
        event_transform: Any = None,
    ) -> None:
        self.sensor_size = sensor_size
        self.time_steps = time_steps
        self.window_us = window_us
        self.t_start = t_start
        self.mode = mode
        self.first_spike_only = first_spike_only
        self.progress = progress
        self.event_transform = event_transform

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters; ``deep`` descends into ``event_transform`` only if it is a scikit-learn
        estimator (tonic's transforms have a ``get_params`` of their own, with another
        meaning)."""
        params = super().get_params(deep=False)
        if deep and isinstance(self.event_transform, BaseEstimator):
            for key, value in self.event_transform.get_params(deep=True).items():
                params[f"event_transform__{key}"] = value
        return params

    def __sklearn_clone__(self) -> EventEncoder:
        params = self.get_params(deep=False)
        transform = params.pop("event_transform")
        twin = {key: clone(value, safe=False) for key, value in params.items()}
        twin["event_transform"] = (clone(transform) if isinstance(transform, BaseEstimator)
                                   else copy.deepcopy(transform))
        return type(self)(**twin)

    def _check_input(self, X: Any, params: Any) -> None:
        events_fn.check_events(X, "X")

    def transform(self, events: Any) -> np.ndarray:
        """Bin ``events`` into spike frames.

        Parameters
        ----------
        events : structured array or sequence of structured arrays
            One recording or N recordings with integer fields ``x`` (column), ``y`` (row),
            ``p`` (1 = ON, 0 or -1 = OFF, or bool) and ``t`` (microseconds), e.g. the samples
            of ``spykeflow.datasets.load("nmnist")`` (``spykeflow.datasets.EVENT_DTYPE``) or of
            a tonic dataset; or ``x``, ``p``, ``t`` for 1-D sensors.

        Returns
        -------
        numpy.ndarray, shape (N, T, H, W, 2)
            ``bool`` (``mode="binary"``) or ``int32`` (``mode="count"``).
        """
        params = self._validate_params()
        if self.event_transform is not None:
            events = self._apply_transform(events_fn.check_events(events))
        return events_fn.bin_events(events, **params, progress=self.progress)

    def _apply_transform(self, recordings: list[np.ndarray]) -> list[np.ndarray]:
        """``event_transform`` on a copy of each recording; the results are checked."""
        numbered: Any = enumerate(recordings)
        if self.progress:
            from tqdm.auto import tqdm

            numbered = tqdm(numbered, total=len(recordings), desc="event_transform",
                            unit="recording")
        out = []
        for i, rec in numbered:
            result = self.event_transform(rec.copy())
            if not (isinstance(result, np.ndarray) and result.dtype.names is not None):
                raise TypeError(
                    "Expected event_transform to return a structured event array. Received: "
                    f"{type(result).__name__} for recording {i}"
                    + (f" of shape {result.shape}" if isinstance(result, np.ndarray) else "")
                    + ". Frame transforms such as tonic's ToFrame do not go here: convert "
                    "their output with spykeflow.tonic_plugin.from_tonic_frames."
                )
            out.append(result)
        events_fn.check_events(out, "event_transform(X)")
        return out

    def _validate_params(self) -> dict[str, Any]:
        check_bool(self.progress, "progress")
        if self.event_transform is not None and not callable(self.event_transform):
            raise TypeError(
                "Expected event_transform to be None or a callable events -> events (e.g. "
                f"tonic.transforms.Denoise(filter_time=10000)). Received: "
                f"event_transform={self.event_transform!r}."
            )
        return events_fn.check_binning(self.sensor_size, self.time_steps, self.window_us,
                                       self.t_start, self.mode, self.first_spike_only)


class DeltaEncoder(StatelessEncoder):
    """Send-on-delta encoding of real-valued series ``(N, T, F)`` (Zimmer et al. 4.2-4.4).

    Give exactly one of ``delta`` (1-D send-on-delta per feature: an ON and an OFF neuron per
    feature) or ``directions`` (multi-dimensional send-on-delta with preferred directions).
    See :mod:`spykeflow.functional.send_on_delta` for the rule and its guarantee (the
    reconstruction stays within ``delta`` of a signal that moves by at most ``delta`` per
    step).

    Parameters
    ----------
    delta : float or array (F,), optional
        Threshold ``> 0`` (one per feature if an array); output ``(N, T, F, 2)`` bool,
        channel 0 = ON, 1 = OFF.
    directions : array (K, F), optional
        Preferred directions ``w_k`` (non-zero rows); output ``(N, T, K)`` bool.
    initial : array broadcastable to (N, F), optional
        Starting reference (default 0: the first events also encode the level).

    Examples
    --------
    >>> import numpy as np
    >>> from spykeflow.encoders import DeltaEncoder
    >>> x = np.array([[[0.0], [0.6], [1.2], [1.1], [0.1]]])   # (N=1, T=5, F=1)
    >>> DeltaEncoder(0.5).transform(x)[0, :, 0].astype(int).tolist()   # [ON, OFF] per step
    [[0, 0], [1, 0], [1, 0], [0, 0], [0, 1]]
    >>> DeltaEncoder(directions=[[0.5], [-0.5]]).transform(x)[0].astype(int).tolist()
    [[0, 0], [1, 0], [1, 0], [0, 0], [0, 1]]
    """

    def __init__(self, delta: Any = None, *, directions: Any = None, initial: Any = None) -> None:
        self.delta = delta
        self.directions = directions
        self.initial = initial

    def _check_input(self, X: Any, params: Any) -> None:
        x = sod_fn.check_series(X, "X")
        n, _, f = x.shape
        if self.directions is not None:
            sod_fn.check_directions(self.directions, f)
        else:
            sod_fn.check_delta(self.delta, f)
        sod_fn.check_initial(self.initial, n, f)

    def transform(self, series: Any) -> np.ndarray:
        """Encode ``series`` ``(N, T, F)`` (time on axis 1, e.g. log-Mel frames) as spikes.

        Returns
        -------
        numpy.ndarray, bool
            ``(N, T, F, 2)`` with ``delta`` (channel 0 = ON, 1 = OFF), ``(N, T, K)`` with
            ``directions``.
        """
        self._validate_params()
        if self.directions is not None:
            return sod_fn.multi_send_on_delta(series, self.directions, initial=self.initial)
        return sod_fn.send_on_delta(series, self.delta, initial=self.initial)

    def _validate_params(self) -> None:
        if (self.delta is None) == (self.directions is None):
            raise ValueError(
                "Expected exactly one of delta (1-D send-on-delta) or directions "
                f"(multi-dimensional). Received: delta={self.delta!r}, "
                f"directions={'None' if self.directions is None else 'an array'}."
            )
        if self.directions is not None:
            sod_fn.check_directions(self.directions)
        else:
            sod_fn.check_delta(self.delta)
