"""Argument checks of the synthetic MNIST sequences (the clips themselves: tests/sequences)."""

import numpy as np
import pytest

import spykeflow.datasets as ds
from spykeflow.datasets.sequences import check_seq, make_sequences, n_classes


@pytest.fixture
def digits():
    img = np.zeros((2, 28, 28), np.uint8)
    img[:, 10:18, 12:16] = 255
    return img, np.array([3, 7])


def test_seq_must_be_one_of_the_five_integers():
    assert check_seq(np.int64(2)) == 2 and n_classes(4) == 10
    for bad in (True, 0, 6, 2.0, "1"):
        with pytest.raises(ValueError, match=r"seq in \[1, 2, 3, 4, 5\]"):
            check_seq(bad)


def test_make_sequences_checks_its_settings(digits):
    with pytest.raises(ValueError, match=r"seq in \[1, 2, 3, 4, 5\]. Received: seq=True"):
        make_sequences(*digits, seq=True)
    with pytest.raises(TypeError, match="time_steps to be an integer"):
        make_sequences(*digits, seq=1, time_steps=2.5)
    with pytest.raises(ValueError, match="seed >= 0"):
        make_sequences(*digits, seq=1, seed=-1)
    with pytest.raises(TypeError, match="progress to be a bool"):
        make_sequences(*digits, seq=1, progress="yes")
    x, y = make_sequences(*digits, seq=4, time_steps=np.int64(3), progress=False)
    assert x.shape == (2, 3, 28, 28) and y.tolist() == [3, 7]


def test_load_sequences_checks_before_reading_mnist(tmp_path):
    # the data root is empty: each call must fail on its argument, not on the missing MNIST
    with pytest.raises(ValueError, match="seq in"):
        ds.load("sequences", root=tmp_path, seq=True)
    with pytest.raises(TypeError, match="n to be an integer"):
        ds.load("sequences", root=tmp_path, seq=1, n=2.5)
    with pytest.raises(ValueError, match="seed >= 0"):
        ds.load("sequences", root=tmp_path, seq=1, seed=-3)
    with pytest.raises(ValueError, match="time_steps >= 2"):
        ds.load("sequences", root=tmp_path, seq=1, time_steps=1)
    with pytest.raises(ds.DatasetNotFoundError, match="mnist"):
        ds.load("sequences", root=tmp_path, seq=1, n=2)
