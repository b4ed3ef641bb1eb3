"""Arguments of the classifier area go through the shared validators (spykeflow._validation):
each bad value is rejected with a message that names the argument, what was expected and what
was received."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from spykeflow import backends
from spykeflow._validation import check_int_list
from spykeflow.functional import audio, radar, surrogate
from spykeflow.functional import quantize as Q
from spykeflow.layers.binary import BinaryDense, FloorLogits
from spykeflow.layers.lif import LIFConv2D, LIFDense, SequenceMaxPool
from spykeflow.layers.s2net import ClipConstraint, S2NetConv1D, S2NetReadout
from spykeflow.layers.sts import STSSwitch, STSSynapse
from spykeflow.training import make_optimizer, split_validation


def _raises(exc, match, fn, *args, **kwargs):
    with pytest.raises(exc, match=match) as info:
        fn(*args, **kwargs)
    assert "Expected" in str(info.value) and "Received" in str(info.value), str(info.value)


@pytest.mark.parametrize("fn, kwargs, exc, match", [
    (BinaryDense, {"units": 2, "seed": "a"}, TypeError, "seed to be an integer"),
    (BinaryDense, {"units": 2, "kernel_stddev": 0.0}, ValueError, "kernel_stddev > 0"),
    (BinaryDense, {"units": 2, "activation": "tanh"}, ValueError, "activation to be one of"),
    (BinaryDense, {"units": 2, "input_mode": "sparse"}, ValueError, "input_mode"),
    (BinaryDense, {"units": 2.0}, TypeError, "units to be an integer"),
    (FloorLogits, {"at_inference": 1}, TypeError, "at_inference to be a bool"),
    (LIFDense, {"units": 2, "train_beta": 1}, TypeError, "train_beta to be a bool"),
    (LIFDense, {"units": 2, "beta": [0.5, 1.5]}, ValueError, r"beta in \[0.0, 1.0\]"),
    (LIFDense, {"units": 2, "beta": []}, ValueError, "non-empty list for beta"),
    (LIFDense, {"units": 2, "threshold": float("nan")}, TypeError, "threshold to be a finite"),
    (LIFDense, {"units": 2, "quant_axis": "row"}, ValueError, "quant_axis to be one of"),
    (LIFDense, {"units": 2, "bits": 17}, ValueError, "bits <= 16"),
    (LIFDense, {"units": 2, "floor": 0.5}, ValueError, "floor <= 0.0"),
    (LIFConv2D, {"filters": 2, "kernel_size": 3, "strides": 0}, ValueError, "strides"),
    (SequenceMaxPool, {"pool_size": 0}, ValueError, "pool_size >= 1"),
    (STSSynapse, {"slope": 2.0}, ValueError, r"slope in \[0.0, 1.0\]"),
    (STSSwitch, {"switch_epoch": 1.5}, TypeError, "switch_epoch to be an integer"),
    (STSSwitch, {"fraction": 2.0}, ValueError, "fraction in"),
    (STSSwitch, {"rest": "no"}, TypeError, "rest to be a bool"),
    (S2NetConv1D, {"filters": 2, "kernel_size": 3, "eps": -1.0}, ValueError, "eps >= 0"),
    (S2NetConv1D, {"filters": 2, "kernel_size": 3, "gradient_clip": 0.0}, ValueError,
     "gradient_clip > 0"),
    (S2NetConv1D, {"filters": 2, "kernel_size": 3, "seed": "x"}, TypeError, "seed"),
    (S2NetReadout, {"units": 2, "use_bias": 1}, TypeError, "use_bias to be a bool"),
    (ClipConstraint, {"min_value": "a"}, TypeError, "min_value to be a finite number"),
])
def test_layer_arguments(fn, kwargs, exc, match):
    _raises(exc, match, fn, **kwargs)


def test_functional_arguments():
    _raises(ValueError, "bits <= 16", Q.check_bits, 17)
    _raises(TypeError, "length to be an integer", radar.resample_time, np.zeros((3, 2)), 2.5)
    _raises(ValueError, "mode to be one of", radar.normalize, np.ones((2, 1, 1, 1)), mode="max")
    _raises(TypeError, "threshold to be a finite", radar.threshold_encode, np.ones(2), "0.5")
    _raises(TypeError, "length to be an integer", audio.fix_length, tf.ones((3, 2)), 2.5)
    _raises(ValueError, "noise_std >= 0", audio.augment_features, tf.ones((1, 4, 3, 1)),
            seed=(0, 0), noise_std=-1.0)
    _raises(ValueError, "time_masks >= 0", audio.augment_features, tf.ones((1, 4, 3, 1)),
            seed=(0, 0), time_masks=-1)
    _raises(TypeError, "inclusive to be a bool", surrogate.get, "box", inclusive=1)
    _raises(TypeError, "lo to be a finite number", surrogate.get, "box", lo="a")
    _raises(TypeError, "sigma to be a finite number", surrogate.get, "gaussian",
            sigma=float("nan"))
    _raises(ValueError, "lo < hi", surrogate.get, "box", lo=0.5, hi=0.1)


def test_training_arguments():
    y = np.arange(20) % 2
    _raises(TypeError, "validation_split to be a finite number", split_validation, y, "0.1")
    _raises(ValueError, r"validation_split in \[0, 1\)", split_validation, y, -0.1)
    _raises(ValueError, "validation_mode to be one of", split_validation, y, 0.1, "last")
    assert make_optimizer("sgd", 0.1).__class__.__name__ == "SGD"


def test_conversion_arguments():
    from spykeflow.conversion import convert
    from spykeflow.layers.qcfs import QCFS

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2), QCFS(levels=2),
                              keras.layers.Dense(2)])
    _raises(ValueError, r"percentile in \(0, 100\]", convert, model, percentile=0)
    _raises(ValueError, r"relu_shift in \[0, 1\]", convert, model, relu_shift=2.0)
    _raises(ValueError, "batch_size >= 1", convert, model, batch_size=0)
    _raises(ValueError, "max_pool to be one of", convert, model, max_pool="avg")
    snn = convert(model)
    x = np.zeros((1, 2), "float32")
    _raises(TypeError, "input_scale to be a finite", snn.simulate, x, 2, input_scale=float("inf"))
    _raises(TypeError, "time_steps to be an integer", snn.simulate, x, 2.5)


@pytest.mark.parametrize("name, kwargs, exc, match", [
    ("svm", {"C": 0}, ValueError, "C > 0"),
    ("svm", {"tol": -1.0}, ValueError, "tol > 0"),
    ("svm", {"max_iter": 0}, ValueError, "max_iter >= 1"),
    ("svm", {"dual": "maybe"}, ValueError, "dual to be one of"),
    ("svm", {"loss": "log"}, ValueError, "loss to be one of"),
    ("binary", {"hidden": []}, ValueError, "hidden to be an int or a non-empty list"),
    ("binary", {"hidden": [10, 0]}, ValueError, "hidden >= 1"),
    ("binary", {"surrogate_window": (0, "a")}, TypeError, r"surrogate_window\[1\]"),
    ("binary", {"surrogate_window": (0, 0.1, 1)}, TypeError, r"surrogate_window\[2\]"),
    ("binary", {"floor": 1}, TypeError, "floor to be a bool"),
    ("binary", {"dropout": True}, TypeError, "dropout to be a finite number"),
    ("relu", {"loss": "hinge"}, ValueError, r"loss to be one of \['crossentropy', 'quadratic'\]"),
    ("convsnn", {"pool": 0}, ValueError, "pool >= 1"),
    ("convsnn", {"padding": "causal"}, ValueError, "padding to be one of"),
    ("convsnn", {"quant_axis": "row"}, ValueError, "quant_axis to be one of"),
    ("convsnn", {"train_threshold": "yes"}, TypeError, "train_threshold to be a bool"),
    ("qcfs", {"batch_norm": 1}, TypeError, "batch_norm to be a bool"),
    ("qcfs", {"hidden": -1}, ValueError, "hidden >= 1"),
    ("qcfs", {"percentile": 0}, ValueError, r"percentile in \(0.0, 100.0\]"),
    ("s2net", {"filters": []}, ValueError, "filters to be an int or a non-empty list"),
    ("s2net", {"filters": [2], "kernel_sizes": [(2, 3, 4)], "dilations": [(1, 1)]},
     ValueError, "kernel_sizes"),
    ("s2net", {"gradient_clip": 0.0}, ValueError, "gradient_clip > 0"),
    ("s2net", {"lateral": "yes"}, TypeError, "lateral to be a bool"),
    ("seq_cnn", {"filters": (1, 2, 3)}, ValueError, "filters to be an int >= 1 or 2 such ints"),
    ("seq_cnn", {"kernel_size": 0}, ValueError, "kernel_size >= 1"),
    ("seq_cnn", {"loss": "hinge"}, ValueError, "loss to be one of"),
    ("sts_convsnn", {"pooling": "mean"}, ValueError, "pooling to be one of"),
    ("sts_convsnn", {"input_scale": 0.0}, ValueError, "input_scale > 0"),
    ("sts_convsnn", {"rest": "yes"}, TypeError, "rest to be a bool"),
    ("sts_resnet", {"input_synapse": 1}, TypeError, "input_synapse to be a bool"),
    ("sts_resnet", {"switch_epoch": 1.0}, TypeError, "switch_epoch to be an integer"),
])
def test_backend_arguments(name, kwargs, exc, match):
    _raises(exc, match, backends.get, name, **kwargs)


def test_backend_configs_round_trip_and_unknown_names():
    for name in backends.available():
        backend = backends.get(name)
        config = backend.get_config()
        assert type(backend)(**config).get_config() == config, name
        assert list(config) == type(backend).param_names(), name
    with pytest.raises(ValueError, match=r"Unknown binary parameters \['hiden'\]. Backend "
                                         r"'binary' takes \['hidden'"):
        backends.get("binary", hiden=3)


def test_check_int_list():
    assert check_int_list(3, "hidden") == [3]
    assert check_int_list((), "hidden", allow_empty=True) == []
    _raises(ValueError, "hidden to be an int or a non-empty list", check_int_list, "12", "hidden")
    _raises(TypeError, "hidden to be an integer", check_int_list, [1.5], "hidden")


def test_complexity_batch_size():
    from spykeflow.complexity import measure_input_rates

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    _raises(ValueError, "batch_size >= 1", measure_input_rates, model, np.zeros((2, 3)),
            batch_size=0)
