"""Conformance cases: the surrogate spike functions."""

from harness import case, rng, to_numpy

from spykeflow.functional import surrogate


@case
def surrogate_all():
    x = rng(1).uniform(-1.5, 1.5, size=(64,)).astype("float32")
    out = {}
    for name in surrogate.available():
        spike = surrogate.get(name)
        out[f"{name}_forward"] = to_numpy(spike(x))
        out[f"grad_{name}"] = to_numpy(spike.derivative(x))
    return out
