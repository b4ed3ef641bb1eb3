"""IDX loaders (MNIST, Fashion-MNIST, EMNIST Balanced): real data and every error path."""

import gzip

import numpy as np
import pytest

import spykeflow.datasets as ds
from spykeflow.datasets import DatasetFormatError, DatasetNotFoundError

from ._dataset_files import idx_bytes, snapshot, write_idx, write_mnist

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ---------------------------------------------------------------------------------------------
# real data

@pytest.mark.realdata
@pytest.mark.parametrize("split,counts",
                         [("train", MNIST_TRAIN_COUNTS), ("test", MNIST_TEST_COUNTS)])
def test_mnist_real(data_root, split, counts):
    before = snapshot(data_root / "mnist")
    x, y = ds.load("mnist", split, root=data_root)
    assert x.shape == (sum(counts), 28, 28) and x.dtype == np.uint8
    assert y.dtype == np.int64 and y.shape == (sum(counts),)
    assert np.bincount(y).tolist() == counts
    assert x.min() == 0 and x.max() == 255
    assert x.flags.writeable and x.flags.c_contiguous
    assert snapshot(data_root / "mnist") == before, "loading must not write into the data folder"
    assert x[:, :2, :].mean() < 0.1 < 10 < x[:, 10:18, 10:18].mean()  # blank border, inked centre
    if split == "train":
        assert y[:5].tolist() == [5, 0, 4, 1, 9]  # the well-known first MNIST labels


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["fashion_mnist", "fashion", "Fashion-MNIST"])
def test_fashion_real(data_root, name):
    x, y = ds.load(name, "test", root=data_root)
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [1000] * 10


@pytest.mark.realdata
def test_fashion_train_counts(data_root):
    x, y = ds.load("fashion_mnist", "train", root=data_root)
    assert x.shape == (60000, 28, 28)
    assert np.bincount(y).tolist() == [6000] * 10


@pytest.mark.realdata
def test_emnist_subset_real(data_root):
    x, y = ds.load("emnist", "train", root=data_root)
    xt, yt = ds.load("emnist_balanced", "test", root=data_root)
    assert x.shape == (9120, 28, 28) and xt.shape == (304, 28, 28)
    assert x.dtype == np.uint8 and y.dtype == np.int64
    assert y.min() == 0 and y.max() == 46 and len(np.unique(y)) == 47
    counts = np.bincount(y, minlength=47)
    assert counts.min() == 174 and counts.max() == 212  # README: 174 to 212 per class
    assert yt.min() >= 0 and yt.max() <= 46


