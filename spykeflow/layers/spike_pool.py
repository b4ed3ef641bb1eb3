"""``SpikePool``: configuration of a spike pooling layer (reference 2.4, P1-P2)."""

from __future__ import annotations

from .._validation import check_in, check_int

__all__ = ["SpikePool"]

POOL_MODES = ("auto", "first_spike", "transient", "accumulate")


class SpikePool:
    """Max pooling of spikes (valid, ``size x size``, stride ``stride``).

    Parameters
    ----------
    size : int
        Pool size (2).
    stride : int or None
        Stride (None: ``size``).
    padding : int
        Rows/columns of silent neurons added on every side before pooling (0: valid).
    mode : {"auto", "first_spike", "transient", "accumulate"}
        P1. "auto" (default): "transient" when the pool feeds a further layer (the original's
        Conv2 input, up to 4 spikes per pool neuron) and "first_spike" when it is the last
        layer (the paper's one spike per neuron). Binarised features are identical either way.
    lateral_inhibition : bool
        P2 pool lateral inhibition: at most one spike per pool position per sample, in the map
        with the highest pooled potential (False, as in the paper's features).

    >>> SpikePool(2).resolved_mode(is_last=True), SpikePool(2).resolved_mode(is_last=False)
    ('first_spike', 'transient')
    """

    kind = "pool"

    def __init__(self, size=2, stride=None, mode="auto", lateral_inhibition=False, padding=0):
        self.size = check_int(size, "size")
        self.stride = self.size if stride is None else check_int(stride, "stride")
        self.padding = check_int(padding, "padding", minimum=0)
        self.mode = check_in(mode, "mode", POOL_MODES)
        self.lateral_inhibition = bool(lateral_inhibition)

    def resolved_mode(self, is_last):
        if self.mode != "auto":
            return self.mode
        return "first_spike" if is_last else "transient"

    def get_config(self):
        return {"size": self.size, "stride": self.stride, "mode": self.mode,
                "lateral_inhibition": self.lateral_inhibition, "padding": self.padding}

    @classmethod
    def from_config(cls, config, weights=None):
        return cls(**config)

    def __repr__(self):
        return f"SpikePool({self.size}, stride={self.stride}, mode={self.mode!r})"
