"""Table 1 presets: the CPU protocol and the paper's settings reach the Classifier unchanged,
and an unknown model names the valid ones."""

import pytest

from spykeflow.backends import sequence_presets as P
from spykeflow.classifier import Classifier


def test_cpu_protocol_settings_per_model():
    snn = P.classifier_kwargs("convsnn")
    assert snn["backend"] == "sts_convsnn" and snn["learning_rate"] == 2e-3
    assert snn["backend_params"] == {"filters": [48, 48], "switch_epoch": 0}
    assert snn["batch_size"] == 20 and snn["epochs"] == 8
    assert snn["lr_schedule"] == "step" and snn["lr_schedule_params"] == {"step_size": 5, "gamma": 0.3}
    res = P.classifier_kwargs("sts_resnet")            # backend names resolve too
    assert res["backend_params"] == {"base_width": 8, "switch_epoch": 0,
                                     "surrogate": {"name": "gaussian", "sigma": 0.5}}
    assert res["learning_rate"] == 1e-3
    assert P.classifier_kwargs("cnn_lstm")["backend_params"]["lstm_units"] == 32
    assert P.classifier_kwargs("convlstm")["backend_params"]["filters"] == [8, 8]
    assert P.classifier_kwargs("c3d")["batch_size"] == 100


def test_paper_protocol_and_overrides_do_not_touch_the_presets():
    paper = P.classifier_kwargs("cnn", protocol="paper", epochs=100)
    assert paper["backend_params"]["filters"] == [256, 256] and "lr_schedule" not in paper
    assert paper["epochs"] == 100
    assert P.classifier_kwargs("convsnn", protocol="paper")["learning_rate"] == 5e-4
    assert P.classifier_kwargs("resnet", switch_epoch=0)["backend_params"]["switch_epoch"] == 0
    assert P.MODELS["cnn"][1]["filters"] == [256, 256]   # the shared table is not mutated


def test_kwargs_build_a_classifier_backend():
    kw = P.classifier_kwargs("convsnn")
    clf = Classifier(kw.pop("backend"), seed=0, **kw)
    assert clf.learning_rate == 2e-3 and clf.lr_schedule == "step"


def test_unknown_model_and_protocol():
    with pytest.raises(ValueError, match="Expected one of .*convsnn"):
        P.classifier_kwargs("lenet")
    with pytest.raises(ValueError, match="protocol"):
        P.classifier_kwargs("cnn", protocol="gpu")
