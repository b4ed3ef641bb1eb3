"""sts_convsnn and sts_resnet: structure, hand-computed forward pass, one training step, the
switch during fit, save/load, input validation."""

import keras
import numpy as np
import pytest

from spykeflow import backends
from spykeflow.backends.sts import RateMSE
from spykeflow.layers.sts import STSSwitch, STSSynapse, get_mode, set_mode


def _resnet(t=3, size=16, width=2, n_classes=4, **kw):
    backend = backends.get("sts_resnet", base_width=width, **kw)
    return backend, backend.build_model((t, size, size), n_classes, seed=0)


def test_resnet_structure_layers_and_block_skips():
    _, model = _resnet()
    convs = [ly for ly in model.layers if ly.name.startswith("conv")]
    shortcuts = [ly for ly in model.layers if ly.name.startswith("shortcut")]
    synapses = [ly for ly in model.layers if isinstance(ly, STSSynapse)]
    drops = [ly for ly in model.layers if isinstance(ly, keras.layers.Dropout)]
    # 1 stem conv + 4 blocks x 2 sub-blocks x 2 convs + the FC output = 18 layers
    assert len(convs) == 17 and model.get_layer("output").units == 4
    assert len(shortcuts) == 3                     # projections where the width/stride changes
    assert len(synapses) == 1 + 17                 # input synapse + one after every conv layer
    assert len(drops) == 8                         # one inside every sub-block
    # 16x16 input: block3 at 4x4 (4w channels), block4 at 2x2 (8w); block3 pooled to 2x2 and
    # concatenated with block4 at the input of the final average pooling.
    assert tuple(model.get_layer("syn13_b3s2").output.shape) == (None, 3, 4, 4, 8)
    assert tuple(model.get_layer("syn17_b4s2").output.shape) == (None, 3, 2, 2, 16)
    concat = model.get_layer("block_skips")
    parents = [t._keras_history.operation.name for t in concat._inbound_nodes[0].input_tensors]
    assert parents == ["skip_pool_b3", "syn17_b4s2"]
    assert tuple(concat.output.shape) == (None, 3, 2, 2, 24)
    assert tuple(model.get_layer("avg_pool").output.shape) == (None, 3, 24)
    out = model(np.random.default_rng(0).random((2, 3, 16, 16)).astype("float32"))
    assert out.shape == (2, 4)
    assert np.all((out.numpy() * 3) % 1 == 0)      # fire rates over T = 3 steps


def test_resnet_trains_one_step_in_both_modes():
    backend, model = _resnet(t=2, size=8)
    # eager: tracing the 18 scans' gradient graph costs more than running one tiny step
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=backend.loss(), run_eagerly=True)
    rng = np.random.default_rng(1)
    x = rng.random((4, 2, 8, 8)).astype("float32")
    y = np.array([0, 1, 2, 3])
    before = [w.numpy().copy() for w in model.trainable_weights]
    for mode in ("ann", "snn"):
        set_mode(model, mode)
        loss = model.train_on_batch(x, y)
        assert np.isfinite(loss)
    changed = sum(not np.array_equal(a, w.numpy()) for a, w in zip(before, model.trainable_weights))
    # most kernels/biases moved (a few units can be silent on 4 random clips)
    assert changed >= 0.8 * len(before)


def test_convsnn_hand_computed_fire_rate():
    backend = backends.get("sts_convsnn", filters=(2, 2), rest=False)
    model = backend.build_model((4, 8, 8), 3, seed=0)
    for layer in model.layers:                     # zero all weights, then drive class 0 by bias
        for w in layer.trainable_weights:
            w.assign(np.zeros(w.shape, "float32"))
    bias = model.get_layer("output").bias
    bias.assign([0.3, 0.0, 0.6])
    x = np.ones((1, 4, 8, 8), "float32")
    # U = 0.3, 0.45, 0.525, 0.5625 -> spikes 0, 0, 1, 1 (rate 0.5); 0.6 every step -> rate 1
    np.testing.assert_allclose(model(x).numpy(), [[0.5, 0.0, 1.0]])
    rested = backends.get("sts_convsnn", filters=(2, 2), rest=True).build_model((4, 8, 8), 3, 0)
    for dst, src in zip(rested.trainable_weights, model.trainable_weights):
        dst.assign(src)              # (set_weights would also copy the switch variables)
    # with rest: U = 0.3, 0.45, 0.525 (spike, rest) -> 0.3 => spikes 0, 0, 1, 0 (rate 0.25)
    np.testing.assert_allclose(rested(x).numpy(), [[0.25, 0.0, 1.0]])


