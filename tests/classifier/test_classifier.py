"""The Classifier facade: learning, determinism, save/load, validation split, schedules,
restore-best, early stopping, evaluation, parameters and bad-input errors."""

import numpy as np
import pytest
from sklearn.base import clone

from spykeflow import Classifier
from spykeflow.classifier import PRESETS
from spykeflow.training import split_validation

FAST = dict(epochs=6, batch_size=16, optimizer="adam", learning_rate=0.01, progress=False)
FACADE = set(Classifier._get_param_names())


def small(backend="binary", **kw):
    """A fast Classifier; arguments that are not facade parameters go to backend_params."""
    params = dict(FAST)
    bparams = {"hidden": 24} if backend in ("binary", "relu") else {}
    for key, value in kw.items():
        (params if key in FACADE else bparams)[key] = value
    return Classifier(backend, backend_params=bparams, **params)


@pytest.mark.parametrize("backend, extra, target", [
    ("binary", {}, 0.95),
    pytest.param("binary", {"surrogate": "sg2"}, 0.85,  # surrogate 2 learns slower (paper too)
                 marks=pytest.mark.slow),
    pytest.param("binary", {"input_mode": "event", "dropout_mode": "inverted"}, 0.95,
                 marks=pytest.mark.slow),
    ("relu", {}, 0.95),
    pytest.param("relu", {"loss": "quadratic"}, 0.95, marks=pytest.mark.slow),
    ("svm", {}, 0.95),
])
def test_tiny_learnable_problem(toy, backend, extra, target):
    xtr, ytr, xte, yte = toy
    kw = {} if backend == "svm" else dict(FAST, epochs=15)
    bparams = {} if backend == "svm" else {"hidden": 48}
    clf = Classifier(backend, backend_params={**bparams, **extra}, **kw).fit(xtr, ytr)
    assert clf.score(xte, yte) >= target
    proba = clf.predict_proba(xte)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-9)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(xte))


def test_eager_steps_equal_traced_steps(toy):
    xtr, ytr, _, _ = toy
    a = small(epochs=2, run_eagerly=True).fit(xtr[:96], ytr[:96])
    b = small(epochs=2).fit(xtr[:96], ytr[:96])
    np.testing.assert_allclose(a.history_["loss"], b.history_["loss"], rtol=1e-4)


def test_binary_logits_are_floored(toy):
    xtr, ytr, xte, _ = toy
    clf = small().fit(xtr, ytr)
    s = clf.decision_scores(xte)
    np.testing.assert_array_equal(s, np.floor(s))
    s2 = small(floor_at_inference=False).fit(xtr, ytr).decision_scores(xte)
    assert not np.array_equal(s2, np.floor(s2))


def test_same_seed_same_predictions_and_history(toy):
    xtr, ytr, xte, _ = toy
    a = small(seed=3).fit(xtr, ytr)
    b = small(seed=3).fit(xtr, ytr)
    np.testing.assert_array_equal(a.decision_scores(xte), b.decision_scores(xte))
    assert a.history_["loss"] == b.history_["loss"]
    c = small(seed=4).fit(xtr, ytr)
    assert not np.array_equal(a.model_.get_weights()[0], c.model_.get_weights()[0])


@pytest.mark.parametrize("backend, extra", [
    ("binary", {"surrogate": {"name": "box", "hi": 0.25}}),
    ("relu", {"loss": "quadratic"}),
    ("svm", {}),
])
def test_save_load_round_trip(toy, tmp_path, backend, extra):
    xtr, ytr, xte, _ = toy
    labels = np.array(["cat", "dog", "emu", "fox"])[ytr]
    clf = (Classifier("svm", backend_params=extra) if backend == "svm"
           else small(backend, **extra))
    clf.fit(xtr, labels)
    clf.save(tmp_path / "clf")
    clf.save(tmp_path / "clf")  # overwriting an existing save is fine
    loaded = Classifier.load(tmp_path / "clf")
    np.testing.assert_array_equal(loaded.decision_scores(xte), clf.decision_scores(xte))
    np.testing.assert_array_equal(loaded.predict(xte), clf.predict(xte))
    assert loaded.classes_.tolist() == ["cat", "dog", "emu", "fox"]
    assert loaded.get_params()["backend_params"] == clf.backend_.get_config()
    assert (tmp_path / "clf" / "manifest.json").is_file()
    assert (tmp_path / "clf" / "model.keras").is_file() == (backend != "svm")
    assert not list(tmp_path.glob(".clf*"))  # no temporary leftovers


