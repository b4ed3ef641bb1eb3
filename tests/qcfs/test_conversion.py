"""ANN -> SNN conversion: exactness at T = L, convergence, BN folding, pooling, errors, events."""

import keras
import numpy as np
import pytest

from spykeflow.conversion import convert
from spykeflow.functional import qcfs as F
from spykeflow.layers.qcfs import QCFS


def _one_layer(w, b, theta, levels, readout):
    k, n = w.shape
    model = keras.Sequential([
        keras.Input((k,)), keras.layers.Dense(n), QCFS(levels=levels, threshold=theta),
        keras.layers.Dense(readout.shape[1], use_bias=False)])
    model.set_weights([w, b, np.array(theta, "float32"), readout])
    return model


def _np(x):
    return keras.ops.convert_to_numpy(x)


def test_exact_equality_at_T_equals_L_one_layer():
    # Theory (functional.qcfs.if_spike_count): with a constant input current z, phi = 0.5 and
    # v(0) = theta / 2, an IF neuron fires clip(floor(T z / theta + 1/2), 0, T) times in T steps,
    # so its mean output at T = L is exactly theta * clip(floor(z L / theta + 1/2) / L, 0, 1),
    # the QCFS activation; the linear read-out then reproduces the ANN logits exactly.
    # Dyadic weights / inputs keep float32 arithmetic exact, including the floor edges.
    rng = np.random.default_rng(3)
    theta, levels = 2.0, 8
    w = (rng.integers(-2, 3, (6, 5)) / 4).astype("float32")
    b = (rng.integers(-2, 3, 5) / 8).astype("float32")
    r = (rng.integers(-8, 9, (5, 3)) / 8).astype("float32")
    model = _one_layer(w, b, theta, levels, r)
    x = (rng.integers(0, 5, (64, 6)) / 4).astype("float32")
    z = x @ w + b
    edges = np.isclose((z * levels / theta + 0.5) % 1, 0)  # currents exactly on a step edge
    assert edges.sum() > 10, "test inputs should hit the floor edges"
    snn = convert(model)
    out = snn.simulate(x, 2 * levels, record=[levels, levels - 1, 2 * levels])
    ann = _np(model(x))
    np.testing.assert_array_equal(out[0], ann)
    # ... and not at other T (the quantisation grid differs)
    assert np.abs(out[1] - ann).max() > 0.05 and np.abs(out[2] - ann).max() > 0.05


def test_rates_equal_qcfs_with_L_equal_T_for_every_T():
    rng = np.random.default_rng(4)
    theta = 1.0
    w = (rng.integers(-8, 9, (4, 6)) / 16).astype("float32")
    b = np.zeros(6, "float32")
    model = _one_layer(w, b, theta, 4, np.eye(6, dtype="float32"))
    x = (rng.integers(0, 17, (32, 4)) / 16).astype("float32")
    record = list(range(1, 21))
    out = convert(model).simulate(x, 20, record=record)
    z = x @ w + b
    for k, t in enumerate(record):
        np.testing.assert_allclose(out[k], _np(F.qcfs(z, theta, t)), rtol=1e-6, atol=1e-7)


def _tiny_deep(seed):
    rng = np.random.default_rng(seed)
    model = keras.Sequential([
        keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3, padding="same"), QCFS(4, threshold=1.0),
        keras.layers.AveragePooling2D(2), keras.layers.Flatten(), keras.layers.Dense(8),
        QCFS(4, threshold=1.5), keras.layers.Dense(3)])
    model.set_weights([w if w.ndim == 0 else rng.normal(0, 0.5, w.shape).astype("float32")
                       for w in model.get_weights()])
    return model, rng.uniform(0, 1, (40, 6, 6, 1)).astype("float32")


def test_snn_converges_as_T_grows():
    model, x = _tiny_deep(5)
    snn = convert(model)
    ann = _np(model(x))
    record = [1, 4, 16, 64, 256, 1024]
    out = snn.simulate(x, 1024, record=record)
    err_ann = [np.abs(o - ann).mean() for o in out]
    # As T -> inf each IF layer's rate tends to theta * clip(mean input / theta, 0, 1): the
    # network with clipped (not quantised) activations, at O(1/T).
    orig = F.qcfs
    try:
        F.qcfs = lambda z, th, L, phi: th * keras.ops.clip(z / th, 0.0, 1.0)
        clip_net = snn.analog(x)
    finally:
        F.qcfs = orig
    err_clip = [np.abs(o - clip_net).mean() for o in out]
    assert all(a > b for a, b in zip(err_clip, err_clip[1:])), err_clip
    assert err_clip[-1] < 0.02 * err_clip[0], err_clip
    # so the distance to the quantised ANN shrinks to the quantisation error and the
    # predicted classes agree
    gap = np.abs(clip_net - ann).mean()
    assert abs(err_ann[-1] - gap) <= err_clip[-1] + 1e-6, (err_ann, gap)
    assert err_ann[-1] < err_ann[0] / 3, err_ann
    assert (out[-1].argmax(1) == ann.argmax(1)).mean() >= 0.9


