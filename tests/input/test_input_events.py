"""Event recordings (N-MNIST style) binned into (N, T, H, W, 2) spike frames: bin_events and
EventEncoder."""

import numpy as np
import pytest

from spykeflow import conventions
from spykeflow.datasets import EVENT_DTYPE
from spykeflow.encoders import EventEncoder
from spykeflow.functional import events as ev_fn


def _rec(rows, offset=0):
    """rows of (x, y, p, t)."""
    return np.array([(x, y, p, t + offset) for x, y, p, t in rows], dtype=EVENT_DTYPE)


A = [(0, 0, 1, 0), (3, 2, 0, 10), (0, 0, 1, 60), (1, 2, 1, 99), (0, 0, 1, 99)]


def test_binning_and_polarity_hand_case():
    assert (conventions.ON, conventions.OFF) == (0, 1)
    s = ev_fn.bin_events(_rec(A), sensor_size=(3, 4), time_steps=2, mode="count")
    assert s.shape == (1, 2, 3, 4, 2) and s.dtype == np.int32
    # span 0..99 -> D = 100, bin = floor(2 t / 100): t = 0, 10 -> 0; 60, 99 -> 1.
    assert s[0, :, 0, 0, 0].tolist() == [1, 2]  # ON (p = 1) -> channel 0, row y = 0, col x = 0
    assert s[0, :, 2, 3, 1].tolist() == [1, 0]  # OFF (p = 0) -> channel 1, row y = 2, col x = 3
    assert s[0, :, 2, 1, 0].tolist() == [0, 1]
    assert s.sum() == len(A), "every event lands in exactly one bin"
    binary = ev_fn.bin_events(_rec(A), (3, 4), 2)
    assert binary.dtype == bool
    np.testing.assert_array_equal(binary, s > 0)


def test_first_spike_only_keeps_the_earliest_bin():
    s = ev_fn.bin_events(_rec(A), (3, 4), 2, first_spike_only=True)
    assert s[0, :, 0, 0, 0].tolist() == [True, False]
    assert s[0, :, 2, 1, 0].tolist() == [False, True]
    assert s.sum(axis=1).max() == 1, "at most one spike per input neuron"
    c = ev_fn.bin_events(_rec(A), (3, 4), 2, first_spike_only=True, mode="count")
    assert c.max() == 1 and c.sum() == 3


def test_window_and_start():
    rec = _rec(A, offset=1000)
    # Default: window starts at the first event, so the offset does not matter.
    np.testing.assert_array_equal(ev_fn.bin_events(rec, (3, 4), 2),
                                  ev_fn.bin_events(_rec(A), (3, 4), 2))
    # Fixed window [0, 2000): every event (t >= 1000) falls in the second half.
    s = ev_fn.bin_events(rec, (3, 4), 2, window_us=2000, t_start=0, mode="count")
    assert s[0, 0].sum() == 0 and s[0, 1].sum() == 5
    # Window of 50 us from the first event: t = 1000, 1010 only (bins of 25 us).
    s = ev_fn.bin_events(rec, (3, 4), 2, window_us=50, mode="count")
    assert s.sum() == 2 and s[0, 0, 0, 0, 0] == 1 and s[0, 0, 2, 3, 1] == 1


def test_batch_of_recordings_with_different_spans():
    b = _rec([(2, 1, 0, 0), (2, 1, 0, 1000)])
    s = ev_fn.bin_events([_rec(A), b], (3, 4), 4, mode="count")
    assert s.shape == (2, 4, 3, 4, 2)
    np.testing.assert_array_equal(s[0], ev_fn.bin_events(_rec(A), (3, 4), 4, mode="count")[0])
    assert s[1, :, 1, 2, 1].tolist() == [1, 0, 0, 1]
    obj = np.empty(2, dtype=object)
    obj[0], obj[1] = _rec(A), b
    np.testing.assert_array_equal(ev_fn.bin_events(obj, (3, 4), 4, mode="count"), s)


