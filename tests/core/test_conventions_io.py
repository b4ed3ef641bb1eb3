"""Conventions (compact first-spike form), atomic io and the public validators."""

import json
import os

import numpy as np
import pytest

from spykeflow import conventions, io
from spykeflow._validation import (
    NotFittedError,
    check_finite_array,
    check_fitted,
    check_in,
    check_int,
    check_spikes,
)


def _one_spike_trains(rng, shape=(4, 12, 5, 6, 2)):
    n, t = shape[:2]
    first = rng.integers(-1, t, size=(n,) + shape[2:])
    return conventions.from_first_spike(first.astype(np.int8), t), first


def test_first_spike_round_trip(rng):
    spikes, first = _one_spike_trains(rng)
    assert spikes.dtype == bool and spikes.shape == (4, 12, 5, 6, 2)
    assert spikes.sum(axis=1).max() <= 1
    np.testing.assert_array_equal(conventions.to_first_spike(spikes), first)
    np.testing.assert_array_equal(conventions.from_first_spike(first.astype(np.int8), 12), spikes)


def test_first_spike_keeps_only_first_of_several():
    s = np.zeros((1, 4, 1, 1, 1), bool)
    s[0, [1, 3], 0, 0, 0] = True
    assert conventions.to_first_spike(s)[0, 0, 0, 0] == 1


@pytest.mark.parametrize(
    "first,steps,match",
    [(np.array([[5]], np.int8), 3, "lie in"), (np.array([[-2]], np.int8), 3, "lie in"),
     (np.array([[0]], np.int8), 0, "time_steps >= 1"), (np.array([[0.5]]), 3, "integer")],
)
def test_from_first_spike_rejects(first, steps, match):
    with pytest.raises((ValueError, TypeError), match=match):
        conventions.from_first_spike(first, steps)


def test_to_first_spike_rejects_long_trains():
    with pytest.raises(ValueError, match="127 time steps"):
        conventions.to_first_spike(np.zeros((1, 200, 1), bool))


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "sub" / "metrics.json"
    io.write_json_atomic(target, {"a": np.float32(0.5), "b": np.arange(3)})
    assert io.read_json(target) == {"a": 0.5, "b": [0, 1, 2]}
    with pytest.raises(RuntimeError):
        with io.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert json.loads(target.read_text()) == {"a": 0.5, "b": [0, 1, 2]}
    assert os.listdir(target.parent) == ["metrics.json"]  # no temporary left behind
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's private 0600


def test_npz_round_trip_and_no_pickle(tmp_path):
    path = tmp_path / "w.npz"
    io.save_npz_atomic(path, w=np.ones((2, 3), np.float32), k=np.int64(4))
    loaded = io.load_npz(path)
    np.testing.assert_array_equal(loaded["w"], np.ones((2, 3)))
    with pytest.raises(TypeError, match="pickle"):
        io.save_npz_atomic(path, bad=np.array([{"a": 1}], dtype=object))


def test_check_spikes():
    ok = check_spikes(np.zeros((2, 3, 4, 4, 1), np.uint8), ndim=5)
    assert ok.dtype == bool
    with pytest.raises(ValueError, match="rank 5"):
        check_spikes(np.zeros((2, 3, 4, 4)), ndim=5)
    with pytest.raises(ValueError, match="binary spikes"):
        check_spikes(np.full((1, 2, 2, 2, 1), 0.5), ndim=5)
    with pytest.raises(ValueError, match="at least one sample"):
        check_spikes(np.zeros((0, 2, 2, 2, 1)), ndim=5)
    with pytest.raises(ValueError, match="at least one time step"):
        check_spikes(np.zeros((1, 0, 2, 2, 1)), ndim=5)


def test_other_validators():
    with pytest.raises(ValueError, match="NaN/inf"):
        check_finite_array(np.array([[1.0, np.nan]]))
    with pytest.raises(TypeError, match="numeric"):
        check_finite_array(np.array(["a"]))
    assert check_int(np.int64(3), "n") == 3
    with pytest.raises(TypeError, match="integer"):
        check_int(2.5, "n")
    with pytest.raises(ValueError, match="n >= 1"):
        check_int(0, "n")
    with pytest.raises(ValueError, match="one of"):
        check_in("x", "mode", ("a", "b"))

    class Est:
        pass

    with pytest.raises(NotFittedError, match="not fitted"):
        check_fitted(Est(), "weights_")