def test_batchnorm_folding_preserves_outputs():
    rng = np.random.default_rng(6)
    model = keras.Sequential([
        keras.Input((8, 8, 2)), keras.layers.Conv2D(3, 3), keras.layers.BatchNormalization(),
        QCFS(8, threshold=1.0), keras.layers.AveragePooling2D(2),
        keras.layers.Conv2D(4, 3, use_bias=False, padding="same"),
        keras.layers.BatchNormalization(center=False, epsilon=0.01), QCFS(8, threshold=2.0),
        keras.layers.Flatten(), keras.layers.Dropout(0.5), keras.layers.Dense(5),
        keras.layers.BatchNormalization(scale=False), keras.layers.Activation("linear")])
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 2.0, w.shape).astype("float32")
                               if "variance" in w.path or "gamma" in w.path
                               else rng.normal(0, 0.5, w.shape).astype("float32")
                               for w in layer.weights])
    x = rng.uniform(0, 1, (16, 8, 8, 2)).astype("float32")
    snn = convert(model)
    assert [op["kind"] for op in snn.describe()] == [
        "conv", "if", "avgpool", "conv", "if", "flatten", "dense"]
    ref = _np(model(x, training=False))
    # away from the quantisation edges folding is exact up to float rounding
    np.testing.assert_allclose(snn.analog(x), ref, rtol=1e-4, atol=1e-4)


def test_batchnorm_not_after_linear_layer_is_rejected():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.AveragePooling2D(2),
                              keras.layers.BatchNormalization(), keras.layers.Flatten()])
    with pytest.raises(ValueError, match="BatchNormalization.*directly after"):
        convert(model)


def test_unsupported_layer_error_names_it_and_lists_supported():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.UpSampling2D(2),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"UpSampling2D.*Supported layers: .*Conv2D.*QCFS"):
        convert(model)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="tanh")])
    with pytest.raises(ValueError, match="activation 'tanh'"):
        convert(model)


def test_relu_needs_calibration_and_uses_percentile_thresholds():
    rng = np.random.default_rng(7)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(8), keras.layers.ReLU(), keras.layers.Dense(2)])
    x = rng.uniform(0, 1, (300, 5)).astype("float32")
    with pytest.raises(ValueError, match="calibration="):
        convert(model)
    h1 = np.maximum(_np(model.layers[0](x)), 0)
    h2 = np.maximum(_np(model.layers[1](h1)), 0)
    for pct in (100.0, 99.0):
        snn = convert(model, calibration=x, percentile=pct)
        np.testing.assert_allclose(snn.thresholds, [np.percentile(h1[h1 > 0], pct),
                                                    np.percentile(h2[h2 > 0], pct)], rtol=1e-5)
    # max-normalised: no activation exceeds the threshold, so the rates converge to the ReLU net
    snn = convert(model, calibration=x, percentile=100.0)
    ref = _np(model(x[:50]))
    out = snn.simulate(x[:50], 2000, record=[20, 2000])
    assert np.abs(out[1] - ref).mean() < 0.1 * np.abs(out[0] - ref).mean() + 1e-3


def test_max_pool_gate_passes_the_unit_with_highest_accumulated_input():
    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.MaxPooling2D(2),
                              keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    model.set_weights([np.ones((1, 1), "float32")])
    # unit A: 1, 0, 1, 0 (rate 0.5); unit B: 0, 0.4, 0, 0.4 (rate 0.2); others 0
    frames = np.zeros((1, 4, 2, 2, 1), "float32")
    frames[0, ::2, 0, 0, 0] = 1.0
    frames[0, 1::2, 1, 1, 0] = 0.4
    out = convert(model).simulate(frames, 4)[0, 0, 0]
    assert out == pytest.approx(0.5)  # the max rate; a per-step max would give 0.7
    with pytest.raises(ValueError, match="MaxPooling2D.*max_pool='error'"):
        convert(model, max_pool="error")


def test_static_input_equals_constant_frame_sequence():
    model, x = _tiny_deep(8)
    snn = convert(model)
    a = snn.simulate(x[:5], 12, record=[3, 12])
    seq = np.repeat(x[:5, None] / 4.0, 3, axis=1)  # 3 frames, scale 4, cycled
    b = snn.simulate(seq, 12, record=[3, 12], input_scale=4.0)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_simulate_validates_arguments():
    model, x = _tiny_deep(9)
    snn = convert(model)
    with pytest.raises(ValueError, match="record"):
        snn.simulate(x, 4, record=[0, 5])
    with pytest.raises(ValueError, match=r"x.shape=\(3, 5\)"):
        snn.simulate(np.zeros((3, 5)), 4)
    with pytest.raises(TypeError, match="time_steps"):
        snn.simulate(x, 2.5)


def test_uint8_event_counts_are_scaled_inside_the_loop():
    model, _ = _tiny_deep(10)
    snn = convert(model)
    counts = np.random.default_rng(0).integers(0, 3, (7, 5, 6, 6, 1)).astype(np.uint8)
    a = snn.simulate(counts, 9, record=[2, 9], input_scale=0.5, batch_size=4)
    b = snn.simulate(counts.astype("float32") * 0.5, 9, record=[2, 9], batch_size=4)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
