"""LIF Keras layers: currents, readouts, trainable parameters, config/.keras round trips, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from spykeflow.functional import lif as F
from spykeflow.layers.lif import LIFConv1D, LIFConv2D, LIFDense, SequenceFlatten, SequenceMaxPool


def test_dense_equals_functional_trace(rng):
    x = rng.random((2, 5, 3)).astype("float32")
    layer = LIFDense(4, beta=0.6, threshold=0.7, reset="zero", alpha=0.3, surrogate="sigmoid")
    y = layer(x).numpy()
    cur = x @ layer.kernel.numpy() + layer.bias.numpy()
    s, _ = F.lif_sequence(tf.constant(cur), F.LIFParams(beta=0.6, threshold=0.7, reset="zero",
                                                         alpha=0.3))
    np.testing.assert_array_equal(y, s.numpy())


def test_conv_currents_fold_time_into_batch(rng):
    x = rng.random((2, 4, 7, 7, 2)).astype("float32")
    layer = LIFConv2D(3, (3, 2), strides=(2, 1), padding="same")
    cur = layer.currents(x) if layer.built else (layer.build(x.shape), layer.currents(x))[1]
    for t in range(4):
        ref = tf.nn.conv2d(x[:, t], layer.kernel, strides=(2, 1), padding="SAME") + layer.bias
        np.testing.assert_allclose(cur[:, t].numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    assert layer(x).shape == (2, 4, 4, 7, 3) == layer.compute_output_shape(x.shape)
    c1 = LIFConv1D(5, 3)
    assert c1(x[:, :, 0]).shape == (2, 4, 5, 5)


def test_readouts():
    x = np.zeros((1, 4, 1), "float32")
    x[0, :, 0] = [2.0, 0.0, 2.0, 0.5]
    kw = dict(kernel_initializer="ones", use_bias=False, beta=0.5, reset="zero")
    seq = LIFDense(1, **kw)(x).numpy()[0, :, 0]
    assert seq.tolist() == [1, 0, 1, 0]
    assert float(LIFDense(1, return_sequences=False, readout="sum", **kw)(x)[0, 0]) == 2
    assert float(LIFDense(1, return_sequences=False, readout="mean", **kw)(x)[0, 0]) == 0.5
    assert float(LIFDense(1, return_sequences=False, readout="last", **kw)(x)[0, 0]) == 0
    # Non-spiking leaky integrator: v = 2, 1, 2.5, 1.75
    kw.pop("reset")
    li = dict(spiking=False, return_sequences=False, **kw)
    assert float(LIFDense(1, readout="last", **li)(x)[0, 0]) == pytest.approx(1.75)
    assert float(LIFDense(1, readout="max", **li)(x)[0, 0]) == pytest.approx(2.5)
    assert float(LIFDense(1, readout="mean", **li)(x)[0, 0]) == pytest.approx(7.25 / 4)
    np.testing.assert_allclose(
        LIFDense(1, spiking=False, **kw)(x).numpy()[0, :, 0], [2, 1, 2.5, 1.75])


def test_trainable_beta_is_clamped_and_threshold_learns(rng):
    inp = keras.Input((4, 3))
    layer = LIFDense(2, beta=0.95, train_beta=True, train_threshold=True, name="l")
    model = keras.Model(inp, LIFDense(2, spiking=False, return_sequences=False)(layer(inp)))
    assert {w.path.split("/")[-1] for w in layer.trainable_weights} == {
        "kernel", "bias", "beta", "threshold"}
    model.compile(keras.optimizers.SGD(50.0), "mse")  # a huge step pushes beta out of [0, 1]
    x = rng.random((8, 4, 3)).astype("float32") * 3
    model.fit(x, rng.normal(size=(8, 2)) * 100, epochs=2, verbose=0)
    beta = layer.beta_w.numpy()
    assert np.all((beta >= 0) & (beta <= 1))
    # Also clipped in call when assigned directly.
    layer.beta_w.assign([1.5, -0.5])
    np.testing.assert_array_equal(layer.neuron_params().beta.numpy(), [1.0, 0.0])
    # Fixed per-channel threshold: stored, not trained.
    fixed = LIFDense(2, threshold=[0.5, 2.0])
    fixed.build((None, 3, 3))
    assert fixed.threshold_w.numpy().tolist() == [0.5, 2.0]
    assert all(w is not fixed.threshold_w for w in fixed.trainable_weights)


def test_config_round_trip():
    layers = [
        LIFDense(3, beta=[0.1, 0.2, 0.3], threshold=0.5, reset="none", alpha=0.4,
                 surrogate={"name": "arctan", "alpha": 3.0}, bits=3, quant_axis="channel",
                 floor=-1.0, detach_reset=True, return_sequences=False, readout="max"),
        LIFConv2D(4, (3, 5), strides=2, padding="same", train_beta=True, quant_mode="unit",
                  bits=4),
        LIFConv1D(2, 3, spiking=False),
        SequenceMaxPool(3),
        SequenceFlatten(),
    ]
    for layer in layers:
        cfg = layer.get_config()
        clone = type(layer).from_config(cfg)
        assert clone.get_config() == cfg
    assert layers[0].get_config()["surrogate"] == {"name": "arctan", "alpha": 3.0}


def test_keras_file_round_trip_safe_mode(tmp_path, rng):
    inp = keras.Input((5, 8, 8, 2))
    h = LIFConv2D(3, 3, bits=4, train_threshold=True, floor=-1.0, reset="zero")(inp)
    h = SequenceFlatten()(SequenceMaxPool(2)(h))
    out = LIFDense(4, alpha=0.5, spiking=False, return_sequences=False, readout="last")(h)
    model = keras.Model(inp, out)
    x = (rng.random((3, 5, 8, 8, 2)) < 0.4).astype("float32")
    y = model(x).numpy()
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded(x).numpy(), y, rtol=1e-6)


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="beta"):
        LIFDense(2, beta=1.5)
    with pytest.raises(ValueError, match="threshold"):
        LIFDense(2, threshold=0.0)
    with pytest.raises(ValueError, match="reset"):
        LIFDense(2, reset="soft")
    with pytest.raises(ValueError, match="readout"):
        LIFDense(2, readout="median")
    with pytest.raises(ValueError, match="units"):
        LIFDense(0)
    with pytest.raises(ValueError, match="floor"):
        LIFDense(2, floor=1.0)
    with pytest.raises(ValueError, match="kernel_size"):
        LIFConv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        LIFConv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="surrogate"):
        LIFDense(2, surrogate="nope")
    with pytest.raises(ValueError, match="one per channel"):
        LIFDense(2, threshold=[1.0, 1.0, 1.0])(np.zeros((1, 2, 3), "float32"))
    with pytest.raises(ValueError, match=r"rank 5 \(N, T, H, W, C\)"):
        LIFConv2D(2, 3)(np.zeros((1, 4, 8, 8), "float32"))
    with pytest.raises(ValueError, match="rank 3"):
        LIFDense(2)(np.zeros((4, 3), "float32"))
    with pytest.raises(ValueError, match="at least one time step"):
        LIFDense(2)(np.zeros((1, 0, 3), "float32"))
    with pytest.raises(ValueError, match="does not fit"):
        LIFConv2D(2, 5)(np.zeros((1, 2, 3, 3, 1), "float32"))


@pytest.mark.parametrize("make", [
    lambda remat: LIFDense(4, alpha=0.5, train_alpha=True, train_beta=True, train_threshold=True,
                           reset="zero", floor=-1.0, bits=4, remat=remat),
    lambda remat: LIFConv2D(3, 3, strides=2, padding="same", detach_reset=True, remat=remat),
    lambda remat: LIFDense(2, spiking=False, alpha=0.5, train_beta=True, return_sequences=False,
                           readout="last", remat=remat),
], ids=["dense", "conv2d", "li"])
def test_remat_layer_same_outputs_and_weight_gradients(make, rng):
    plain, remat = make(False), make(True)
    x = rng.random((2, 6, 5, 5, 2) if isinstance(plain, LIFConv2D) else (2, 6, 3)) * 1.5
    x = tf.constant(x.astype("float32"))
    plain(x), remat(x)
    remat.set_weights(plain.get_weights())
    results = []
    for layer in (plain, remat):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            weight = tf.reshape(tf.cos(tf.range(tf.size(y), dtype=tf.float32)), y.shape)
            loss = tf.reduce_sum(y * weight)
        grads = tape.gradient(loss, [x] + layer.trainable_weights)
        results.append([y.numpy()] + [g.numpy() for g in grads])
    assert len(results[0]) == 2 + len(plain.trainable_weights)
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)
    assert remat.get_config()["remat"] is True and plain.get_config()["remat"] is False
    assert type(remat).from_config(remat.get_config()).remat is True
    with pytest.raises(TypeError, match="remat"):
        LIFDense(2, remat=1)
