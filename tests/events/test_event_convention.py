"""The event input convention of spykeflow.functional.events, without tonic: dtypes, field
order, polarity codes, the 1-D (audio) form, refused inputs, to_event_array."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spykeflow.datasets import EVENT_DTYPE
from spykeflow.encoders import EventEncoder
from spykeflow.functional import events as ev_fn

# x, y, p, t of a 3x4 sensor (height 3, width 4): the reference recording in EVENT_DTYPE.
ROWS = [(0, 0, 1, 0), (3, 2, 0, 10), (0, 0, 1, 60), (1, 2, 1, 99), (0, 0, 1, 99), (2, 1, 0, 40)]
REF = np.array(ROWS, dtype=EVENT_DTYPE)
INT_DTYPES = ["u1", "u2", "u4", "u8", "i1", "i2", "i4", "i8", ">i4", ">u2"]


def _reference(**kw):
    return ev_fn.bin_events(REF, (3, 4), 4, mode="count", **kw)


@settings(max_examples=40, deadline=None)
@given(xy=st.sampled_from(INT_DTYPES), t=st.sampled_from(INT_DTYPES[2:4] + INT_DTYPES[6:9]),
       p=st.sampled_from(INT_DTYPES + ["?"]), order=st.permutations(["x", "y", "p", "t"]),
       extra=st.booleans())
def test_every_integer_dtype_and_field_order_bins_the_same(xy, t, p, order, extra):
    types = {"x": xy, "y": xy, "p": p, "t": t}
    dtype = [(f, types[f]) for f in order] + ([("label", "f4")] if extra else [])
    ev = np.zeros(len(ROWS), dtype=dtype)
    for f in "xypt":
        ev[f] = REF[f].astype(bool) if p == "?" and f == "p" else REF[f]
    np.testing.assert_array_equal(ev_fn.bin_events(ev, (3, 4), 4, mode="count"), _reference())


def test_bool_and_plus_minus_one_polarity():
    on_off = {"bool": REF["p"].astype(bool), "-1/+1": np.where(REF["p"] == 1, 1, -1)}
    for name, p in on_off.items():
        ev = ev_fn.to_event_array(x=REF["x"], y=REF["y"], t=REF["t"], p=p)
        np.testing.assert_array_equal(ev_fn.bin_events(ev, (3, 4), 4, mode="count"),
                                      _reference(), err_msg=name)
    s = ev_fn.bin_events(ev, (3, 4), 4, mode="count")
    assert s[0, ..., 1].sum() == 2 and s[0, ..., 0].sum() == 4, "-1 is OFF (channel 1)"


def test_polarity_values_are_checked():
    ev = REF.astype([("x", "i2"), ("y", "i2"), ("p", "i1"), ("t", "i8")])
    ev["p"][1] = 2
    with pytest.raises(ValueError, match=r"p in \{0, 1\} or \{-1, 1\}.*p=2 in recording 0"):
        ev_fn.bin_events(ev, (3, 4), 4)
    ev["p"][1], ev["p"][5] = 0, -1
    good = ev.copy()
    good["p"][1] = 1
    with pytest.raises(ValueError, match="both 0 and -1 in recording 1: ambiguous"):
        ev_fn.bin_events([good, ev], (3, 4), 4)


def test_float_timestamps_are_refused_with_the_fix():
    ev = np.zeros(2, dtype=[("x", "u2"), ("y", "u2"), ("p", "u1"), ("t", "f8")])
    with pytest.raises(TypeError, match=r"integer timestamps t in microseconds.*float64.*1e6"):
        ev_fn.bin_events(ev, (3, 4), 2)
    with pytest.raises(TypeError, match=r"integer event fields.*\['y', 'p'\]"):
        ev_fn.check_events(np.zeros(1, [("x", "i2"), ("y", "f4"), ("p", "f4"), ("t", "i8")]))


def test_the_1d_audio_form_end_to_end_through_the_encoder():
    # SHD-like: fields t, x (channel), p (always 1), no y; 5 channels.
    audio = np.array([(0, 0, 1), (10, 4, 1), (55, 2, 1), (99, 4, 1)],
                     dtype=[("t", "<i8"), ("x", "<i8"), ("p", "<i8")])
    s = EventEncoder(sensor_size=5, time_steps=2, mode="count").transform([audio, audio[:2]])
    assert s.shape == (2, 2, 1, 5, 2)
    assert s[0, :, 0, :, 0].tolist() == [[1, 0, 0, 0, 1], [0, 0, 1, 0, 1]]
    assert s[..., 1].sum() == 0, "p = 1: ON channel only"
    np.testing.assert_array_equal(EventEncoder((1, 5), 2, mode="count").transform(
        [audio, audio[:2]]), s)
    # The same events with y = 0 on a (1, 5) sensor give the same frames.
    flat = ev_fn.to_event_array(x=audio["x"], y=np.zeros(4, int), t=audio["t"], p=audio["p"])
    np.testing.assert_array_equal(ev_fn.bin_events(flat, (1, 5), 2, mode="count")[0], s[0])
    with pytest.raises(ValueError, match=r"sensor_size=C \(channels\) or \(1, C\) for 1-D"):
        EventEncoder((5, 5), 2).transform(audio)
    with pytest.raises(ValueError, match="'x' in 0..3"):
        EventEncoder(4, 2).transform(audio)


def test_an_int_sensor_size_stays_square_for_2d_events():
    s = ev_fn.bin_events(REF[REF["x"] < 3], 3, 2)
    assert s.shape == (1, 2, 3, 3, 2)
    assert ev_fn.sensor_shape(7) == (7, 7) and ev_fn.sensor_shape(7, one_d=True) == (1, 7)


def test_batches_mix_dtypes_but_not_kinds():
    # (astype between structured dtypes assigns by position; to_event_array by name)
    other = ev_fn.to_event_array(x=REF["x"], y=REF["y"], p=REF["p"], t=REF["t"],
                                 dtype=[("t", "u8"), ("p", "?"), ("y", "i4"), ("x", "i4")])
    s = ev_fn.bin_events([REF, other], (3, 4), 4, mode="count")
    np.testing.assert_array_equal(s[1], s[0])
    audio = np.zeros(1, dtype=[("t", "i8"), ("x", "i8"), ("p", "i8")])
    with pytest.raises(TypeError, match=r"one kind.*events\[0\] is 2-D.*events\[1\] is 1-D"):
        ev_fn.bin_events([REF, audio], (3, 4), 2)
    with pytest.raises(TypeError, match=r"missing \['p'\]"):
        ev_fn.check_events(np.zeros(1, dtype=[("x", "i2"), ("t", "i8")]))


def test_to_event_array_builds_and_casts_by_field_name():
    ev = ev_fn.to_event_array(t=[5, 1], p=[1, 0], x=np.array([3, 4], np.int64))
    assert ev.dtype.names == ("x", "p", "t") and ev["x"].dtype == np.int64
    cast = ev_fn.to_event_array(x=REF["x"].astype(int), y=REF["y"], t=REF["t"].astype(np.int64),
                                p=REF["p"].astype(bool), dtype=EVENT_DTYPE)
    assert cast.dtype == EVENT_DTYPE
    np.testing.assert_array_equal(cast, REF)
    with pytest.raises(ValueError, match=r"t to fit dtype uint32.*Choose a wider dtype"):
        ev_fn.to_event_array(x=[0], y=[0], p=[1], t=[2**40], dtype=EVENT_DTYPE)
    with pytest.raises(ValueError, match="exactly the fields"):
        ev_fn.to_event_array(x=[0], p=[1], t=[0], dtype=EVENT_DTYPE)
    with pytest.raises(ValueError, match="one length"):
        ev_fn.to_event_array(x=[0, 1], y=[0], p=[1], t=[0])
    with pytest.raises(TypeError, match="integer timestamps"):
        ev_fn.to_event_array(x=[0], y=[0], p=[1], t=[0.5])
    with pytest.raises(ValueError, match=r"p in \{0, 1\} for dtype bool"):
        ev_fn.to_event_array(x=[0], p=[-1], t=[0], dtype=[("x", "u1"), ("p", "?"), ("t", "u4")])
