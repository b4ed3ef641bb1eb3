"""Conformance cases: the s2net layers, the s2net backend's model and the audio front end."""

import keras
import numpy as np
from harness import case, forward_and_grads, rng, saved_model, set_fixed_weights, to_numpy

from spykeflow.backends.s2net import S2NetBackend
from spykeflow.functional import audio
from spykeflow.functional import s2net as F
from spykeflow.layers.s2net import S2NetConv1D, S2NetConv2D, S2NetDense, S2NetReadout


def _x(shape, seed=1, scale=2.0):
    """Real-valued inputs, about half of them zero (sparse like spike trains)."""
    r = rng(seed)
    keep = r.random(shape) < 0.6
    return (keep * r.standard_normal(shape) * scale).astype("float32")


def _fixed(layer, shape, seed=0):
    """Build, fix every weight; thresholds positive (b ~ 0.3 ... 1.3) so neurons can stay
    silent, and the dynamics are exercised both ways."""
    layer.build(shape)
    set_fixed_weights(layer, seed=seed)
    if getattr(layer, "threshold", None) is not None:
        c = layer.threshold.shape[0]
        layer.threshold.assign(np.linspace(0.3, 1.3, c).astype("float32"))
    return layer


def _active(out):
    """``out`` after checking that its spikes are neither all 0 nor all 1 (a case without
    activity, or with saturated activity, would test little)."""
    rate = float(np.mean(out["forward"]))
    assert 0.0 < rate < 1.0, rate
    return out


@case
def s2net_dense_lateral_recurrent():
    x = _x((2, 5, 3))
    layer = _fixed(S2NetDense(4, recurrent=True, seed=0), x.shape)
    out = _active(forward_and_grads(layer, x))
    spikes, potentials = layer.run(x)  # the analysis path: spikes and membrane potentials
    out["run_spikes"], out["run_potentials"] = to_numpy(spikes), to_numpy(potentials)
    return out


@case
def s2net_dense_self_reset():
    x = _x((3, 6, 4), seed=2)
    layer = _fixed(S2NetDense(3, lateral=False, beta=0.5, surrogate="fast_sigmoid",
                              train_beta=False, seed=0), x.shape)
    return _active(forward_and_grads(layer, x))


@case
def s2net_conv1d_causal_dilated():
    x = _x((2, 6, 7, 2), seed=3)
    layer = _fixed(S2NetConv1D(3, (3, 3), dilation_rate=(2, 1), padding="valid",
                               recurrent=True, spike_regularization=0.2, seed=0), x.shape)
    out = _active(forward_and_grads(layer, x))
    layer(x)
    out["regulariser"] = np.asarray(to_numpy(layer.losses[0]), "float32")
    return out


@case
def s2net_conv1d_same_clipped():
    # a small gradient clip that is active: the clipped gradients must agree too
    x = _x((2, 5, 8, 1), seed=4)
    layer = _fixed(S2NetConv1D(4, (2, 3), dilation_rate=(1, 3), padding="same",
                               gradient_clip=0.05, seed=0), x.shape)
    out = _active(forward_and_grads(layer, x))
    assert np.isclose(np.abs(out["grad_w0"]).max(), 0.05), "the clip should be active"
    return out


@case
def s2net_conv2d():
    x = _x((1, 4, 5, 5, 2), seed=5)
    layer = _fixed(S2NetConv2D(2, (2, 3, 3), padding="same", seed=0), x.shape)
    return _active(forward_and_grads(layer, x))


@case
def s2net_readout():
    x = _x((2, 4, 3, 2), seed=6)
    layer = _fixed(S2NetReadout(3, gradient_clip=5.0, seed=0), x.shape)
    return forward_and_grads(layer, x)


