"""Conventions shared by every part of SpykeFlow.

Spike layout
------------
Spike trains are arrays of shape ``(N, T, H, W, C)``: batch, time step, height (rows), width
(columns), channels -- channels last, TensorFlow's native layout, time on axis 1. Values are
``bool`` (``uint8`` is accepted). For images encoded by :class:`spykeflow.InputLayer` each input
neuron spikes at most once per sample. Sequences without a spatial grid use ``(N, T, F)`` or
``(N, T, L, C)`` for 1-D convolutions.

Channel 0 of an encoded image is the ON (centre-surround positive) map, channel 1 the OFF map.
Event-camera recordings (binned by :class:`spykeflow.encoders.EventEncoder`) use the same
order: channel 0 holds ON events (polarity p = 1 in the N-MNIST files) and channel 1 OFF
events (p = 0), so an STDP layer sees ON/OFF alike for both.

Compact form
------------
Because an encoded input neuron spikes at most once, a spike train can be stored as the time
step of the first spike, ``int8`` of shape ``(N, H, W, C)``, with :data:`NO_SPIKE` (-1) meaning
"never fired". :func:`to_first_spike` and :func:`from_first_spike` convert between the forms.

Feature vectors
---------------
Feature vectors are ``(N, F)``; a pooled map of shape ``(P, Q, C)`` is flattened map-major
(index = c*P*Q + row*Q + col), like the original SpykeFlow.

Time is counted in integer time steps throughout; durations of event recordings are in
microseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spykeflow._validation import check_int

#: Axis of the time dimension in every spike tensor.
TIME_AXIS = 1
#: Value of the compact first-spike form for neurons that never fired.
NO_SPIKE = -1
#: Channel index of the ON map of DoG-encoded images.
ON, OFF = 0, 1


def to_first_spike(spikes: Any) -> np.ndarray:
    """Compress spike trains ``(N, T, ...)`` to first-spike times ``(N, ...)`` (``int8``).

    Neurons that never fire get :data:`NO_SPIKE`. Only the first spike of each neuron is kept,
    so this is lossless exactly for trains with at most one spike per neuron.

    >>> s = np.zeros((1, 3, 1, 2, 1), bool); s[0, 2, 0, 1, 0] = True
    >>> to_first_spike(s)[0, ..., 0].tolist()
    [[-1, 2]]
    """
    spikes = np.asarray(spikes)
    if spikes.ndim < 2:
        raise ValueError(
            f"Expected spikes of shape (N, T, ...). Received: spikes.ndim={spikes.ndim}."
        )
    if spikes.shape[TIME_AXIS] > np.iinfo(np.int8).max:
        raise ValueError(
            "The compact int8 form holds at most 127 time steps. "
            f"Received: T={spikes.shape[TIME_AXIS]}; keep the dense form for longer trains."
        )
    fired = spikes.any(axis=TIME_AXIS)
    first = np.argmax(spikes.astype(bool), axis=TIME_AXIS).astype(np.int8)
    first[~fired] = NO_SPIKE
    return first


def from_first_spike(first: Any, time_steps: int) -> np.ndarray:
    """Expand first-spike times ``(N, ...)`` to boolean spike trains ``(N, T, ...)``.

    >>> from_first_spike(np.array([[2, -1]], np.int8), 3)[0].astype(int).tolist()
    [[0, 0], [0, 0], [1, 0]]
    """
    first = np.asarray(first)
    if not np.issubdtype(first.dtype, np.integer):
        raise TypeError(f"Expected integer first-spike times. Received: dtype={first.dtype}.")
    time_steps = check_int(time_steps, "time_steps", minimum=1)
    if first.size and (first.max() >= time_steps or first.min() < NO_SPIKE):
        raise ValueError(
            f"First-spike times must lie in [-1, {time_steps - 1}]. "
            f"Received: min={first.min()}, max={first.max()}."
        )
    steps = np.arange(time_steps).reshape((1, time_steps) + (1,) * (first.ndim - 1))
    return np.expand_dims(first, TIME_AXIS) == steps