@pytest.mark.parametrize("kw", [dict(), dict(mode="count"), dict(first_spike_only=True),
                                dict(window_us=400, t_start=100, mode="count")])
def test_grouped_binning_equals_one_recording_at_a_time(monkeypatch, rng, kw):
    recs = []
    for _ in range(7):
        k = int(rng.integers(0, 40))
        recs.append(np.array(list(zip(rng.integers(0, 5, k), rng.integers(0, 4, k),
                                      rng.integers(0, 2, k), np.sort(rng.integers(0, 1000, k)))),
                             dtype=EVENT_DTYPE) if k else np.zeros(0, EVENT_DTYPE))
    single = np.concatenate([ev_fn.bin_events(r, (4, 5), 6, **kw) for r in recs])
    monkeypatch.setattr(ev_fn, "_GROUP_EVENTS", 25)  # several recordings per group
    np.testing.assert_array_equal(ev_fn.bin_events(recs, (4, 5), 6, **kw), single)
    monkeypatch.setattr(ev_fn, "_GROUP_EVENTS", 1)  # one recording per group
    np.testing.assert_array_equal(ev_fn.bin_events(recs, (4, 5), 6, **kw), single)


def test_empty_recording_gives_no_spikes():
    s = ev_fn.bin_events([np.zeros(0, EVENT_DTYPE), _rec(A)], (3, 4), 3)
    assert not s[0].any() and s[1].any()


def test_event_encoder_defaults_and_validation():
    enc = EventEncoder(sensor_size=(3, 4))
    s = enc.transform(_rec(A))
    assert s.shape == (1, 12, 3, 4, 2) and s.dtype == bool
    assert enc.time_steps == 12, "12 frames by default, like the image encoder"
    with pytest.raises(ValueError, match="time_steps >= 1"):
        EventEncoder((3, 4), time_steps=0).transform(_rec(A))
    with pytest.raises(ValueError, match="sensor_size"):
        EventEncoder(sensor_size=(3,)).transform(_rec(A))
    with pytest.raises(ValueError, match="mode"):
        EventEncoder((3, 4), mode="rate").transform(_rec(A))
    with pytest.raises(ValueError, match="window_us >= 1"):
        EventEncoder((3, 4), window_us=0).transform(_rec(A))
    with pytest.raises(TypeError, match="first_spike_only"):
        EventEncoder((3, 4), first_spike_only="yes").transform(_rec(A))
    with pytest.raises(ValueError, match=r"'x' in 0..2 .*sensor_size"):
        EventEncoder(sensor_size=(3, 3)).transform(_rec(A))
    with pytest.raises(TypeError, match="fields x, y, p, t"):
        enc.transform(np.zeros(3, dtype=[("x", "u2"), ("y", "u2")]))
    with pytest.raises(TypeError, match="structured event array"):
        enc.transform(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="at least one recording"):
        enc.transform([])
    bad = np.zeros(2, dtype=[("x", "f4"), ("y", "u2"), ("p", "u1"), ("t", "u4")])
    with pytest.raises(TypeError, match="integer event fields"):
        enc.transform(bad)


@pytest.mark.realdata
def test_nmnist_recordings_bin_every_event(data_root):
    from spykeflow import datasets

    try:
        x, y = datasets.load("nmnist", split="test", root=data_root)
    except FileNotFoundError:
        pytest.skip("N-MNIST not under the data root")
    recs = list(x[:5])
    s = EventEncoder(sensor_size=(34, 34), time_steps=10, mode="count").transform(recs)
    assert s.shape == (5, 10, 34, 34, 2)
    for i, r in enumerate(recs):
        assert s[i].sum() == r.size
        assert s[i, ..., 0].sum() == int((r["p"] == 1).sum())  # ON channel 0
        assert s[i, ..., 1].sum() == int((r["p"] == 0).sum())
    first = EventEncoder(time_steps=10, first_spike_only=True).transform(recs)
    assert first.sum(axis=1).max() == 1