def test_switch_happens_at_configured_epoch_during_fit():
    backend = backends.get("sts_convsnn", filters=(2,), switch_epoch=2)
    model = backend.build_model((3, 6, 6), 2, seed=0)
    model.compile(optimizer="adam", loss=backend.loss())
    seen = []

    class Probe(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                seen.append(get_mode(self.model))

    x = np.random.default_rng(0).random((8, 3, 6, 6)).astype("float32")
    y = np.array([0, 1] * 4)
    hist = model.fit(x, y, epochs=4, batch_size=4, verbose=0,
                     callbacks=backend.callbacks() + [Probe()])
    assert seen == ["ann", "ann", "snn", "snn"]
    assert hist.history["sts_snn"] == [0.0, 0.0, 1.0, 1.0]
    assert backend._switch.snn_epochs == [0.0, 0.0, 1.0, 1.0]
    assert backend._switch.switched_at == 2
    # switch_epoch=None: half of the epochs
    switch = STSSwitch(None)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[switch])
    assert switch.switched_at == 1


def test_classifier_facade_runs_sts_backend():
    from spykeflow.classifier import Classifier

    rng = np.random.default_rng(0)
    x = (rng.random((12, 3, 6, 6)) * 255).astype(np.uint8)
    y = np.array([0, 1, 2] * 4)
    clf = Classifier("sts_convsnn", backend_params={"filters": (2,), "switch_epoch": 1},
                     epochs=2, batch_size=6, validation_split=0.0, progress=False,
                     restore_best=False)
    clf.fit(x, y)
    assert clf.backend_._switch.snn_epochs == [0.0, 1.0]
    assert clf.history_.get("sts_snn", [0.0, 1.0]) == [0.0, 1.0]
    assert clf.backend_.params["input_scale"] == pytest.approx(1 / 255)   # uint8 -> [0, 1]
    assert get_mode(clf.model_) == "snn"
    assert clf.predict(x).shape == (12,)


@pytest.mark.parametrize("name", ["sts_convsnn",
                                  pytest.param("sts_resnet", marks=pytest.mark.slow)])
def test_save_load_round_trip(tmp_path, name):
    kw = {"filters": (2, 2)} if name == "sts_convsnn" else {"base_width": 2}
    backend = backends.get(name, **kw)
    model = backend.build_model((3, 8, 8, 1), 3, seed=0)
    model.compile(optimizer="adam", loss=backend.loss())
    set_mode(model, "ann")
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = np.random.default_rng(2).random((2, 3, 8, 8, 1)).astype("float32")
    assert get_mode(loaded) == "ann"
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert isinstance(loaded.loss, RateMSE)
    set_mode(model, "snn"), set_mode(loaded, "snn")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_bad_inputs_and_parameters():
    backend = backends.get("sts_convsnn")
    with pytest.raises(ValueError, match=r"\(N, T, H, W\)"):
        backend.check_input(np.zeros((4, 10, 28), "float32"))
    with pytest.raises(ValueError, match="input_shape"):
        backend.build_model((10, 28), 10, 0)
    with pytest.raises(ValueError, match="n_classes"):
        backends.get("sts_resnet", base_width=2).build_model((2, 8, 8), 1, 0)
    with pytest.raises(ValueError, match="Unknown sts_convsnn parameters"):
        backends.get("sts_convsnn", width=3)
    with pytest.raises(ValueError, match="switch_epoch"):
        backends.get("sts_resnet", switch_epoch=-1)
    with pytest.raises(ValueError, match="threshold"):
        backends.get("sts_convsnn", threshold=-0.5)
    with pytest.raises(ValueError, match="loss"):
        backends.get("sts_convsnn", loss="hinge")
    with pytest.raises(ValueError, match="dropout"):
        backends.get("sts_resnet", dropout=1.0)
    with pytest.raises(ValueError, match="surrogate"):
        backends.get("sts_resnet", surrogate="nope")
