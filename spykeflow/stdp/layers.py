"""``STDPConv`` and ``SpikePool``: the layers of an STDP :class:`~spykeflow.Network`.

They are validated, serialisable configurations (``get_config`` / ``from_config``); the
network trains and runs them with the kernels of :mod:`spykeflow.functional` through
:mod:`spykeflow.stdp.engine`. Defaults are the published Conv1 setting of the original's main
script (docs/original/stdp.md#published-configurations).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_bool, check_in, check_int
from .params import (
    FLAT_OPTIONS,
    GROUPS,
    Competition,
    Homeostasis,
    Init,
    Neuron,
    Rule,
    Schedule,
    Training,
)

__all__ = ["STDPConv", "SpikePool", "POOL_MODES"]

#: ``SpikePool(mode=...)`` values.
POOL_MODES = ("auto", "first_spike", "transient", "accumulate")


class STDPConv:
    """A convolutional layer of non-leaky integrate-and-fire neurons trained by STDP.

    The flat keyword arguments build seven typed groups (:mod:`spykeflow.stdp.params`), which
    are the layer's attributes: ``neuron``, ``competition``, ``rule``, ``schedule``,
    ``homeostasis``, ``init``, ``training``.

    Parameters
    ----------
    filters : int
        Number of feature maps (output channels), e.g. 30 for Conv1, 200 for Conv2.
    kernel_size : int
        Square kernel size (5). Stride 1.
    threshold : float
        :attr:`Neuron.threshold <spykeflow.stdp.params.Neuron>` (15).
    inhibition_window : int
        :attr:`Competition.window <spykeflow.stdp.params.Competition>` (11).
    padding : int
        Rows/columns of silent inputs added on every side (0: valid, the original's setting;
        ``kernel_size // 2``: same size, as in Kheradpisheh et al. 2018).
    strict_threshold, threshold_jitter, lateral_inhibition
        :class:`~spykeflow.stdp.params.Neuron`.
    competition
        :class:`~spykeflow.stdp.params.Competition` ``mode``.
    a_plus, a_minus_ratio, stdp_update
        :class:`~spykeflow.stdp.params.Rule` (``stdp_update`` is its ``update``).
    lr_double_every, a_plus_max, lr_schedule
        :class:`~spykeflow.stdp.params.Schedule` (``double_every``, ``a_plus_max``, ``kind``).
    homeostasis, homeostasis_block, homeostasis_factor, homeostasis_decay,
    homeostasis_count_first_image
        :class:`~spykeflow.stdp.params.Homeostasis` (``enabled``, ``block``, ``factor``,
        ``decay``, ``count_first_image``).
    w_init_mean, w_init_std
        :class:`~spykeflow.stdp.params.Init` (``mean``, ``std``).
    weights : array (kernel_size, kernel_size, C_in, filters), optional
        Initial weights in [0, 1]; they replace the seeded initialisation.
    n_images, epochs, snapshot_every, snapshot_schedule
        :class:`~spykeflow.stdp.params.Training`.

    Examples
    --------
    >>> conv = STDPConv(30, 5, threshold=15, inhibition_window=11)
    >>> conv.neuron.threshold, conv.competition.window, conv.schedule.double_every
    (15.0, 11, 500)
    >>> conv.replace(lr_double_every=150).schedule.double_every
    150
    """

    kind = "conv"

    def __init__(self, filters: int, kernel_size: int = 5, threshold: float = 15.0,
                 inhibition_window: int = 11, *, padding: int = 0,
                 strict_threshold: bool = False, threshold_jitter: float = 0.0,
                 lateral_inhibition: bool = True, competition: str = "greedy_all",
                 a_plus: float = 0.004, a_minus_ratio: float = 0.75,
                 stdp_update: str = "per_step", lr_double_every: int | None = 500,
                 a_plus_max: float | None = 0.15, lr_schedule: str = "images",
                 homeostasis: bool = True, homeostasis_block: int = 5,
                 homeostasis_factor: float = 3.0, homeostasis_decay: float = 0.003,
                 homeostasis_count_first_image: bool = False, w_init_mean: float = 0.8,
                 w_init_std: float = 0.01, weights: Any = None, n_images: int | None = None,
                 epochs: int = 1, snapshot_every: int = 200, snapshot_schedule: str = "images"):
        self.filters = check_int(filters, "filters")
        self.kernel_size = check_int(kernel_size, "kernel_size")
        self.padding = check_int(padding, "padding", minimum=0)
        options = dict(
            threshold=threshold, strict_threshold=strict_threshold,
            threshold_jitter=threshold_jitter, lateral_inhibition=lateral_inhibition,
            inhibition_window=inhibition_window, competition=competition, a_plus=a_plus,
            a_minus_ratio=a_minus_ratio, stdp_update=stdp_update,
            lr_double_every=lr_double_every, a_plus_max=a_plus_max, lr_schedule=lr_schedule,
            homeostasis=homeostasis, homeostasis_block=homeostasis_block,
            homeostasis_factor=homeostasis_factor, homeostasis_decay=homeostasis_decay,
            homeostasis_count_first_image=homeostasis_count_first_image,
            w_init_mean=w_init_mean, w_init_std=w_init_std, n_images=n_images, epochs=epochs,
            snapshot_every=snapshot_every, snapshot_schedule=snapshot_schedule)
        fields: dict[str, dict] = {group: {} for group in GROUPS}
        for name, value in options.items():
            group, field = FLAT_OPTIONS[name]
            fields[group][field] = value
        self.neuron = Neuron(**fields["neuron"])
        self.competition = Competition(**fields["competition"])
        self.rule = Rule(**fields["rule"])
        self.schedule = Schedule(**fields["schedule"])
        self.homeostasis = Homeostasis(**fields["homeostasis"])
        self.init = Init(**fields["init"])
        self.training = Training(**fields["training"])
        self.weights = None if weights is None else self._check_weights(weights)

    def _check_weights(self, weights):
        w = np.asarray(weights)
        if w.dtype == object or not np.issubdtype(w.dtype, np.number):
            raise TypeError(f"Expected numeric weights. Received: dtype={w.dtype}.")
        w = w.astype(np.float32)
        k = self.kernel_size
        if w.ndim != 4 or w.shape[:2] != (k, k) or w.shape[3] != self.filters:
            raise ValueError(
                f"Expected weights of shape ({k}, {k}, C_in, {self.filters}) (kernel_size, "
                f"kernel_size, C_in, filters). Received: weights.shape={w.shape}.")
        if not np.isfinite(w).all() or w.min() < 0 or w.max() > 1:
            raise ValueError("Expected weights in [0, 1] (STDP weights are non-negative and the "
                             f"rule keeps them below 1). Received: min={np.nanmin(w)}, "
                             f"max={np.nanmax(w)}.")
        return w

    def __setattr__(self, name, value):
        # a group may be replaced by another object of its class; flat options are fixed
        # ("competition" and "homeostasis" are both a flat option and a group's name)
        if name in FLAT_OPTIONS and not isinstance(value, GROUPS.get(name, ())):
            group, field = FLAT_OPTIONS[name]
            raise AttributeError(
                f"STDPConv options are fixed at construction. Received: {name}={value!r}. Use "
                f"layer.replace({name}=...) for a changed copy (the value lives in "
                f"layer.{group}.{field}).")
        super().__setattr__(name, value)

    def get_config(self) -> dict:
        """The constructor's arguments as a JSON-friendly dict (``weights`` excluded: they are
        saved as arrays)."""
        config = {"filters": self.filters, "kernel_size": self.kernel_size,
                  "padding": self.padding}
        for name, (group, field) in FLAT_OPTIONS.items():
            config[name] = getattr(getattr(self, group), field)
        return config

    @classmethod
    def from_config(cls, config: dict, weights: Any = None) -> STDPConv:
        """The layer of :meth:`get_config` (with initial ``weights``, if any)."""
        return cls(weights=weights, **config)

    def replace(self, **options) -> STDPConv:
        """A copy with some constructor arguments changed (the initial weights are kept unless
        ``weights`` is given).

        >>> STDPConv(30).replace(n_images=1000, epochs=2).training.epochs
        2
        """
        config = self.get_config()
        unknown = sorted(set(options) - set(config) - {"weights"})
        if unknown:
            raise TypeError(f"Expected STDPConv arguments ({', '.join(sorted(config))}, "
                            f"weights). Received: {', '.join(unknown)}.")
        weights = options.pop("weights", self.weights)
        return type(self).from_config({**config, **options}, weights=weights)

    def __repr__(self) -> str:
        return (f"STDPConv(filters={self.filters}, kernel_size={self.kernel_size}, "
                f"threshold={self.neuron.threshold}, "
                f"inhibition_window={self.competition.window})")


class SpikePool:
    """Max pooling of spikes (valid, ``size x size``, stride ``stride``;
    docs/original/stdp.md#pooling).

    Parameters
    ----------
    size : int
        Pool size (2).
    stride : int or None
        Stride (None: ``size``).
    mode : {"auto", "first_spike", "transient", "accumulate"}
        "auto" (default): "transient" when the pool feeds a further layer (the original's
        Conv2 input, up to 4 spikes per pool neuron) and "first_spike" when it is the last
        layer (one spike per neuron). Binarised features are identical either way.
    lateral_inhibition : bool
        At most one spike per pool position per sample, in the map with the highest pooled
        potential (False, as in the paper's features).
    padding : int
        Rows/columns of silent neurons added on every side before pooling (0: valid).

    >>> SpikePool(2).resolved_mode(is_last=True), SpikePool(2).resolved_mode(is_last=False)
    ('first_spike', 'transient')
    """

    kind = "pool"

    def __init__(self, size: int = 2, stride: int | None = None, mode: str = "auto",
                 lateral_inhibition: bool = False, padding: int = 0):
        self.size = check_int(size, "size")
        self.stride = self.size if stride is None else check_int(stride, "stride")
        self.padding = check_int(padding, "padding", minimum=0)
        self.mode = check_in(mode, "mode", POOL_MODES)
        self.lateral_inhibition = check_bool(lateral_inhibition, "lateral_inhibition")

    def resolved_mode(self, is_last: bool) -> str:
        """The pooling mode used when the pool is (or is not) the network's last layer."""
        if self.mode != "auto":
            return self.mode
        return "first_spike" if is_last else "transient"

    def get_config(self) -> dict:
        """The constructor's arguments."""
        return {"size": self.size, "stride": self.stride, "mode": self.mode,
                "lateral_inhibition": self.lateral_inhibition, "padding": self.padding}

    @classmethod
    def from_config(cls, config: dict, weights: Any = None) -> SpikePool:
        """The layer of :meth:`get_config` (``weights`` is ignored: pools have none)."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"SpikePool({self.size}, stride={self.stride}, mode={self.mode!r})"
