"""EventEncoder and DeltaEncoder: configured in the constructor, scikit-learn contract,
validation at fit/transform, same results as the functions they wrap."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from spykeflow.datasets import EVENT_DTYPE
from spykeflow.encoders import DeltaEncoder, EventEncoder
from spykeflow.functional import events as ev_fn
from spykeflow.functional import send_on_delta as sod_fn


def _recordings(seed=0, n=6, h=4, w=5):
    rng = np.random.default_rng(seed)
    recs = []
    for _ in range(n):
        k = int(rng.integers(1, 60))
        recs.append(np.array(list(zip(rng.integers(0, w, k), rng.integers(0, h, k),
                                      rng.integers(0, 2, k), np.sort(rng.integers(0, 5000, k)))),
                             dtype=EVENT_DTYPE))
    return recs


def _series(seed=0, n=3, t=40, f=2):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.uniform(-0.3, 0.3, (n, t, f)), axis=1)


# ---------------------------------------------------------------------------------------------
# EventEncoder
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [dict(), dict(time_steps=5, mode="count"),
                                dict(time_steps=7, first_spike_only=True),
                                dict(time_steps=4, window_us=3000, t_start=500, mode="count"),
                                dict(time_steps=3, window_us=1000)])
def test_event_encoder_equals_bin_events(kw):
    recs = _recordings()
    s = EventEncoder((4, 5), **kw).transform(recs)
    np.testing.assert_array_equal(s, ev_fn.bin_events(recs, (4, 5), **kw))
    assert s.shape[:2] == (6, kw.get("time_steps", 12))
    assert s.dtype == (np.int32 if kw.get("mode") == "count" else bool)


def test_event_encoder_is_configured_in_its_constructor():
    recs = _recordings()
    enc = EventEncoder(sensor_size=(4, 5), time_steps=6, mode="count", first_spike_only=True)
    assert enc.fit() is enc and enc.fit(recs) is enc
    s = enc.transform(recs)
    assert s.shape == (6, 6, 4, 5, 2) and s.dtype == np.int32 and s.sum(axis=1).max() == 1
    np.testing.assert_array_equal(enc.fit_transform(recs), s)
    assert EventEncoder(sensor_size=4, time_steps=2).transform(recs[0][recs[0]["x"] < 4]).shape \
        == (1, 2, 4, 4, 2), "an int sensor_size is a square sensor"


def test_event_encoder_estimator_contract():
    enc = EventEncoder((4, 5), 8, window_us=2000, mode="count")
    params = enc.get_params()
    assert params == dict(sensor_size=(4, 5), time_steps=8, window_us=2000, t_start=None,
                          mode="count", first_spike_only=False, progress=False,
                          event_transform=None)
    twin = clone(enc)
    assert twin is not enc and twin.get_params() == params
    recs = _recordings()
    np.testing.assert_array_equal(twin.transform(recs), enc.transform(recs))
    twin.set_params(time_steps=3)
    assert twin.transform(recs).shape[1] == 3 and enc.time_steps == 8
    EventEncoder(mode="nonsense", time_steps=-1)  # __init__ stores, never validates
    pipe = Pipeline([("encode", EventEncoder((4, 5), 4)),
                     ("flatten", FunctionTransformer(lambda s: s.reshape(len(s), -1)))])
    assert pipe.fit_transform(recs).shape == (6, 4 * 4 * 5 * 2)


@pytest.mark.parametrize(
    "params,exc,match",
    [
        (dict(sensor_size=(4, 0)), ValueError, r"sensor_size to be an int >= 1.*\(4, 0\)"),
        (dict(time_steps=2.0), TypeError, "time_steps to be an integer"),
        (dict(window_us=-5), ValueError, "window_us >= 1"),
        (dict(t_start=-1), ValueError, "t_start >= 0"),
        (dict(t_start=1.5), TypeError, "t_start to be an integer"),
        (dict(mode="rate"), ValueError, r"mode to be one of \['binary', 'count'\]"),
        (dict(first_spike_only=1), TypeError, "first_spike_only to be a bool"),
        (dict(progress="yes"), TypeError, "progress to be a bool"),
    ],
)
def test_event_encoder_validates_at_fit_and_transform(params, exc, match):
    enc = EventEncoder(**{"sensor_size": (4, 5), **params})
    with pytest.raises(exc, match=match):
        enc.fit()
    with pytest.raises(exc, match=match):
        enc.transform(_recordings())


def test_event_encoder_fit_checks_the_recordings():
    with pytest.raises(TypeError, match=r"Expected X\[0\] to be a structured array"):
        EventEncoder().fit([np.zeros((3, 4))])
    with pytest.raises(ValueError, match="at least one recording in X"):
        EventEncoder().fit([])


def test_event_encoder_progress_bar(capsys):
    recs = _recordings()
    s = EventEncoder((4, 5), progress=True).transform(recs)
    np.testing.assert_array_equal(s, EventEncoder((4, 5)).transform(recs))
    assert "EventEncoder" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# DeltaEncoder
# ---------------------------------------------------------------------------------------------


def test_delta_encoder_equals_the_functions():
    x = _series()
    np.testing.assert_array_equal(DeltaEncoder(0.25).transform(x), sod_fn.send_on_delta(x, 0.25))
    np.testing.assert_array_equal(DeltaEncoder([0.2, 0.3], initial=[[0.1, -0.1]]).transform(x),
                                  sod_fn.send_on_delta(x, [0.2, 0.3], initial=[[0.1, -0.1]]))
    w = np.array([[0.3, 0.0], [-0.3, 0.0], [0.2, 0.2], [-0.2, -0.2]])
    s = DeltaEncoder(directions=w).transform(x)
    assert s.shape == (3, 40, 4) and s.dtype == bool
    np.testing.assert_array_equal(s, sod_fn.multi_send_on_delta(x, w))


def test_delta_encoder_estimator_contract():
    w = np.array([[0.3, 0.0], [-0.3, 0.0]])
    enc = DeltaEncoder(directions=w, initial=0.5)
    assert enc.fit() is enc and enc.fit(_series()) is enc
    params = enc.get_params()
    assert set(params) == {"delta", "directions", "initial"} and params["directions"] is w
    twin = clone(enc)
    np.testing.assert_array_equal(twin.directions, w)
    np.testing.assert_array_equal(twin.transform(_series()), enc.transform(_series()))
    twin.set_params(directions=None, delta=0.3)
    assert twin.transform(_series()).shape == (3, 40, 2, 2)
    np.testing.assert_array_equal(DeltaEncoder(0.3).fit_transform(_series()),
                                  DeltaEncoder(0.3).transform(_series()))
    DeltaEncoder(delta=-1.0, directions="nonsense")  # __init__ stores, never validates
    with pytest.raises(TypeError):
        DeltaEncoder(0.3, [[1.0]])  # directions and initial are keyword-only


@pytest.mark.parametrize(
    "params,exc,match",
    [
        (dict(), ValueError, r"exactly one of delta.*Received: delta=None, directions=None"),
        (dict(delta=0.1, directions=[[1.0, 0.0]]), ValueError,
         "exactly one of delta.*directions=an array"),
        (dict(delta=0.0), ValueError, r"Expected delta > 0\. Received: delta=0\.0"),
        (dict(delta=float("nan")), TypeError, "delta to be a finite number"),
        (dict(delta="big"), TypeError, "delta to be a finite number"),
        (dict(delta=[0.1, -0.2]), ValueError, "delta > 0.*-0.2"),
        (dict(delta=[]), TypeError, "delta to be a number or an array"),
        (dict(delta=[[0.1, 0.2]]), ValueError, "scalar or one value per feature"),
        (dict(directions=[1.0, 0.0]), ValueError, r"directions of shape \(K, F\)"),
        (dict(directions=[[0.0, 0.0]]), ValueError, "non-zero direction vectors"),
        (dict(directions=[[np.nan, 1.0]]), ValueError, "finite values in directions"),
    ],
)
def test_delta_encoder_validates_at_fit_and_transform(params, exc, match):
    enc = DeltaEncoder(**params)
    with pytest.raises(exc, match=match):
        enc.fit()
    with pytest.raises(exc, match=match):
        enc.transform(_series())


@pytest.mark.parametrize(
    "params,x,exc,match",
    [
        (dict(delta=[0.1, 0.2, 0.3]), _series(), ValueError, "one value per feature"),
        (dict(directions=[[1.0, 0.0, 0.0]]), _series(), ValueError, "F = 2"),
        (dict(delta=0.1, initial=np.zeros(3)), _series(), ValueError, "initial broadcastable"),
        (dict(delta=0.1, initial=[np.inf, 0.0]), _series(), ValueError, "finite values in initial"),
        (dict(delta=0.1), np.zeros((3, 4)), ValueError, r"[xX] of shape \(N, T, F\)"),
        (dict(delta=0.1), np.zeros((2, 0, 1)), ValueError, "at least one sample and time step"),
        (dict(delta=0.1), np.full((1, 2, 1), np.nan), ValueError, "finite values in [xX]"),
    ],
)
def test_delta_encoder_fit_checks_the_series(params, x, exc, match):
    with pytest.raises(exc, match=match):
        DeltaEncoder(**params).fit(x)
    with pytest.raises(exc, match=match):  # the functions call the series x
        DeltaEncoder(**params).transform(x)
