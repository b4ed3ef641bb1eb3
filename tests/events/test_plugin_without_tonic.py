"""The tonic plug-in's parts that need no tonic: EventEncoder(event_transform=...), frame and
sensor-size conversion, the dataset adapter on a tonic-like object, the missing-tonic error."""

import sys

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone

from spykeflow import tonic_plugin as tp
from spykeflow.datasets import EVENT_DTYPE, from_tonic
from spykeflow.encoders import EventEncoder
from spykeflow.functional import events as ev_fn

REF = np.array([(0, 0, 1, 0), (3, 2, 0, 10), (0, 0, 1, 60), (1, 2, 1, 99), (2, 1, 0, 40)],
               dtype=EVENT_DTYPE)


class KeepFirst(BaseEstimator):
    """A callable scikit-learn estimator: keeps the first n events."""

    def __init__(self, n=2):
        self.n = n

    def __call__(self, events):
        return events[: self.n]


class OddGetParams:
    """Like tonic.transforms.RefractoryPeriod: a get_params that is not scikit-learn's."""

    def __init__(self, keep_on=True):
        self.keep_on = keep_on

    @staticmethod
    def get_params(delta):
        return delta

    def __call__(self, events):
        out = events[events["p"] == 1] if self.keep_on else events
        events["x"][:] = 0  # a transform that writes into its input
        return out


def test_event_transform_is_applied_to_a_copy_of_each_recording():
    original = REF.copy()
    enc = EventEncoder((3, 4), 4, mode="count", event_transform=OddGetParams())
    s = enc.transform([REF, REF[:2]])
    np.testing.assert_array_equal(REF, original), "the caller's recordings are untouched"
    expected = ev_fn.bin_events([REF[REF["p"] == 1], REF[:1]], (3, 4), 4, mode="count")
    np.testing.assert_array_equal(s, expected)
    assert s[..., 1].sum() == 0


def test_event_transform_keeps_the_estimator_contract():
    transform = OddGetParams(keep_on=False)
    enc = EventEncoder((3, 4), 4, event_transform=transform)
    assert enc.get_params()["event_transform"] is transform  # deep=True does not look inside
    twin = clone(enc)
    assert twin.event_transform is not transform and isinstance(twin.event_transform,
                                                                OddGetParams)
    assert twin.event_transform.keep_on is False
    np.testing.assert_array_equal(twin.transform(REF), enc.transform(REF))
    # A scikit-learn estimator as transform: nested parameters as usual.
    est = EventEncoder((3, 4), 4, event_transform=KeepFirst())
    assert est.get_params()["event_transform__n"] == 2
    est.set_params(event_transform__n=3)
    twin = clone(est)
    assert twin.event_transform is not est.event_transform and twin.event_transform.n == 3
    np.testing.assert_array_equal(twin.transform(REF), EventEncoder((3, 4), 4).transform(REF[:3]))


def test_event_transform_is_validated():
    with pytest.raises(TypeError, match="event_transform to be None or a callable"):
        EventEncoder(event_transform="Denoise").fit()
    with pytest.raises(TypeError, match=r"return a structured event array.*from_tonic_frames"):
        EventEncoder((3, 4), 2, event_transform=lambda e: np.zeros((2, 2, 3, 4))).transform(REF)
    with pytest.raises(TypeError, match=r"event_transform\(X\)\[0\].*missing \['t'\]"):
        EventEncoder((3, 4), 2, event_transform=lambda e: e[["x", "y", "p"]]).transform(REF)


def test_from_tonic_frames_puts_on_first():
    frames = np.arange(2 * 2 * 3 * 4, dtype=np.int16).reshape(2, 2, 3, 4)  # (T, P, H, W)
    ours = tp.from_tonic_frames(frames)
    assert ours.shape == (2, 3, 4, 2) and ours.dtype == np.int32
    np.testing.assert_array_equal(ours[..., 0], frames[:, 1])  # ON = tonic channel p = 1
    np.testing.assert_array_equal(ours[..., 1], frames[:, 0])
    np.testing.assert_array_equal(tp.from_tonic_frames(frames[None])[0], ours)  # batch
    audio = tp.from_tonic_frames(frames[:, :1, 0])  # (T, P=1, C): single polarity -> ON
    assert audio.shape == (2, 1, 4, 2) and not audio[..., 1].any()
    np.testing.assert_array_equal(audio[:, 0, :, 0], frames[:, 0, 0])
    with pytest.raises(ValueError, match=r"P = 1 or 2.*shape=\(2, 3, 3, 4\)"):
        tp.from_tonic_frames(np.zeros((2, 3, 3, 4), int))
    with pytest.raises(TypeError, match="integer .* frames"):
        tp.from_tonic_frames(np.zeros((2, 2, 3, 4)))


def test_sensor_sizes_swap_x_and_y():
    assert tp.from_tonic_sensor_size((4, 3, 2)) == (3, 4)
    assert tp.to_tonic_sensor_size((3, 4)) == (4, 3, 2)
    assert tp.from_tonic_sensor_size(tp.to_tonic_sensor_size((3, 4))) == (3, 4)
    with pytest.raises(ValueError, match="at most 2 polarities"):
        tp.from_tonic_sensor_size((4, 3, 3))


class TonicLike:
    """Behaves like a tonic dataset: (events, target), __len__, sensor_size (x, y, p)."""

    sensor_size = (4, 3, 2)
    dtype = np.dtype([("x", int), ("y", int), ("t", int), ("p", int)])

    def __init__(self, frames=False):
        self.frames = frames

    def __len__(self):
        return 3

    def __getitem__(self, i):
        ev = np.zeros(len(REF), self.dtype)
        for f in "xytp":
            ev[f] = REF[f]
        ev = ev[: 2 + i]
        if self.frames:
            frames = np.zeros((1, 2, 3, 4), np.int16)
            np.add.at(frames, (0, ev["p"], ev["y"], ev["x"]), 1)
            return frames, np.int64(i)
        return ev, np.int64(i)


def test_from_tonic_gives_samples_in_our_convention():
    data = from_tonic(TonicLike())
    assert len(data) == 3 and data.sensor_size == (3, 4)
    events, label = data[1]
    assert label == 1 and events.dtype.names == ("x", "y", "t", "p")
    x, y = data.read()
    assert x.dtype == object and y.tolist() == [0, 1, 2]
    s = EventEncoder(data.sensor_size, 1, mode="count").transform(x)
    assert s.sum(axis=(1, 2, 3, 4)).tolist() == [2, 3, 4]
    assert [int(lab) for _, lab in data[1:]] == [1, 2]
    x2, y2 = data[[2, 0]].read(progress=True)
    assert y2.tolist() == [2, 0] and len(x2[0]) == 4
    # A dataset whose own transform is ToFrame: its frames are converted.
    frames, _ = from_tonic(TonicLike(frames=True))[2]
    np.testing.assert_array_equal(frames, s[2])
    with pytest.raises(TypeError, match=r"Expected a tonic dataset.*without \['sensor_size'\]"):
        from_tonic([1, 2])


def test_missing_tonic_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tonic", None)  # import tonic -> ImportError
    with pytest.raises(ImportError, match=r"optional package tonic.*pip install tonic"):
        tp.tonic_transform("Denoise(filter_time=10000)")
    with pytest.raises(ImportError, match="pip install tonic"):
        tp.require_tonic()
