"""The Classifier-based pipelines of ``main/``: the per-batch cosine schedule equals Keras'
``CosineDecay``; qcfs records its curves through ``Classifier("qcfs")``; fsdd builds its s2net
Classifier from ``FsddConfig`` and reads its spiking activity; the sequences clips are in
[0, 1] as in the table script."""

from __future__ import annotations

import dataclasses
import pathlib
import sys

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "main"))

import fsdd  # noqa: E402  (main/fsdd.py)
import qcfs  # noqa: E402
import schedules  # noqa: E402
import sequences  # noqa: E402
from run import Run  # noqa: E402

import spykeflow  # noqa: E402


@pytest.mark.parametrize("warmup", [0, 3])
def test_cosine_schedule_is_kerass_cosine_decay(warmup):
    import keras

    total = 12
    if warmup:
        reference = keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps=total - warmup, warmup_target=0.1, warmup_steps=warmup)
    else:
        reference = keras.optimizers.schedules.CosineDecay(0.1, total)
    for step in range(total):
        expected = float(keras.ops.convert_to_numpy(reference(step)))
        assert schedules.cosine_lr(step, 0.1, total, warmup) == pytest.approx(expected, abs=1e-7)


def test_cosine_schedule_drives_the_classifiers_optimizer():
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 6)) < 0.4, np.arange(40) % 2
    clf = spykeflow.Classifier("relu", backend_params={"hidden": 8}, epochs=2, batch_size=10,
                               learning_rate=0.01, validation_split=0.0, progress=False,
                               callbacks=[schedules.cosine_decay(warmup_epochs=1)])
    clf.fit(x, y)
    # the last batch of epoch 1 warms up to 3/4 of the rate, the last of epoch 2 decays
    lr = clf.history_["learning_rate"]
    assert lr[0] == pytest.approx(0.01 * 3 / 4) and lr[1] == pytest.approx(
        0.01 * 0.5 * (1 + np.cos(np.pi * 3 / 4)), rel=1e-5)


@pytest.mark.realdata
def test_qcfs_curves_through_the_classifier(data_root, tmp_path):
    config = qcfs.QcfsConfig(dataset="mnist", data_root=str(data_root), levels=(2,), relu=False,
                             timesteps=(4, 1, 2), epochs=1, train_limit=120, test_limit=30,
                             widths=(4,), dense=8, batch_size=32,
                             export_nir=str(tmp_path / "snn.nir"))
    results = qcfs.curves(Run(tmp_path, progress=False), config)
    assert results["T"] == [1, 2, 4] and (results["n_train"], results["n_test"]) == (120, 30)
    (entry,) = results["runs"]
    assert entry["method"] == "qcfs" and entry["L"] == 2
    assert set(entry["snn_acc"]) == {"1", "2", "4"}
    assert all(0.0 <= a <= 1.0 for a in entry["snn_acc"].values())
    assert (tmp_path / "mnist.json").is_file()
    assert qcfs.plot(results) is not None
    # --export-nir: the converted SNN of each L, here snn-L2.nir
    assert entry["nir_export"] == str(tmp_path / "snn-L2.nir")
    sim = spykeflow.nir.load(entry["nir_export"])
    assert sim.input_shapes["input"] == (28, 28, 1)


def test_fsdd_classifier_follows_its_configuration():
    config = dataclasses.replace(fsdd.FsddConfig(), hidden=(8, 8), clipvalue=5.0, seed=3)
    clf = fsdd.make_classifier(config, progress=False)
    assert clf.backend == "s2net" and clf.optimizer == "adamw" and clf.seed == 3
    assert clf.backend_params["filters"] == [8, 8]
    assert clf.optimizer_params == {"weight_decay": 1e-5, "clipvalue": 5.0}
    assert (clf.epochs, clf.batch_size, clf.learning_rate) == (15, 32, 2e-3)
    assert clf.validation_split == 0.0 and not clf.restore_best and len(clf.callbacks) == 1


