"""Quantisation: at most 2^b levels, straight-through gradient, integer export, float/quantised
copies."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from spykeflow.functional import quantize as Q
from spykeflow.layers.lif import LIFConv2D, LIFDense
from spykeflow.layers.quantize import export_quantized, with_bits


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
@pytest.mark.parametrize("axis", [None, -1])
def test_at_most_2_pow_b_levels(bits, axis, rng):
    w = tf.constant(rng.normal(size=(5, 5, 3, 6)).astype("float32"))
    wq = Q.fake_quantize(w, bits, axis=axis).numpy()
    q, s = Q.quantize_int(w, bits, axis=axis)
    q = q.numpy()
    assert np.abs(q).max() <= 2 ** (bits - 1) - 1
    if axis is None:
        assert np.unique(wq).size <= 2**bits
    else:
        for c in range(w.shape[-1]):
            assert np.unique(wq[..., c]).size <= 2**bits
            assert np.abs(q[..., c]).max() == 2 ** (bits - 1) - 1  # max weight hits q_max
    np.testing.assert_allclose(wq, q * s.numpy(), rtol=1e-6)
    # Round to nearest: error at most half a step.
    step = s.numpy()
    assert np.all(np.abs(wq - w.numpy()) <= step / 2 + 1e-6)


def test_hand_values_and_unit_mode():
    w = tf.constant([-0.9, -0.3, 0.05, 0.5, 0.6])
    q, s = Q.quantize_int(w, 3)
    assert q.numpy().tolist() == [-3, -1, 0, 2, 2] and float(s) == pytest.approx(0.3)
    # "unit": fixed grid step 1/q_max on [-1, 1], values beyond clipped.
    q, s = Q.quantize_int(tf.constant([-2.0, 0.2, 0.5, 1.5]), 3, mode="unit")
    assert q.numpy().tolist() == [-3, 1, 2, 3] and float(s) == pytest.approx(1 / 3)
    # An all-zero tensor quantises to zeros (no division by zero).
    assert np.all(Q.fake_quantize(tf.zeros(4), 4).numpy() == 0)


def test_gradient_passes_straight_through(rng):
    w = tf.Variable(rng.normal(size=(4, 3)).astype("float32") * 2)
    up = tf.constant(rng.normal(size=(4, 3)).astype("float32"))
    for mode in ("max", "unit"):  # identity also where "unit" clips
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(Q.fake_quantize(w, 4, mode=mode) * up)
        np.testing.assert_allclose(tape.gradient(loss, w).numpy(), up.numpy())


def test_bits_validation():
    with pytest.raises(ValueError, match="bits"):
        Q.check_bits(1)
    with pytest.raises(TypeError, match="bits"):
        Q.check_bits(4.0)
    with pytest.raises(ValueError, match="mode"):
        Q.scale_of(tf.ones(2), 4, mode="log")


def _model(bits, quant_axis="layer"):
    inp = keras.Input((3, 6, 6, 1))
    h = LIFConv2D(3, 3, bits=bits, quant_axis=quant_axis, name="c", threshold=0.2,
                  kernel_initializer=keras.initializers.RandomNormal(stddev=1.0, seed=1))(inp)
    h = keras.layers.Reshape((3, -1))(h)
    out = LIFDense(2, bits=bits, quant_axis=quant_axis, spiking=False, return_sequences=False,
                   name="d", kernel_initializer=keras.initializers.RandomNormal(seed=2))(h)
    return keras.Model(inp, out)


def test_layer_forward_uses_quantised_kernel(rng):
    model = _model(4)
    x = rng.random((2, 3, 6, 6, 1)).astype("float32")
    dense = model.get_layer("d")
    exported = export_quantized(model)
    for name in ("c", "d"):
        e = exported[name]
        assert e["kernel_int"].dtype == np.int8 and e["bits"] == 4
        assert np.unique(e["kernel_int"]).size <= 16
        np.testing.assert_allclose(e["kernel_int"] * e["scale"],
                                   model.get_layer(name).quantized_kernel().numpy(), rtol=1e-6)
    # The float copy shares the weights but computes with the latent kernel.
    fmodel = with_bits(model, None)
    assert fmodel.get_layer("d").bits is None
    np.testing.assert_array_equal(fmodel.get_layer("d").kernel.numpy(), dense.kernel.numpy())
    yq, yf = model(x).numpy(), fmodel(x).numpy()
    assert np.abs(yq).max() > 0 and not np.allclose(yq, yf)
    # Rebuilding the float model with bits=4 gives the quantised outputs back.
    np.testing.assert_allclose(with_bits(fmodel, 4)(x).numpy(), yq, rtol=1e-5, atol=1e-6)
    # Per-channel export: one scale per output channel.
    ch = export_quantized(_model(4, "channel"))
    assert ch["c"]["scale"].shape == (3,) and ch["d"]["scale"].shape == (2,)
    # A float model exports only when a bit width is given.
    assert export_quantized(fmodel) == {}
    assert set(export_quantized(fmodel, bits=3)) == {"c", "d"}
