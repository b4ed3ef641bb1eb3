"""Typed parameter groups of a convolutional STDP layer.

A :class:`~spykeflow.stdp.layers.STDPConv` is configured by seven small frozen groups, each
validated when it is built:

======================  ====================================================================
group                   what it sets
======================  ====================================================================
:class:`Neuron`         threshold, strict comparison, per-sample jitter, lateral inhibition
:class:`Competition`    STDP competition window and form
:class:`Rule`           STDP rate A+ of the first image, A-/A+, when the update is applied
:class:`Schedule`       how A+ grows during training
:class:`Homeostasis`    exclusion and decay of over-active maps
:class:`Init`           initial weight distribution
:class:`Training`       training budget (images, epochs) and the weight-snapshot schedule
======================  ====================================================================

:data:`FLAT_OPTIONS` maps the flat keyword arguments of ``STDPConv(...)`` (what users type,
e.g. ``threshold=15, inhibition_window=11``) to ``(group, field)``; it is the only place where
a flat name and a field name differ.
"""

from __future__ import annotations

import dataclasses

from .._validation import check_bool, check_float, check_in, check_int
from ..functional.competition import COMPETITIONS

__all__ = ["Neuron", "Competition", "Rule", "Schedule", "Homeostasis", "Init", "Training",
           "GROUPS", "FLAT_OPTIONS", "STDP_UPDATES", "LR_SCHEDULES", "SNAPSHOT_SCHEDULES"]

#: When the STDP update of a winner is applied (``Rule.update``).
STDP_UPDATES = ("per_step", "end_of_image")
#: Forms of the learning-rate schedule (``Schedule.kind``).
LR_SCHEDULES = ("images", "original_steps")
#: When weight snapshots are taken (``Training.snapshot_schedule``).
SNAPSHOT_SCHEDULES = ("images", "original_steps")


def _frozen_set(obj, name, value):
    object.__setattr__(obj, name, value)


@dataclasses.dataclass(frozen=True)
class Neuron:
    """Non-leaky integrate-and-fire neurons (docs/original/stdp.md#integrate-and-fire).

    Parameters
    ----------
    threshold : float
        Firing threshold theta (15): a neuron fires at ``V >= theta``.
    strict_threshold : bool
        ``V > theta`` (the paper's wording) instead of ``>=`` (the original's code).
    threshold_jitter : float
        alpha in [0, 1]: each sample draws its threshold from ``U(theta(1-alpha),
        theta(1+alpha))``, seeded (0: constant).
    lateral_inhibition : bool
        At most one spike per position and sample, in the argmax map (True). False: every
        neuron spikes once at its first crossing.
    """

    threshold: float = 15.0
    strict_threshold: bool = False
    threshold_jitter: float = 0.0
    lateral_inhibition: bool = True

    def __post_init__(self):
        _frozen_set(self, "threshold", check_float(self.threshold, "threshold", 0, low_open=True))
        _frozen_set(self, "strict_threshold", check_bool(self.strict_threshold, "strict_threshold"))
        _frozen_set(self, "threshold_jitter",
                    check_float(self.threshold_jitter, "threshold_jitter", 0, 1))
        _frozen_set(self, "lateral_inhibition",
                    check_bool(self.lateral_inhibition, "lateral_inhibition"))


@dataclasses.dataclass(frozen=True)
class Competition:
    """Which above-threshold neurons learn (docs/original/stdp.md#competition).

    Parameters
    ----------
    window : int
        Odd side of the square window a winner blocks (11 for Conv1, 3 for Conv2).
    mode : {"greedy_all", "per_map_max"}
        The original's greedy competition over all candidates, or the paper's per-map maximum.
    """

    window: int = 11
    mode: str = "greedy_all"

    def __post_init__(self):
        window = check_int(self.window, "inhibition_window")
        if window % 2 == 0:
            raise ValueError("Expected an odd inhibition_window (the window is centred on the "
                             f"winner). Received: inhibition_window={window}.")
        _frozen_set(self, "window", window)
        check_in(self.mode, "competition", COMPETITIONS)


@dataclasses.dataclass(frozen=True)
class Rule:
    """The multiplicative STDP rule (docs/original/stdp.md#the-stdp-rule).

    Parameters
    ----------
    a_plus : float
        A+ of the first training image (0.004, the original's 0.002 after its step-0
        doubling); at most 0.5.
    a_minus_ratio : float
        A- = a_minus_ratio * A+ (0.75).
    update : {"per_step", "end_of_image"}
        Apply a winner's update within its step (the original) or at the end of the sample,
        with the causal mask of the winning step.
    """

    a_plus: float = 0.004
    a_minus_ratio: float = 0.75
    update: str = "per_step"

    def __post_init__(self):
        _frozen_set(self, "a_plus", check_float(self.a_plus, "a_plus", 0, 0.5))
        _frozen_set(self, "a_minus_ratio", check_float(self.a_minus_ratio, "a_minus_ratio", 0))
        check_in(self.update, "stdp_update", STDP_UPDATES)