def test_fsdd_splits():
    x = np.arange(8)[:, None]
    digits = np.arange(8) % 2
    speakers = np.array(["a", "a", "b", "b", "theo", "theo", "a", "b"])
    indices = np.array([0, 7, 4, 9, 1, 30, 5, 2])
    x_tr, _, x_te, _ = fsdd.split(fsdd.FsddConfig(), x, digits, speakers, indices)
    assert x_te.ravel().tolist() == [0, 2, 4, 7] and len(x_tr) == 4
    speaker = dataclasses.replace(fsdd.FsddConfig(), split="speaker")
    _, _, x_te, _ = fsdd.split(speaker, x, digits, speakers, indices)
    assert x_te.ravel().tolist() == [4, 5]
    with pytest.raises(ValueError, match="Unknown test_speaker 'nobody'"):
        fsdd.split(dataclasses.replace(speaker, test_speaker="nobody"), x, digits, speakers,
                   indices)


def test_fsdd_spiking_activity_and_raster(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 20, 40, 3)).astype(np.float32)  # 40 Mel bands, as the paper's
    y = np.arange(8) % 2
    config = dataclasses.replace(fsdd.FsddConfig(), hidden=(2, 2, 2), epochs=1, batch_size=4)
    clf = fsdd.make_classifier(config, progress=False).fit(x, y)
    activity = fsdd.spiking_activity(clf, x)
    assert sorted(activity["firing_rate_hz"]) == ["s2net_conv1", "s2net_conv2", "s2net_conv3"]
    sizes = activity["neurons_per_layer"]
    rates = activity["firing_rate_hz"]
    weighted = sum(rates[k] * sizes[k] for k in rates) / sum(sizes.values())
    assert activity["mean_firing_rate_hz"] == pytest.approx(weighted)
    fsdd.raster(clf, x[:1], tmp_path / "raster.png")
    assert (tmp_path / "raster.png").stat().st_size > 1000


@pytest.mark.realdata
def test_sequences_clips_are_scaled_like_the_table(data_root):
    x, y = sequences.load_clips(2, "test", 4, seed=0, data_root=str(data_root))
    assert x.shape == (4, 10, 28, 28) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
    assert y.shape == (4,)


def test_export_nir_takes_the_spiking_classifier_of_a_run(tmp_path):
    import nir_export

    rng = np.random.default_rng(0)
    x, y = (rng.random((8, 4, 6)) < 0.5).astype("float32"), np.arange(8) % 2
    run = Run(tmp_path / "run", progress=False)
    clf = spykeflow.Classifier("convsnn", backend_params={"filters": [], "hidden": [4]},
                               epochs=1, batch_size=4, validation_split=0.0, progress=False)
    clf.fit(x, y).save(run.path("classifier"))
    config = dataclasses.replace(fsdd.FsddConfig(), pipeline="soli",
                                 export_nir=str(tmp_path / "m.nir"))
    assert nir_export.write(run, config, {}) == {"path": str(tmp_path / "m.nir"),
                                                 "model": "convsnn"}
    counts = spykeflow.nir.load(tmp_path / "m.nir").run(x).output.sum(axis=1)
    np.testing.assert_array_equal(counts, clf.decision_scores(x))
    with pytest.raises(nir_export.ExportError, match="trained no spiking model"):
        nir_export.write(Run(tmp_path / "empty", progress=False), config, {})


def test_export_nir_check_refuses_non_spiking_runs():
    import nir_export

    for model, why in (("resnet", "branching"), ("c3d", "non-spiking")):
        config = sequences.SequencesConfig(pipeline="sequences", model=model, export_nir="m.nir")
        with pytest.raises(ValueError, match=why):
            nir_export.check(config)
    nir_export.check(sequences.SequencesConfig(pipeline="sequences", export_nir="m.nir"))
    with pytest.raises(ValueError, match="only the ReLU baseline"):
        nir_export.check(qcfs.QcfsConfig(pipeline="qcfs", levels=(), export_nir="m.nir"))
