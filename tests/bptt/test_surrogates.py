"""Every surrogate's forward is the Heaviside step and its gradient equals its documented
formula."""

import math

import numpy as np
import pytest
import tensorflow as tf

from spykeflow.functional import surrogate

X = np.array([-2.0, -0.7, -0.25, -0.0625, 0.0, 0.0625, 0.125, 0.2, 0.5, 1.3], np.float32)


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


# Independent numpy formulas (the table in spykeflow/functional/surrogate.py).
FORMULAS = {
    "gaussian": lambda x, sigma: np.exp(-x**2 / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi)),
    "sigmoid": lambda x, scale: scale * _sig(scale * x) * (1 - _sig(scale * x)),
    "fast_sigmoid": lambda x, scale: 1.0 / (1.0 + scale * np.abs(x)) ** 2,
    "rectangular": lambda x, width: (np.abs(x) < width / 2) / width,
    "box": lambda x, lo, hi, inclusive: (x >= lo) & ((x <= hi) if inclusive else (x < hi)),
    "heaviside": lambda x: (x >= 0).astype(np.float32),
    "triangular": lambda x, width: np.maximum(0.0, 1 - np.abs(x) / width) / width,
    "arctan": lambda x, alpha: alpha / (2 * (1 + (math.pi / 2 * alpha * x) ** 2)),
    "straight_through": lambda x: np.ones_like(x),
}
# Non-default parameters for each entry (the defaults are tested too).
CUSTOM = {
    "gaussian": {"sigma": 1 / 6},
    "sigmoid": {"scale": 3.0},
    "fast_sigmoid": {"scale": 2.0},
    "rectangular": {"width": 0.5},
    "box": {"lo": -0.0625, "hi": 0.2, "inclusive": False},
    "heaviside": {},
    "triangular": {"width": 0.6},
    "arctan": {"alpha": 4.0},
    "straight_through": {},
}


def test_every_registry_entry_has_a_formula_here():
    names = {surrogate.get(n).name for n in surrogate.available()}
    missing = names - set(FORMULAS)
    assert not missing, f"add the documented formula of {sorted(missing)} to this test"


def _grad(sur, x):
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = sur(xv)
        loss = tf.reduce_sum(y * tf.constant(np.arange(1, x.size + 1, dtype=np.float32)))
    return y.numpy(), tape.gradient(loss, xv).numpy()


@pytest.mark.parametrize("name", surrogate.available())
@pytest.mark.parametrize("custom", [False, True])
def test_gradient_equals_formula(name, custom):
    base = surrogate.get(name)
    params = CUSTOM[base.name] if custom else {}
    sur = surrogate.get(name, **params)
    y, g = _grad(sur, X)
    np.testing.assert_array_equal(y, (X >= 0).astype(np.float32), err_msg=f"{name} forward")
    expected = FORMULAS[sur.name](X, **sur.params).astype(np.float32)
    upstream = np.arange(1, X.size + 1, dtype=np.float32)  # chain rule: upstream * g(x)
    np.testing.assert_allclose(g, upstream * expected, rtol=1e-5, atol=1e-7,
                               err_msg=f"{name} {sur.params}")


def test_published_settings():
    assert surrogate.get("sg1").params == {"lo": 0.0, "hi": 0.125, "inclusive": True}
    assert surrogate.get("superspike").name == "fast_sigmoid"
    assert surrogate.get("ste").name == "straight_through"
    # STS: N(threshold, 1/6) -> a Gaussian of sigma 1/6 on u - threshold, peak 6/sqrt(2 pi).
    g = surrogate.get("gaussian", sigma=1 / 6).derivative(tf.constant(0.0))
    assert float(g) == pytest.approx(6 / math.sqrt(2 * math.pi), rel=1e-6)


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="gaussian"):
        surrogate.get("gausian")