def test_load_missing_folder_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        Classifier.load(tmp_path / "nothing")


def test_saved_folder_format_and_checks(toy, tmp_path):
    from spykeflow.io import read_json

    xtr, ytr, _, _ = toy
    small(epochs=1).fit(xtr, ytr).save(tmp_path / "clf")
    manifest = read_json(tmp_path / "clf" / "manifest.json")
    assert (manifest["format"], manifest["format_version"]) == ("spykeflow.Classifier", 2)
    assert sorted(manifest["sha256"]) == ["arrays.npz", "model.keras"]
    assert manifest["metadata"]["backend"] == "binary"
    assert manifest["metadata"]["backend_config"]["hidden"] == [24]
    # a changed file is caught by its checksum
    with open(tmp_path / "clf" / "model.keras", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(ValueError, match="checksum"):
        Classifier.load(tmp_path / "clf")
    # a folder of the first format (metadata.json, no manifest) is refused clearly
    old = tmp_path / "old"
    old.mkdir()
    (old / "metadata.json").write_text('{"format": "spykeflow.classifier/1"}')
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        Classifier.load(old)
    # a Network folder is not a Classifier
    from spykeflow.io import save_folder

    save_folder(tmp_path / "net", "spykeflow.Network", 1, {})
    with pytest.raises(ValueError, match="spykeflow.Classifier"):
        Classifier.load(tmp_path / "net")


def test_save_refuses_unfitted_and_object_labels(toy, tmp_path):
    from sklearn.exceptions import NotFittedError

    xtr, ytr, _, _ = toy
    with pytest.raises(NotFittedError):
        Classifier("svm").save(tmp_path / "x")
    clf = Classifier("svm").fit(xtr, ytr)
    clf.classes_ = clf.classes_.astype(object)
    with pytest.raises(TypeError, match="pickle"):
        clf.save(tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_string_labels_and_classes(toy):
    xtr, ytr, xte, yte = toy
    names = np.array(["d", "c", "b", "a"])
    clf = small().fit(xtr, names[ytr])
    assert clf.classes_.tolist() == ["a", "b", "c", "d"]
    assert clf.score(xte, names[yte]) >= 0.95


def test_validation_split_modes():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    tr, va = split_validation(y, 0.1, "first", seed=0)
    assert va.tolist() == list(range(10)) and len(tr) == 90
    tr, va = split_validation(y, 0.1, "stratified", seed=0)
    assert np.bincount(y[va]).tolist() == [5, 3, 2]
    assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == 100
    tr2, va2 = split_validation(y, 0.1, "stratified", seed=0)
    assert va.tolist() == va2.tolist()
    assert split_validation(y, 0.1, "stratified", seed=1)[1].tolist() != va.tolist()
    assert len(split_validation(y, 0.1, "random", seed=0)[1]) == 10
    # a class with one sample stays in training
    tr, va = split_validation(np.array([0, 0, 0, 0, 1]), 0.5, "stratified")
    assert 4 in tr
    with pytest.raises(ValueError, match="validation_mode"):
        split_validation(y, 0.1, "last")
    with pytest.raises(ValueError, match="validation_split"):
        split_validation(y, 1.0)


def test_restore_best_keeps_best_validation_epoch(toy):
    xtr, ytr, xte, yte = toy
    clf = small(epochs=6, learning_rate=0.05).fit(xtr, ytr, validation_data=(xte, yte))
    h = clf.history_
    assert h["monitor"] == "val_accuracy"
    assert h["best_epoch"] == int(np.argmax(h["val_accuracy"]))
    assert clf.score(xte, yte) == pytest.approx(max(h["val_accuracy"]), abs=1e-6)
    assert len(h["epoch_time"]) == 6 and all(t > 0 for t in h["epoch_time"])


def test_step_schedule_and_early_stopping(toy):
    xtr, ytr, _, _ = toy
    clf = small(epochs=5, learning_rate=0.01, lr_schedule="step",
                lr_schedule_params={"step_size": 2, "gamma": 0.5}).fit(xtr, ytr)
    np.testing.assert_allclose(clf.history_["learning_rate"],
                               [0.01, 0.01, 0.005, 0.005, 0.0025], rtol=1e-6)
    # a learning rate so small that validation accuracy never improves: stops after patience
    clf = small(epochs=8, learning_rate=1e-12, early_stopping=2).fit(xtr, ytr)
    assert len(clf.history_["loss"]) == 3
    clf = small(epochs=3, lr_schedule="plateau",
                lr_schedule_params={"patience": 0, "factor": 0.5},
                learning_rate=1e-12).fit(xtr, ytr)
    assert clf.history_["learning_rate"][-1] < 1e-12
    with pytest.raises(ValueError, match="lr_schedule_params"):
        small(lr_schedule="step", lr_schedule_params={"steps": 3}).fit(xtr, ytr)
    with pytest.raises(ValueError, match="lr_schedule"):
        small(lr_schedule="cosine").fit(xtr, ytr)


def test_sgd_original_style_options(toy):
    xtr, ytr, xte, yte = toy
    clf = Classifier.preset("mnist_sg1", backend_params={"hidden": 32}, epochs=3, progress=False)
    assert clf.optimizer == "sgd" and clf.batch_size == 5 and clf.shuffle is False
    assert clf.backend_params["surrogate"] == "sg1"
    clf.set_params(learning_rate=0.05).fit(xtr, ytr)
    assert clf.score(xte, yte) >= 0.9
    assert Classifier.preset("mnist_relu").backend_params["loss"] == "quadratic"


def test_presets():
    assert sorted(PRESETS) == ["emnist_relu", "emnist_sg1", "emnist_sg2", "mnist_relu",
                               "mnist_sg1", "mnist_sg2"]
    for name in PRESETS:
        clf = Classifier.preset(name)
        backend = clf._make_backend()  # every preset's backend parameters are valid
        assert backend.name == ("relu" if name.endswith("relu") else "binary")
        assert (clf.validation_mode, clf.drop_remainder) == ("first", True)
    # the original notebooks' settings
    assert Classifier.preset("emnist_sg2").backend_params == {
        "hidden": 1500, "surrogate": "sg2", "dropout": 0.5, "dropout_mode": "force_off"}
    assert (Classifier.preset("emnist_relu").learning_rate,
            Classifier.preset("emnist_relu").epochs) == (0.05, 35)
    assert "loss" not in Classifier.preset("emnist_relu").backend_params
    # overrides leave PRESETS untouched
    Classifier.preset("mnist_sg1", backend_params={"hidden": 5})
    assert PRESETS["mnist_sg1"]["backend_params"]["hidden"] == 1000
    with pytest.raises(ValueError, match=r"Expected name to be one of \['mnist_sg1'"):
        Classifier.preset("mnist")
    with pytest.raises(TypeError, match="backend_params"):
        Classifier.preset("mnist_sg1", backend_params=[("hidden", 3)])


def test_evaluate_returns_metrics_as_data(toy):
    xtr, ytr, xte, yte = toy
    clf = small().fit(xtr, ytr)
    ev = clf.evaluate(xte, yte)
    assert ev["accuracy"] == pytest.approx(clf.score(xte, yte))
    cm = ev["confusion_matrix"]
    assert cm.shape == (4, 4) and cm.sum() == len(yte)
    np.testing.assert_allclose(ev["per_class_accuracy"], np.diag(cm) / cm.sum(1))
    ev = clf.evaluate(xte, yte, groups=[0, 0, 1, 1])
    assert ev["conditioned_accuracy"] >= ev["accuracy"]


def test_params_clone_and_backend_params():
    clf = Classifier("binary", backend_params={"hidden": 7}, epochs=2)
    assert clf.get_params()["backend_params"] == {"hidden": 7}
    c2 = clone(clf)
    assert c2.get_params()["backend_params"] == {"hidden": 7} and c2.epochs == 2
    c2.set_params(backend_params={"hidden": 9, "surrogate": "sg2"}, epochs=3)
    assert c2.backend_params == {"hidden": 9, "surrogate": "sg2"} and c2.epochs == 3
    assert clf.backend_params == {"hidden": 7}  # the original is untouched
    # backend hyper-parameters are not facade parameters (no catch-all)
    with pytest.raises(ValueError, match="Invalid parameter 'hidden'"):
        c2.set_params(hidden=9)
    with pytest.raises(TypeError, match="hidden"):
        Classifier("binary", hidden=7)
    with pytest.raises(TypeError, match="verbose"):
        Classifier("binary", verbose=1)


def test_tensorboard_and_progress(toy, tmp_path):
    import importlib.util

    xtr, ytr, _, _ = toy
    small(epochs=1, progress=True).fit(xtr, ytr)
    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(ImportError, match="tensorboard"):
            small(epochs=1, tensorboard_dir=str(tmp_path / "tb")).fit(xtr, ytr)
        return
    small(epochs=1, tensorboard_dir=str(tmp_path / "tb")).fit(xtr, ytr)
    assert any((tmp_path / "tb").rglob("*tfevents*"))


# ---------------------------------------------------------------- bad input
def test_bad_input_errors(toy):
    xtr, ytr, xte, _ = toy
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        small().fit(xtr, ytr[:-1])
    bad = xtr.astype(np.float32)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        small().fit(bad, ytr)
    with pytest.raises(ValueError, match="at least 2 classes"):
        small().fit(xtr, np.zeros(len(xtr)))
    with pytest.raises(ValueError, match=r"Unknown backend 'nope'. Expected one of \[.*'binary'"):
        Classifier("nope").fit(xtr, ytr)
    with pytest.raises(ValueError, match="hidden"):
        small(hidden=0).fit(xtr, ytr)
    with pytest.raises(ValueError, match="takes"):
        small(hiden=10).fit(xtr, ytr)
    with pytest.raises(ValueError, match="epochs"):
        small(epochs=0).fit(xtr, ytr)
    with pytest.raises(ValueError, match="learning_rate"):
        small(learning_rate=-1.0).fit(xtr, ytr)
    with pytest.raises(ValueError, match="optimizer"):
        small(optimizer="nesterov-magic").fit(xtr, ytr)
    with pytest.raises(ValueError, match="seed >= 0"):
        small(seed=-1).fit(xtr, ytr)
    with pytest.raises(TypeError, match="shuffle"):
        small(shuffle="yes").fit(xtr, ytr)
    with pytest.raises(TypeError, match="early_stopping"):
        small(early_stopping=2.5).fit(xtr, ytr)
    with pytest.raises(TypeError, match="backend_params"):
        Classifier("binary", backend_params=[("hidden", 3)]).fit(xtr, ytr)
    with pytest.raises(ValueError, match="validation_mode"):
        small(validation_mode="last").fit(xtr, ytr)
    with pytest.raises(ValueError, match="feature vectors"):
        small().fit(xtr.reshape(len(xtr), 4, 10), ytr)


def test_predict_errors(toy):
    from sklearn.exceptions import NotFittedError

    xtr, ytr, xte, yte = toy
    with pytest.raises(NotFittedError):
        small().predict(xte)
    clf = Classifier("svm").fit(xtr, ytr)
    with pytest.raises(ValueError, match="X has 39 features, but Classifier is expecting 40"):
        clf.predict(xte[:, :-1])
    with pytest.raises(ValueError, match="not seen in fit"):
        clf.evaluate(xte, yte + 10)
    with pytest.raises(ValueError, match="samples"):
        clf.evaluate(xte, yte[:-1])