@case
def s2net_functional():
    # the functional API alone: Gram matrix, one step from a given state, the scan
    kernel = rng(7).standard_normal((2, 3, 2, 4)).astype("float32") * 0.5
    p = F.s2net_params(kernel, beta=0.6, threshold=np.linspace(0.5, 1.0, 4), lateral=True)
    spike = F.surrogate.get("sigmoid", scale=10.0)
    currents = _x((2, 5, 3, 4), seed=8)
    state = F.S2NetState(u=keras.ops.convert_to_tensor(currents[:, 0]),
                         s=keras.ops.convert_to_tensor((currents[:, 1] > 0).astype("float32")))
    s1, st = F.s2net_step(currents[:, 2], state, p, spike)
    spikes, potentials = F.s2net_scan(currents, p, spike, return_potentials=True)
    return {"gram": to_numpy(p.gram), "norm": to_numpy(p.norm), "step_spikes": to_numpy(s1),
            "step_u": to_numpy(st.u), "spikes": to_numpy(spikes),
            "potentials": to_numpy(potentials),
            "spike_count_loss": np.asarray(to_numpy(F.spike_count_loss(spikes)))}


def _backend_model(seed=0):
    backend = S2NetBackend(filters=(3, 4), kernel_sizes=[(2, 3), (2, 3)],
                           dilations=[(1, 1), (2, 2)])
    model = backend.build_model((6, 12, 2), 3, seed=seed)
    set_fixed_weights(model, seed=seed, scale=0.3)
    for layer, b in zip(backend.spiking_layers(model), (0.5, 0.05)):
        layer.threshold.assign(np.full(layer.threshold.shape, b, "float32"))
    return backend, model


@case
def s2net_backend_model():
    backend, model = _backend_model()
    x = _x((2, 6, 12, 2), seed=9)
    out = forward_and_grads(model, x)
    rates = backend.firing_rates(model, x, batch_size=2)
    out["firing_rates_hz"] = np.array(list(rates.values()), "float32")
    assert np.all(out["firing_rates_hz"] > 0), rates
    return out


@saved_model
def s2net_backend_saved():
    _, model = _backend_model()
    return model, _x((2, 6, 12, 2), seed=10)


@case
def audio_features():
    # host preprocessing in numpy: the same numbers whatever the backend, also when it is
    # handed backend tensors
    sr = 8000
    t = np.arange(int(0.3 * sr)) / sr
    chirp = np.sin(2 * np.pi * (300 * t + 3000 * t * t)) * np.hanning(len(t))
    noise = rng(11).normal(scale=1e-3, size=4000)
    wave = np.concatenate([np.zeros(1200), chirp, np.zeros(2000)]) + np.resize(noise, 5600)
    wave = wave.astype("float32")
    feats = audio.log_mel_features(keras.ops.convert_to_tensor(wave))
    np.testing.assert_array_equal(feats, audio.log_mel_features(wave))
    batch = audio.features_array([wave, chirp.astype("float32")], length=40, align="center",
                                 trim_db=40.0)
    augmented = audio.augment_features(keras.ops.convert_to_tensor(batch), seed=(3, 1),
                                       max_shift=2, time_masks=1, max_time_mask=4,
                                       freq_masks=1, max_freq_mask=3, noise_std=0.1)
    return {"log_mel": audio.log_mel_spectrogram(wave), "features": feats,
            "trimmed_length": np.asarray(len(audio.trim_silence(wave))),
            "batch": batch, "augmented": augmented}


@case(cross_backend=False)
def s2net_fit_tiny():
    # a short seeded training run: must repeat exactly on one backend (the random
    # initialisation differs between backends)
    from spykeflow import Classifier

    r = rng(12)
    y = np.repeat(np.arange(2), 6)
    x = _x((12, 6, 8, 2), seed=13) + y[:, None, None, None].astype("float32")
    clf = Classifier("s2net", backend_params={"filters": [3], "kernel_sizes": [(2, 3)],
                                              "dilations": [(1, 1)], "threshold": 0.5},
                     epochs=2, batch_size=4, learning_rate=1e-2, validation_split=0.0,
                     seed=3, progress=False)
    clf.fit(x, y)
    weights = {f"w{i}": w for i, w in enumerate(clf.model_.get_weights())}
    return {**weights, "logits": clf.decision_scores(x[r.permutation(12)[:4]])}