@dataclasses.dataclass(frozen=True)
class Schedule:
    """How A+ grows during training (docs/original/stdp.md#learning-rate-schedule).

    Parameters
    ----------
    double_every : int or None
        Double A+ every this many training images (500); None: constant.
    a_plus_max : float or None
        Cap of A+ (0.15); None: no cap.
    kind : {"images", "original_steps"}
        Doublings at image boundaries, or the original's formula on global time steps (needs
        ``double_every``; use it with ``a_plus=0.002``).
    """

    double_every: int | None = 500
    a_plus_max: float | None = 0.15
    kind: str = "images"

    def __post_init__(self):
        _frozen_set(self, "double_every",
                    check_int(self.double_every, "lr_double_every", allow_none=True))
        _frozen_set(self, "a_plus_max",
                    check_float(self.a_plus_max, "a_plus_max", 0, 1, allow_none=True))
        check_in(self.kind, "lr_schedule", LR_SCHEDULES)
        if self.kind == "original_steps" and self.double_every is None:
            raise ValueError("lr_schedule='original_steps' needs lr_double_every (the original's "
                             "lr_inc_rate). Received: lr_double_every=None.")


@dataclasses.dataclass(frozen=True)
class Homeostasis:
    """Exclusion and decay of over-active maps (docs/original/stdp.md#homeostasis).

    Parameters
    ----------
    enabled : bool
        On (True) or off.
    block : int
        B, images per counting block (5 for Conv1).
    factor : float
        A map with more than ``B / factor`` counted wins in the block is excluded (3.0).
    decay : float
        c of the decay ``W <- W - c W (1 - W)`` of an excluded map's kernel (0.003).
    count_first_image : bool
        False (the original): wins on a block's first image are not counted. True: all are.
    """

    enabled: bool = True
    block: int = 5
    factor: float = 3.0
    decay: float = 0.003
    count_first_image: bool = False

    def __post_init__(self):
        _frozen_set(self, "enabled", check_bool(self.enabled, "homeostasis"))
        _frozen_set(self, "block", check_int(self.block, "homeostasis_block"))
        _frozen_set(self, "factor",
                    check_float(self.factor, "homeostasis_factor", 0, low_open=True))
        _frozen_set(self, "decay", check_float(self.decay, "homeostasis_decay", 0, 1))
        _frozen_set(self, "count_first_image",
                    check_bool(self.count_first_image, "homeostasis_count_first_image"))


@dataclasses.dataclass(frozen=True)
class Init:
    """Initial weights ``W ~ N(mean, std)``; draws outside (0, 1) are replaced by the mean
    (docs/original/stdp.md#initial-weights).
    """

    mean: float = 0.8
    std: float = 0.01

    def __post_init__(self):
        _frozen_set(self, "mean", check_float(self.mean, "w_init_mean", 0, 1, low_open=True))
        _frozen_set(self, "std", check_float(self.std, "w_init_std", 0))


@dataclasses.dataclass(frozen=True)
class Training:
    """Training budget of the layer and its weight-snapshot schedule
    (docs/original/stdp.md#epochs-and-snapshots).

    Parameters
    ----------
    n_images : int or None
        Training images (the first ``n_images`` of the data given to ``fit``); None: all; 0:
        not trained (keeps the given or seeded initial weights).
    epochs : int
        Passes over those images: per-sample state, the homeostasis blocks and the snapshot
        schedule restart each epoch; the learning-rate schedule continues.
    snapshot_every : int
        Weight snapshot interval in images (200), for the convergence curves.
    snapshot_schedule : {"images", "original_steps"}
        ``"images"``: the initial weights, then a copy after every ``snapshot_every`` images.
        ``"original_steps"``: the original's per-epoch step rule (after step t with
        ``t mod (T * snapshot_every - 1) == 0``, so the first copy is after step 0).
    """

    n_images: int | None = None
    epochs: int = 1
    snapshot_every: int = 200
    snapshot_schedule: str = "images"

    def __post_init__(self):
        _frozen_set(self, "n_images",
                    check_int(self.n_images, "n_images", minimum=0, allow_none=True))
        _frozen_set(self, "epochs", check_int(self.epochs, "epochs"))
        _frozen_set(self, "snapshot_every", check_int(self.snapshot_every, "snapshot_every"))
        check_in(self.snapshot_schedule, "snapshot_schedule", SNAPSHOT_SCHEDULES)


#: The groups of an STDPConv, by attribute name.
GROUPS = {"neuron": Neuron, "competition": Competition, "rule": Rule, "schedule": Schedule,
          "homeostasis": Homeostasis, "init": Init, "training": Training}

#: Flat keyword argument of ``STDPConv(...)`` -> (group attribute, field).
FLAT_OPTIONS = {
    "threshold": ("neuron", "threshold"),
    "strict_threshold": ("neuron", "strict_threshold"),
    "threshold_jitter": ("neuron", "threshold_jitter"),
    "lateral_inhibition": ("neuron", "lateral_inhibition"),
    "inhibition_window": ("competition", "window"),
    "competition": ("competition", "mode"),
    "a_plus": ("rule", "a_plus"),
    "a_minus_ratio": ("rule", "a_minus_ratio"),
    "stdp_update": ("rule", "update"),
    "lr_double_every": ("schedule", "double_every"),
    "a_plus_max": ("schedule", "a_plus_max"),
    "lr_schedule": ("schedule", "kind"),
    "homeostasis": ("homeostasis", "enabled"),
    "homeostasis_block": ("homeostasis", "block"),
    "homeostasis_factor": ("homeostasis", "factor"),
    "homeostasis_decay": ("homeostasis", "decay"),
    "homeostasis_count_first_image": ("homeostasis", "count_first_image"),
    "w_init_mean": ("init", "mean"),
    "w_init_std": ("init", "std"),
    "n_images": ("training", "n_images"),
    "epochs": ("training", "epochs"),
    "snapshot_every": ("training", "snapshot_every"),
    "snapshot_schedule": ("training", "snapshot_schedule"),
}
