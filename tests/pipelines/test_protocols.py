"""Table 1 presets (main/protocols.py): the CPU protocol and the paper's settings reach the
Classifier unchanged, and an unknown model names the valid ones."""

import pathlib
import sys

import pytest

from spykeflow import Classifier

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "main"))

import protocols as P  # noqa: E402  (main/protocols.py)


def test_cpu_protocol_settings_per_model():
    snn = P.classifier_kwargs("convsnn")
    assert snn["backend"] == "sts_convsnn" and snn["learning_rate"] == 2e-3
    assert snn["backend_params"] == {"filters": [48, 48], "kernel_size": 5, "switch_epoch": 0,
                                     "surrogate": {"name": "gaussian", "sigma": 1 / 6}}
    assert snn["batch_size"] == 20 and snn["epochs"] == 8
    assert snn["lr_schedule"] == "step"
    assert snn["lr_schedule_params"] == {"step_size": 5, "gamma": 0.3}
    res = P.classifier_kwargs("sts_resnet")            # backend names resolve too
    assert res["backend_params"] == {"base_width": 8, "switch_epoch": 0,
                                     "surrogate": {"name": "gaussian", "sigma": 0.5}}
    assert res["learning_rate"] == 1e-3
    assert P.classifier_kwargs("cnn_lstm")["backend_params"]["lstm_units"] == 32
    assert P.classifier_kwargs("convlstm")["backend_params"]["filters"] == [8, 8]
    assert P.classifier_kwargs("c3d")["batch_size"] == 100
    # main/ is not collected for doctests: the module docstring's examples, checked here
    assert P.classifier_kwargs("cnn")["backend_params"]["filters"] == [32, 32]


def test_paper_protocol_and_overrides_do_not_touch_the_presets():
    paper = P.classifier_kwargs("cnn", protocol="paper", epochs=100)
    assert paper["backend_params"]["filters"] == [256, 256] and "lr_schedule" not in paper
    assert paper["epochs"] == 100
    assert P.classifier_kwargs("convsnn", protocol="paper")["learning_rate"] == 5e-4
    assert P.classifier_kwargs("resnet", switch_epoch=0)["backend_params"]["switch_epoch"] == 0
    assert P.MODELS["cnn"][1]["filters"] == [256, 256]   # the shared table is not mutated


def test_protocol_overrides_reach_the_model_they_name():
    snn = P.classifier_kwargs("convsnn", snn_lr=1e-3, snn_width=16, lr_schedule=None,
                              lr_schedule_params=None,
                              snn_surrogate={"name": "gaussian", "sigma": 0.4})
    assert snn["learning_rate"] == 1e-3 and snn["backend_params"]["filters"] == [16, 16]
    assert snn["backend_params"]["surrogate"]["sigma"] == 0.4
    assert snn["lr_schedule"] is None and snn["lr_schedule_params"] is None
    assert P.classifier_kwargs("cnn", snn_lr=1e-3) == P.classifier_kwargs("cnn")
    assert P.classifier_kwargs("resnet", resnet_lr=3e-3)["learning_rate"] == 3e-3
    assert P.CPU_PROTOCOL["snn_lr"] == 2e-3                # overrides do not leak
    with pytest.raises(TypeError):
        P.CPU_PROTOCOL["snn_lr"] = 1e-3                     # read-only
    with pytest.raises(ValueError, match="keys of CPU_PROTOCOL .*snn_lr"):
        P.classifier_kwargs("cnn", ann_widht=8)
    with pytest.raises(ValueError, match="protocol='paper'"):
        P.classifier_kwargs("cnn", protocol="paper", ann_width=8)


def test_kwargs_build_a_classifier_backend():
    kw = P.classifier_kwargs("convsnn")
    clf = Classifier(kw.pop("backend"), seed=0, **kw)
    assert clf.learning_rate == 2e-3 and clf.lr_schedule == "step"


def test_unknown_model_and_protocol():
    with pytest.raises(ValueError, match="Expected one of .*convsnn"):
        P.classifier_kwargs("lenet")
    with pytest.raises(ValueError, match="protocol"):
        P.classifier_kwargs("cnn", protocol="gpu")
