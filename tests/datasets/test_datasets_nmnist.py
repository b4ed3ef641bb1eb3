"""N-MNIST event files: decoding, the table loader, and error paths."""

import numpy as np
import pytest

import spykeflow.datasets as ds
from spykeflow.datasets import EVENT_DTYPE, DatasetFormatError, DatasetNotFoundError

from ._dataset_files import snapshot


def test_event_dtype_is_fixed():
    assert EVENT_DTYPE == np.dtype([("x", "<u2"), ("y", "<u2"), ("p", "u1"), ("t", "<u4")])


def test_decode_hand_computed():
    # x=5, y=33, ON, t=0x12345 ; x=0, y=0, OFF, t = 2**23 - 1 ; x=255, y=240, ON, t=0
    data = bytes([5, 33, 0x81, 0x23, 0x45, 0, 0, 0x7F, 0xFF, 0xFF, 255, 240, 0x80, 0, 0])
    ev = ds.read_nmnist_events(data)
    assert ev.dtype == EVENT_DTYPE
    assert ev["x"].tolist() == [5, 0, 255]
    assert ev["y"].tolist() == [33, 0, 240]  # out-of-range coordinates are kept
    assert ev["p"].tolist() == [1, 0, 1]
    assert ev["t"].tolist() == [0x12345, (1 << 23) - 1, 0]


def test_encode_round_trip_and_validation():
    ev = np.zeros(3, EVENT_DTYPE)
    ev["x"], ev["y"], ev["p"], ev["t"] = [1, 2, 3], [4, 5, 6], [1, 0, 1], [7, 70000, 8388607]
    np.testing.assert_array_equal(ds.read_nmnist_events(ds.encode_nmnist_events(ev)), ev)
    ev["t"][0] = 1 << 23
    with pytest.raises(ValueError, match=r"events\['t'\]"):
        ds.encode_nmnist_events(ev)


def test_empty_and_malformed(tmp_path):
    with pytest.raises(DatasetFormatError, match="empty event file"):
        ds.read_nmnist_events(b"")
    path = tmp_path / "7.bin"
    path.write_bytes(bytes(12))
    with pytest.raises(DatasetFormatError, match=r"7.bin: malformed.*12 bytes.*multiple of 5"):
        ds.read_nmnist_events(path)
    with pytest.raises(DatasetNotFoundError):
        ds.read_nmnist_events(tmp_path / "none.bin")
    with pytest.raises(TypeError):
        ds.read_nmnist_events(12)


def _write_small(folder, ids_labels, split="train"):
    (folder / "samples").mkdir(parents=True, exist_ok=True)
    table = "train1K.txt" if split == "train" else "test100.txt"
    lines = ["#sample #class"] + [f"{i}\t{c}" for i, c in ids_labels]
    (folder / table).write_bytes("\r\n".join(lines).encode() + b"\r\n")
    for i, c in ids_labels:
        ev = np.zeros(i, EVENT_DTYPE)
        ev["x"] = c
        ev["t"] = np.arange(i) * 10
        (folder / "samples" / f"{i}.bs2").write_bytes(ds.encode_nmnist_events(ev))


def test_table_loader(tmp_path):
    _write_small(tmp_path / "nmnist_small", [(3, 7), (1, 2), (2, 9)])
    before = snapshot(tmp_path)
    x, y = ds.load("nmnist", root=tmp_path)
    assert y.dtype == np.int64 and y.tolist() == [7, 2, 9]  # table order
    assert x.dtype == object and [len(e) for e in x] == [3, 1, 2]
    assert all(e.dtype == EVENT_DTYPE for e in x)
    assert x[0]["x"].tolist() == [7, 7, 7]
    assert snapshot(tmp_path) == before


def test_official_digit_folders(tmp_path):
    for digit, sid in ((0, "00010"), (3, "00002")):
        d = tmp_path / "nmnist" / "Test" / str(digit)
        d.mkdir(parents=True)
        ev = np.zeros(2, EVENT_DTYPE)
        (d / f"{sid}.bin").write_bytes(ds.encode_nmnist_events(ev))
    x, y = ds.load("nmnist", "test", root=tmp_path)
    assert y.tolist() == [0, 3] and len(x) == 2


def test_missing_folder_and_sample(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        ds.load("nmnist", root=tmp_path)
    msg = str(info.value)
    assert str(tmp_path / "nmnist_small" / "train1K.txt") in msg
    assert str(tmp_path / "nmnist" / "Train") in msg and "Orchard" in msg
    _write_small(tmp_path / "nmnist_small", [(1, 2)])
    (tmp_path / "nmnist_small" / "samples" / "1.bs2").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"sample 1 .*1.bs2"):
        ds.load("nmnist", root=tmp_path)


def test_malformed_sample_in_dataset(tmp_path):
    _write_small(tmp_path / "nmnist_small", [(2, 4)])
    (tmp_path / "nmnist_small" / "samples" / "2.bs2").write_bytes(bytes(7))
    with pytest.raises(DatasetFormatError, match=r"2.bs2: malformed"):
        ds.load("nmnist", root=tmp_path)
    (tmp_path / "nmnist_small" / "train1K.txt").write_text("#x\n1 2 3\n")
    with pytest.raises(DatasetFormatError, match="line 2"):
        ds.load("nmnist", root=tmp_path)


@pytest.mark.realdata
def test_nmnist_real(data_root):
    x, y = ds.load("nmnist", "train", root=data_root)
    assert len(x) == 1000 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [97, 116, 99, 93, 105, 92, 94, 117, 87, 100]
    lengths = np.array([len(e) for e in x])
    assert lengths.min() >= 1069 and lengths.max() <= 7152
    assert all(e.dtype == EVENT_DTYPE for e in x[:10])
    xt, yt = ds.load("nmnist", "test", root=data_root)
    assert np.bincount(yt).tolist() == [8, 14, 8, 11, 14, 7, 10, 15, 2, 11]
    allev = np.concatenate(list(x) + list(xt))
    assert allev["x"].max() <= 33 and allev["y"].max() <= 33
    assert allev["t"].max() == 336040
    assert allev["p"].sum() == 2250078 and (allev["p"] == 0).sum() == 2268749  # README counts
    # timestamps increase within a recording
    assert all(np.all(np.diff(e["t"].astype(np.int64)) >= 0) for e in x[:50])