@pytest.mark.realdata
def test_emnist_upright_is_transpose_of_storage(data_root):
    upright, _ = ds.load("emnist", "test", root=data_root)
    stored, _ = ds.load("emnist", "test", root=data_root, transpose=False)
    np.testing.assert_array_equal(upright, stored.transpose(0, 2, 1))
    assert upright.flags.c_contiguous
    raw = ds.read_idx(data_root / "emnist_balanced_subset"
                      / "emnist-balanced-test-subset-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(stored, raw)


@pytest.mark.realdata
def test_emnist_orientation_matches_mnist(data_root):
    """Upright EMNIST digit '1's are tall strokes (ink spread over rows, narrow in columns),
    and upright '7's carry their bar at the top, as in MNIST."""
    x, y = ds.load("emnist", "train", root=data_root)
    mapping = ds.emnist_mapping(root=data_root)
    ones = x[y == mapping.index("1")].astype(float)
    row_profile = ones.mean(axis=(0, 2))  # ink per row
    col_profile = ones.mean(axis=(0, 1))  # ink per column
    tall = (row_profile > 0.2 * row_profile.max()).sum()
    wide = (col_profile > 0.2 * col_profile.max()).sum()
    assert tall > wide
    sevens = x[y == mapping.index("7")].astype(float).mean(axis=0)
    assert sevens[:14].sum() > sevens[14:].sum()  # top half carries the bar
    # the stored (transposed) sevens have their bar on the left instead
    stored, _ = ds.load("emnist", "train", root=data_root, transpose=False)
    s7 = stored[y == mapping.index("7")].astype(float).mean(axis=0)
    assert s7[:, :14].sum() > s7[:, 14:].sum()


@pytest.mark.realdata
def test_emnist_mapping_real(data_root):
    mapping = ds.emnist_mapping(root=data_root)
    assert "".join(mapping) == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"


# ---------------------------------------------------------------------------------------------
# synthetic files

def test_read_idx_types_and_shapes():
    for code, dtype in [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
                        (0x0D, np.float32), (0x0E, np.float64)]:
        arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
        if code == 0x08:
            arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
        out = ds.read_idx(idx_bytes(arr, code))
        assert out.dtype == np.dtype(dtype) and out.dtype.isnative
        np.testing.assert_array_equal(out, arr)


def test_load_raw_and_gz_equal(tmp_path):
    written = write_mnist(tmp_path / "gz" / "mnist", compress=True)
    write_mnist(tmp_path / "raw" / "mnist", compress=False)
    xg, yg = ds.load("mnist", "train", root=tmp_path / "gz")
    xr, yr = ds.load("mnist", "train", root=tmp_path / "raw")
    np.testing.assert_array_equal(xg, written["train"][0])
    np.testing.assert_array_equal(yg, written["train"][1])
    np.testing.assert_array_equal(xg, xr)
    np.testing.assert_array_equal(yg, yr)
    xt, _ = ds.load("mnist", "test", root=tmp_path / "gz")
    assert xt.shape == (3, 28, 28)


def test_root_resolution(tmp_path, monkeypatch):
    write_mnist(tmp_path / "env" / "mnist")
    write_mnist(tmp_path / "arg" / "mnist", n_train=7)
    write_mnist(tmp_path / "cwd" / "AllDataSets" / "mnist", n_train=2)
    monkeypatch.setenv("SPYKEFLOW_DATA", str(tmp_path / "env"))
    monkeypatch.chdir(tmp_path / "cwd")
    assert ds.load("mnist", root=tmp_path / "arg")[0].shape[0] == 7  # explicit wins
    assert ds.load("mnist")[0].shape[0] == 5  # then $SPYKEFLOW_DATA
    monkeypatch.delenv("SPYKEFLOW_DATA")
    assert ds.load("mnist")[0].shape[0] == 2  # then ./AllDataSets
    assert ds.data_root() == tmp_path / "cwd" / "AllDataSets"
    assert ds.data_root(str(tmp_path)) == tmp_path
    with pytest.raises(TypeError, match="root"):
        ds.data_root(3)


def test_missing_folder_lists_places_and_how_to_get(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        ds.load("mnist", root=tmp_path)
    msg = str(info.value)
    assert str(tmp_path / "mnist") in msg and "download(\"mnist\"" in msg
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(DatasetNotFoundError) as info:
        ds.load("emnist", root=tmp_path)
    msg = str(info.value)
    assert str(tmp_path / "emnist_balanced") in msg
    assert str(tmp_path / "emnist_balanced_subset") in msg
    assert "download(\"emnist_balanced\"" in msg


def test_missing_file_lists_names(tmp_path):
    write_mnist(tmp_path / "mnist")
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError, match="t10k-labels-idx1-ubyte.gz"):
        ds.load("mnist", "test", root=tmp_path)
    ds.load("mnist", "train", root=tmp_path)  # the other split still loads


def test_wrong_magic(tmp_path):
    write_mnist(tmp_path / "mnist")
    labels = tmp_path / "mnist" / "train-labels-idx1-ubyte.gz"
    images = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    images.write_bytes(labels.read_bytes())  # a labels file where images are expected
    with pytest.raises(DatasetFormatError, match=r"train-images.*wrong magic number 2049.*2051"):
        ds.load("mnist", root=tmp_path)
    with pytest.raises(DatasetFormatError, match="not an IDX file"):
        ds.read_idx(b"\x12\x34\x08\x01\x00\x00\x00\x00")


def test_truncated(tmp_path):
    write_mnist(tmp_path / "mnist")
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    data = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(DatasetFormatError, match=r"train-images-idx3-ubyte.gz: truncated IDX file"):
        ds.load("mnist", root=tmp_path)
    with pytest.raises(DatasetFormatError, match="truncated IDX header"):
        ds.read_idx(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(DatasetFormatError, match="fewer than the 4-byte"):
        ds.read_idx(b"")
    with pytest.raises(DatasetFormatError, match="unexpected bytes"):
        ds.read_idx(idx_bytes(np.zeros(3, np.uint8)) + b"\x00")


def test_count_mismatch(tmp_path):
    write_mnist(tmp_path / "mnist")
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(DatasetFormatError, match=r"count mismatch.*5 images.*4 labels"):
        ds.load("mnist", root=tmp_path)


def test_labels_out_of_range(tmp_path):
    write_mnist(tmp_path / "mnist")
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.full(5, 10, np.uint8))
    with pytest.raises(DatasetFormatError, match=r"labels must lie in 0..9"):
        ds.load("mnist", root=tmp_path)


def test_corrupt_gzip(tmp_path):
    write_mnist(tmp_path / "mnist")
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(raw[: len(raw) // 2]))  # cut gzip stream
    with pytest.raises(DatasetFormatError,
                       match=r"train-images-idx3-ubyte.gz: corrupt or truncated gzip"):
        ds.load("mnist", root=tmp_path)
    raw[20:40] = b"\xff" * 20  # garbage inside the deflate stream
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetFormatError, match="corrupt or truncated gzip"):
        ds.load("mnist", root=tmp_path)


def test_emnist_official_names_preferred_and_transposed(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "emnist_balanced"
    x = rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    y = np.array([0, 46, 3, 10], np.uint8)
    write_idx(folder / "emnist-balanced-test-images-idx3-ubyte.gz", x)
    write_idx(folder / "emnist-balanced-test-labels-idx1-ubyte.gz", y)
    sub = tmp_path / "emnist_balanced_subset"
    write_idx(sub / "emnist-balanced-test-subset-images-idx3-ubyte.gz", x[:2])
    write_idx(sub / "emnist-balanced-test-subset-labels-idx1-ubyte.gz", y[:2])
    up, lab = ds.load("emnist", "test", root=tmp_path)
    np.testing.assert_array_equal(up, x.transpose(0, 2, 1))
    assert lab.tolist() == [0, 46, 3, 10]
    raw, _ = ds.load("emnist", "test", root=tmp_path, transpose=False)
    np.testing.assert_array_equal(raw, x)
    with pytest.raises(TypeError, match="transpose to be a bool"):
        ds.load("emnist", "test", root=tmp_path, transpose="no")


def test_emnist_mapping_crlf_and_errors(tmp_path):
    folder = tmp_path / "emnist_balanced"
    folder.mkdir()
    (folder / "emnist-balanced-mapping.txt").write_bytes(b"0 48\r\n1 65\r\n2 97\r\n")
    assert ds.emnist_mapping(root=tmp_path) == ["0", "A", "a"]
    (folder / "emnist-balanced-mapping.txt").write_bytes(b"0 48\n1 x\n")
    with pytest.raises(DatasetFormatError, match="line 2"):
        ds.emnist_mapping(root=tmp_path)
    (folder / "emnist-balanced-mapping.txt").unlink()
    with pytest.raises(DatasetNotFoundError, match="mapping"):
        ds.emnist_mapping(root=tmp_path)


def test_unknown_name_lists_known():
    with pytest.raises(ValueError) as info:
        ds.load("cifar10")
    msg = str(info.value)
    for name in ds.known():
        assert name in msg
    assert "fashion -> fashion_mnist" in msg and "facebike" in msg
    with pytest.raises(TypeError, match="str"):
        ds.load(None)


def test_names_are_case_insensitive_with_dashes(tmp_path):
    write_mnist(tmp_path / "fashion_mnist")
    x, _ = ds.load(" Fashion-MNIST ", "test", root=tmp_path)
    assert x.shape == (3, 28, 28)
    assert ds.aliases() == {"fashion": "fashion_mnist", "emnist": "emnist_balanced",
                            "facebike": "caltech_face_motor"}


def test_unknown_split(tmp_path):
    write_mnist(tmp_path / "mnist")
    with pytest.raises(ValueError, match=r"split.*\['train', 'test'\].*'validation'"):
        ds.load("mnist", "validation", root=tmp_path)


def test_unknown_option_lists_accepted(tmp_path):
    write_mnist(tmp_path / "emnist_balanced_subset", compress=True)
    with pytest.raises(TypeError,
                       match=r"'emnist_balanced' accepts the options \['transpose'\].*'flip'"):
        ds.load("emnist", root=tmp_path, flip=True)


def test_import_is_light():
    """Importing the loaders pulls in neither TensorFlow nor the per-format libraries."""
    import subprocess
    import sys

    code = ("import sys, spykeflow.datasets; "
            "print(sorted(m for m in ('tensorflow', 'PIL', 'h5py', 'scipy.io', 'sklearn.datasets')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
