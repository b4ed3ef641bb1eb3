"""Registry behaviour of spykeflow.functional.surrogate (gradient formulas: tests/bptt)."""

import numpy as np
import pytest
import tensorflow as tf

from spykeflow.functional import surrogate


@pytest.mark.parametrize("name", surrogate.available())
def test_forward_is_heaviside(name):
    x = tf.constant([-2.0, -1e-6, 0.0, 1e-6, 3.0])
    np.testing.assert_array_equal(surrogate.get(name)(x).numpy(), [0, 0, 1, 1, 1])


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="Expected one of .*gaussian"):
        surrogate.get("nope")


def test_bad_parameters():
    with pytest.raises(ValueError, match="unknown"):
        surrogate.get("gaussian", scale=3.0)
    with pytest.raises(ValueError, match="sigma > 0"):
        surrogate.get("gaussian", sigma=0.0)
    with pytest.raises(ValueError, match="lo < hi"):
        surrogate.get("box", lo=0.2, hi=0.1)
    with pytest.raises(TypeError, match="surrogate name"):
        surrogate.get(3)


def test_config_round_trip_and_aliases():
    s = surrogate.get("sg1")
    assert s.get_config() == {"name": "box", "lo": 0.0, "hi": 0.125, "inclusive": True}
    assert surrogate.get(s.get_config()) == s
    assert surrogate.get("gaussian", sigma=1 / 6).params["sigma"] == pytest.approx(1 / 6)
    assert surrogate.get(surrogate.get("sigmoid"), scale=5.0).params == {"scale": 5.0}


def test_sg1_window_is_inclusive_and_sg2_is_heaviside():
    x = tf.constant([-0.01, 0.0, 0.06, 0.125, 0.13])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y1 = surrogate.get("sg1")(x)
        y2 = surrogate.get("sg2")(x)
    np.testing.assert_array_equal(tape.gradient(y1, x).numpy(), [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(tape.gradient(y2, x).numpy(), [0, 1, 1, 1, 1])
    half_open = surrogate.get("box", inclusive=False).derivative(x).numpy()
    np.testing.assert_array_equal(half_open, [0, 1, 1, 0, 0])


def test_integer_input_is_cast_and_float64_kept():
    assert surrogate.get("gaussian")(tf.constant([1, -1])).dtype == tf.float32
    assert surrogate.get("gaussian")(tf.constant([1.0], tf.float64)).dtype == tf.float64
