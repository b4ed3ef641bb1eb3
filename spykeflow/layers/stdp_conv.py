"""``STDPConv``: configuration of one convolutional layer of non-leaky IF neurons trained by STDP.

A plain, validated, serialisable hyper-parameter object (``get_config``/``from_config``); the
:class:`spykeflow.Network` orchestrates training and inference with the pure functions of
:mod:`spykeflow.functional`. Defaults are the published Conv1 setting of the original's main
script (reference 2.7).
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import check_in, check_int

__all__ = ["STDPConv"]

COMPETITIONS = ("greedy_all", "per_map_max")
STDP_UPDATES = ("per_step", "end_of_image")
LR_SCHEDULES = ("images", "original_steps")
SNAPSHOT_SCHEDULES = ("images", "original_steps")


def _check_float(value, name, low=None, high=None, low_open=False, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Expected a number for {name}. Received: {name}={value!r}.")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"Expected a finite {name}. Received: {name}={value!r}.")
    if low is not None and (v <= low if low_open else v < low):
        op = ">" if low_open else ">="
        raise ValueError(f"Expected {name} {op} {low}. Received: {name}={value!r}.")
    if high is not None and v > high:
        raise ValueError(f"Expected {name} <= {high}. Received: {name}={value!r}.")
    return v


class STDPConv:
    """A convolutional STDP layer (reference 2.2-2.3, 2.5).

    Parameters
    ----------
    maps : int
        Number of feature maps (output channels), e.g. 30 for Conv1, 200 for Conv2.
    kernel_size : int
        Square kernel size (5). Stride 1.
    padding : int
        Rows/columns of zeros (silent inputs) added on every side before the convolution (0:
        valid, the original's setting; ``kernel_size // 2``: same size, as in Kheradpisheh et
        al. 2018).
    threshold : float
        Firing threshold theta (15). Neurons fire at ``V >= theta`` (N3).
    inhibition_window : int
        STDP competition window (11 for Conv1, 3 for Conv2), odd; half-width ``window // 2``.
    lateral_inhibition : bool
        N4: at most one spike per position per sample, in the argmax map (True). False: every
        neuron spikes once at its first crossing.
    strict_threshold : bool
        Use ``V > theta`` (the paper's wording) instead of ``>=`` (original).
    threshold_jitter : float
        alpha: per-sample threshold ~ U(theta(1-alpha), theta(1+alpha)), seeded (0).
    competition : {"greedy_all", "per_map_max"}
        S3: the original's greedy competition over all candidates (default) or the paper's
        per-map maximum first.
    a_plus : float
        A+ of the first training image (0.004 = the original's 0.002 after its step-0 doubling).
    a_minus_ratio : float
        A- = a_minus_ratio * A+ (0.75).
    lr_double_every : int or None
        Double A+ every this many training images (500); None: constant.
    a_plus_max : float or None
        Cap of A+ (0.15); None: no cap.
    lr_schedule : {"images", "original_steps"}
        "images" doubles at image boundaries. "original_steps" reproduces the original's
        global-step formula exactly (doubling after every step g with
        ``g mod (T*lr_double_every - 1) == 0``, including g = 0); use it with ``a_plus=0.002``.
    homeostasis : bool
        S2 "few spikes" homeostasis (on).
    homeostasis_block, homeostasis_factor, homeostasis_decay : int, float, float
        B = 5, factor = 3.0, c = 0.003 (Conv1 main script). Maps with more than B/factor
        counted wins in the current block of B images are excluded from competition and decayed
        ``W -= c W (1 - W)``.
    homeostasis_count_first_image : bool
        False (default, the original's quirk): the counters are cleared on every step of a
        block's first image, so wins there are not counted. True: count all B images.
    stdp_update : {"per_step", "end_of_image"}
        S6: immediate updates within the step (default) or deferred to the end of the sample
        (``pre`` taken at the winning step).
    w_init_mean, w_init_std : float
        S8: W ~ N(0.8, 0.01); values outside (0, 1) are replaced by the mean.
    weights : array (kernel_size, kernel_size, C_in, maps), optional
        Initial weights; they take effect (bug B7 not reproduced). Must lie in [0, 1].
    n_images : int or None
        Training images for this layer (the first ``n_images`` of the data given to ``fit``);
        None: all; 0: not trained (keeps ``weights`` or the seeded initialisation).
    epochs : int
        Passes over those images (2.6): per-sample state, the homeostasis blocks and the
        snapshot schedule restart each epoch; the LR schedule continues.
    snapshot_every : int
        Weight snapshot interval in images (200), used for C_l and TD (S9, S10).
    snapshot_schedule : {"images", "original_steps"}
        "images": the initial weights, then a copy after every ``snapshot_every`` images.
        "original_steps": the original's per-epoch step rule (after step t with
        ``t mod (T*snapshot_every - 1) == 0``, so the first copy is after step 0).
    stop_below : float or None
        Stop this layer's training once C_l (checked at snapshots) drops below this (off).

    >>> STDPConv(30, 5, threshold=15, inhibition_window=11).get_config()["maps"]
    30
    """

    def __init__(self, maps, kernel_size=5, threshold=15.0, inhibition_window=11, *,
                 padding=0, lateral_inhibition=True, strict_threshold=False, threshold_jitter=0.0,
                 competition="greedy_all", a_plus=0.004, a_minus_ratio=0.75,
                 lr_double_every=500, a_plus_max=0.15, lr_schedule="images", homeostasis=True,
                 homeostasis_block=5, homeostasis_factor=3.0, homeostasis_decay=0.003,
                 homeostasis_count_first_image=False, stdp_update="per_step", w_init_mean=0.8,
                 w_init_std=0.01, weights=None, n_images=None, epochs=1, snapshot_every=200,
                 snapshot_schedule="images", stop_below=None):
        self.maps = check_int(maps, "maps")
        self.kernel_size = check_int(kernel_size, "kernel_size")
        self.padding = check_int(padding, "padding", minimum=0)
        self.threshold = _check_float(threshold, "threshold", 0, low_open=True)
        self.inhibition_window = check_int(inhibition_window, "inhibition_window")
        if self.inhibition_window % 2 == 0:
            raise ValueError("Expected an odd inhibition_window (the window is centred on the "
                             f"winner). Received: inhibition_window={inhibition_window}.")
        self.lateral_inhibition = bool(lateral_inhibition)
        self.strict_threshold = bool(strict_threshold)
        self.threshold_jitter = _check_float(threshold_jitter, "threshold_jitter", 0, 1)
        self.competition = check_in(competition, "competition", COMPETITIONS)
        self.a_plus = _check_float(a_plus, "a_plus", 0, 0.5)
        self.a_minus_ratio = _check_float(a_minus_ratio, "a_minus_ratio", 0)
        self.lr_double_every = (None if lr_double_every is None
                                else check_int(lr_double_every, "lr_double_every"))
        self.a_plus_max = _check_float(a_plus_max, "a_plus_max", 0, 1, allow_none=True)
        self.lr_schedule = check_in(lr_schedule, "lr_schedule", LR_SCHEDULES)
        if self.lr_schedule == "original_steps" and self.lr_double_every is None:
            raise ValueError("lr_schedule='original_steps' needs lr_double_every (the original's "
                             "lr_inc_rate). Received: lr_double_every=None.")
        self.homeostasis = bool(homeostasis)
        self.homeostasis_block = check_int(homeostasis_block, "homeostasis_block")
        self.homeostasis_factor = _check_float(homeostasis_factor, "homeostasis_factor", 0, low_open=True)
        self.homeostasis_decay = _check_float(homeostasis_decay, "homeostasis_decay", 0, 1)
        self.homeostasis_count_first_image = bool(homeostasis_count_first_image)
        self.stdp_update = check_in(stdp_update, "stdp_update", STDP_UPDATES)
        self.w_init_mean = _check_float(w_init_mean, "w_init_mean", 0, 1, low_open=True)
        self.w_init_std = _check_float(w_init_std, "w_init_std", 0)
        self.weights = None if weights is None else self._check_weights(weights)
        self.n_images = None if n_images is None else check_int(n_images, "n_images", minimum=0)
        self.epochs = check_int(epochs, "epochs")
        self.snapshot_every = check_int(snapshot_every, "snapshot_every")
        self.snapshot_schedule = check_in(snapshot_schedule, "snapshot_schedule", SNAPSHOT_SCHEDULES)
        self.stop_below = _check_float(stop_below, "stop_below", 0, allow_none=True)

    def _check_weights(self, weights):
        w = np.asarray(weights)
        if w.dtype == object or not np.issubdtype(w.dtype, np.number):
            raise TypeError(f"Expected numeric weights. Received: dtype={w.dtype}.")
        w = w.astype(np.float32)
        k = self.kernel_size
        if w.ndim != 4 or w.shape[:2] != (k, k) or w.shape[3] != self.maps:
            raise ValueError(
                f"Expected weights of shape ({k}, {k}, C_in, {self.maps}) (kernel_size, "
                f"kernel_size, C_in, maps). Received: weights.shape={w.shape}.")
        if not np.isfinite(w).all() or w.min() < 0 or w.max() > 1:
            raise ValueError("Expected weights in [0, 1] (STDP weights are non-negative and the "
                             f"rule keeps them below 1). Received: min={np.nanmin(w)}, max={np.nanmax(w)}.")
        return w

    kind = "conv"

    def get_config(self):
        """Hyper-parameters as a JSON-friendly dict (``weights`` excluded: saved as arrays)."""
        return {k: getattr(self, k) for k in _CONV_KEYS}

    @classmethod
    def from_config(cls, config, weights=None):
        cfg = dict(config)
        return cls(weights=weights, **cfg)

    def __repr__(self):
        return (f"STDPConv(maps={self.maps}, kernel_size={self.kernel_size}, "
                f"threshold={self.threshold}, inhibition_window={self.inhibition_window})")


_CONV_KEYS = (
    "maps", "kernel_size", "padding", "threshold", "inhibition_window", "lateral_inhibition",
    "strict_threshold", "threshold_jitter", "competition", "a_plus", "a_minus_ratio",
    "lr_double_every", "a_plus_max", "lr_schedule", "homeostasis", "homeostasis_block",
    "homeostasis_factor", "homeostasis_decay", "homeostasis_count_first_image", "stdp_update",
    "w_init_mean", "w_init_std", "n_images", "epochs", "snapshot_every", "snapshot_schedule",
    "stop_below",
)
