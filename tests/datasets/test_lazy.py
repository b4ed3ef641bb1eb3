"""Lazy datasets (spykeflow.datasets.open): equality with load, views, pickling, the gzip
forward-seek reader, and the Keras PyDataset / tf.data adapters."""

import gzip
import io
import pickle

import numpy as np
import pytest

import spykeflow.datasets as sd
from spykeflow.datasets import DatasetFormatError, DatasetNotFoundError, LazyDataset, _ranges

from ._dataset_files import write_idx, write_mnist

# ---------------------------------------------------------------------------------------------
# equality with load() on every real dataset

REAL_CASES = [
    ("mnist", "train", {}, "mnist"),
    ("mnist", "test", {}, "mnist"),
    ("fashion", "test", {}, "fashion_mnist"),
    ("emnist", "train", {}, "emnist_balanced_subset"),
    ("emnist", "test", {"transpose": False}, "emnist_balanced_subset"),
    ("nmnist", "train", {}, "nmnist_small"),
    ("nmnist", "test", {}, "nmnist_small"),
    ("fsdd", "test", {}, "fsdd"),
    ("fsdd", "all", {"speakers": ["theo"]}, "fsdd"),
    ("soli", "all", {}, "soli_sample"),
    ("caltech_face_motor", "test", {}, "caltech_face_motor"),
    ("caltech_face_motor", "train", {"size": (40, 60)}, "caltech_face_motor"),
    ("digits", "test", {"seed": 3, "test_size": 0.3}, None),
    ("sequences", "test", {"seq": 4, "n": 30, "seed": 2}, "mnist"),
]


def _assert_same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.dtype == object:
        for u, v in zip(a, b):
            assert u.dtype == v.dtype and u.shape == v.shape and np.array_equal(u, v)
    else:
        assert np.array_equal(a, b)


@pytest.mark.realdata
@pytest.mark.parametrize("name,split,options,folder", REAL_CASES,
                         ids=[f"{c[0]}-{c[1]}-{len(c[2])}" for c in REAL_CASES])
def test_open_read_equals_load(data_root, name, split, options, folder):
    if folder is not None and not (data_root / folder).is_dir():
        pytest.skip(f"{folder} is not in the data root")
    x, y = sd.load(name, split, root=data_root, **options)
    ds = sd.open(name, split, root=data_root, **options)
    assert len(ds) == len(y) and ds.split == split
    assert ds.labels.dtype == np.int64 and np.array_equal(ds.labels, y)
    if x.dtype == object:
        assert ds.sample_shape is None
    else:
        assert ds.sample_shape == x.shape[1:] and ds.sample_dtype == x.dtype
    xs, ys = ds.read(progress=False)
    _assert_same(xs, x)
    assert np.array_equal(ys, y)
    # a view in a scrambled order with a repeat, and single samples
    pick = np.random.default_rng(0).permutation(len(y))[:7]
    pick = np.r_[pick, pick[0]]
    xv, yv = ds[pick].read()
    _assert_same(xv, x[pick])
    assert np.array_equal(yv, y[pick])
    sample, label = ds[-1]
    assert sample.dtype == x[-1].dtype and np.array_equal(sample, x[-1]) and label == y[-1]


@pytest.mark.realdata
def test_mnist_chunks_in_order_decompress_once(data_root):
    ds = sd.open("mnist", "train", root=data_root)
    x, _ = sd.load("mnist", "train", root=data_root)
    _ranges.close_all()
    before = dict(_ranges.stats)
    parts = [ds[a:a + 5000].read()[0] for a in range(0, len(ds), 5000)]
    assert np.array_equal(np.concatenate(parts), x)
    assert _ranges.stats["opened"] == before["opened"] + 1  # one handle for all chunks
    assert _ranges.stats["rewinds"] == before["rewinds"]  # and it only moved forward


# ---------------------------------------------------------------------------------------------
# views and indexing (synthetic MNIST files)

@pytest.fixture(params=[True, False], ids=["gzip", "raw"])
def tiny(tmp_path, request):
    arrays = write_mnist(tmp_path / "mnist", n_train=23, n_test=4, compress=request.param)
    return tmp_path, arrays["train"]


def test_views_and_negative_indices(tiny):
    root, (x, y) = tiny
    ds = sd.open("mnist", root=root)
    assert isinstance(ds, LazyDataset) and len(ds) == 23
    assert (ds.name, ds.split, ds.sample_shape, ds.sample_dtype) == (
        "mnist", "train", (28, 28), np.uint8)
    view = ds[3:20:2]
    assert len(view) == 9 and np.array_equal(view.labels, y[3:20:2])
    assert np.array_equal(view.read()[0], x[3:20:2])
    inner = view[[-1, 0, 2]]  # a view of a view, negative index included
    assert np.array_equal(inner.read()[0], x[3:20:2][[-1, 0, 2]])
    assert np.array_equal(inner.positions, [19, 3, 7])
    sample, label = ds[-23]
    assert np.array_equal(sample, x[0]) and label == y[0]
    mask = np.zeros(23, bool)
    mask[[4, 9]] = True
    assert np.array_equal(ds[mask].read()[0], x[[4, 9]])
    assert len(ds[[]]) == 0 and ds[[]].read()[0].shape == (0, 28, 28)
    assert len(ds[30:]) == 0


def test_bad_indices(tiny):
    root, _ = tiny
    ds = sd.open("mnist", root=root)
    with pytest.raises(IndexError, match=r"Expected an index in \[-23, 23\).*Received: index=23"):
        ds[23]
    with pytest.raises(IndexError, match=r"Expected indices in \[-23, 23\).*Received: index -24"):
        ds[[0, -24]]
    with pytest.raises(TypeError, match="Expected an int, a slice, a 1-D array of ints"):
        ds["3"]
    with pytest.raises(TypeError, match="Expected an int, a slice"):
        ds[[0.5, 1.0]]
    with pytest.raises(TypeError, match="Expected an int, a slice"):
        ds[np.zeros(5, bool)]  # a mask of the wrong length


def test_pickle_is_small_and_holds_no_handle(tiny):
    root, (x, _) = tiny
    ds = sd.open("mnist", root=root)
    ds[5:9].read()  # opens (and caches) a handle in this process
    for view in (ds, ds[2:20], ds[np.arange(0, 23, 3)]):
        blob = pickle.dumps(view)
        assert len(blob) < 1500, len(blob)
        assert b"GzipFile" not in blob and x[2].tobytes() not in blob
        copy = pickle.loads(blob)
        assert np.array_equal(copy.read()[0], view.read()[0])
        assert np.array_equal(copy.labels, view.labels)


@pytest.mark.realdata
def test_pickle_file_per_sample_source(data_root):
    if not (data_root / "nmnist_small").is_dir():
        pytest.skip("nmnist_small is not in the data root")
    ds = sd.open("nmnist", "test", root=data_root)[10:20]
    blob = pickle.dumps(ds)
    assert len(blob) < 4000, len(blob)
    _assert_same(pickle.loads(blob).read()[0], ds.read()[0])
    assert ds.sensor_size == (34, 34) and sd.open("digits").sensor_size is None


def test_events_read_one_file_on_demand(tmp_path, monkeypatch):
    from spykeflow.datasets import nmnist

    folder = tmp_path / "nmnist_small"
    (folder / "samples").mkdir(parents=True)
    (folder / "test100.txt").write_text("#sample #class\n1 3\n2 7\n5 0\n")
    for sample in (1, 2, 5):
        (folder / "samples" / f"{sample}.bin").write_bytes(bytes([sample, 1, 0x80, 0, 9]) * 2)
    seen = []
    real = nmnist.read_nmnist_events
    monkeypatch.setattr(nmnist, "read_nmnist_events", lambda p: seen.append(p) or real(p))
    ds = sd.open("nmnist", "test", root=tmp_path)
    assert seen == [] and ds.labels.tolist() == [3, 7, 0] and ds.sample_dtype == sd.EVENT_DTYPE
    events, label = ds[-1]
    assert [p.name for p in seen] == ["5.bin"] and label == 0 and events["x"].tolist() == [5, 5]
    (folder / "samples" / "2.bin").unlink()
    with pytest.raises(DatasetNotFoundError, match="sample 2"):  # at open, not at read
        sd.open("nmnist", "test", root=tmp_path)


# ---------------------------------------------------------------------------------------------
# the gzip reader

def test_gzip_forward_seek_and_rewind(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(400, 28, 28), dtype=np.uint8)
    path = write_idx(tmp_path / "mnist" / "train-images-idx3-ubyte.gz", x)
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(400, np.uint8))
    compressed = path.stat().st_size
    read_from_disk = []

    class Counting(io.FileIO):
        def read(self, size=-1):
            data = super().read(size)
            read_from_disk.append(len(data))
            return data

        def readinto(self, buffer):
            n = super().readinto(buffer)
            read_from_disk.append(n or 0)
            return n

    files = []

    def open_counting(p):
        files.append(io.BufferedReader(Counting(p, "r")))
        return gzip.GzipFile(fileobj=files[-1])

    monkeypatch.setattr(_ranges, "_open_gzip", open_counting)
    _ranges.close_all()
    ds = sd.open("mnist", root=tmp_path)
    rewinds = _ranges.stats["rewinds"]
    parts = [ds[a:a + 50].read()[0] for a in range(0, 400, 50)]
    assert np.array_equal(np.concatenate(parts), x)
    assert _ranges.stats["rewinds"] == rewinds
    assert sum(read_from_disk) <= 1.1 * compressed + 65536  # decompressed about once
    read_from_disk.clear()
    assert np.array_equal(ds[100:110].read()[0], x[100:110])  # an earlier range: rewind
    assert _ranges.stats["rewinds"] == rewinds + 1
    assert sum(read_from_disk) < 0.5 * compressed + 65536  # only up to the range
    # a file rewritten on disk is reopened, not read through the stale handle
    opened = _ranges.stats["opened"]
    write_idx(path, x[::-1])
    assert np.array_equal(ds[0:3].read()[0], x[::-1][:3])
    assert _ranges.stats["opened"] == opened + 1
    _ranges.close_all()
    for f in files:
        f.close()


def test_gzip_errors_name_the_file(tmp_path):
    write_mnist(tmp_path / "mnist", n_train=50)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[30:60] = b"\xff" * 30
    path.write_bytes(bytes(raw))
    with pytest.raises(DatasetFormatError, match="train-images-idx3-ubyte.gz: corrupt or trunc"):
        sd.open("mnist", root=tmp_path)[40:50].read()


# ---------------------------------------------------------------------------------------------
# open(): names, options, errors

def test_open_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="mnist"):
        sd.open("mnist", root=tmp_path)  # raised at open time
    with pytest.raises(ValueError, match="Unknown dataset name 'nope'"):
        sd.open("nope")
    with pytest.raises(TypeError, match=r"Received \['progress'\].*read\(progress=\.\.\.\)"):
        sd.open("nmnist", root=tmp_path, progress=False)
    with pytest.raises(TypeError, match=r"Received \['cache'\].*load\('sequences'"):
        sd.open("sequences", root=tmp_path, cache=tmp_path / "c.npz")
    with pytest.raises(TypeError, match=r"accepts the options \['transpose'\].*'flip'"):
        sd.open("emnist", root=tmp_path, flip=True)
    with pytest.raises(ValueError, match=r"split.*'validation'"):
        sd.open("digits", split="validation")


def test_digits_views_match_load():
    x, y = sd.load("digits", "all")
    ds = sd.open("digits", "all")
    pick = np.array([1796, 0, 5, 5, 900])
    xv, yv = ds[pick].read()
    assert np.array_equal(xv, x[pick]) and np.array_equal(yv, y[pick])
    assert np.array_equal(ds.labels, y)
    assert [int(v) for _, v in list(ds[:3])] == y[:3].tolist()


# ---------------------------------------------------------------------------------------------
# Keras PyDataset and tf.data

def _scale(batch):
    return batch.astype("float32") / 255.0


def _model():
    import keras

    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_pydataset_batches_and_fit():
    import keras

    ds = sd.open("digits", "test")[:70]
    x, y = ds.read()
    data = ds.to_pydataset(32, transform=_scale)
    assert isinstance(data, keras.utils.PyDataset) and len(data) == 3
    xb, yb = data[2]
    assert xb.shape == (6, 28, 28) and np.array_equal(xb, _scale(x[64:]))
    assert np.array_equal(yb, y[64:])
    raw = ds.to_pydataset(32)
    assert raw[0][0].dtype == np.uint8 and np.array_equal(raw[0][0], x[:32])
    history = _model().fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    with pytest.raises(IndexError, match=r"batch index in \[0, 3\).*Received: 3"):
        data[3]
    # a pickled copy (what multiprocessing workers get) gives the same batches
    copy = pickle.loads(pickle.dumps(data))
    assert np.array_equal(copy[1][0], data[1][0])


def test_pydataset_shuffle_per_epoch():
    ds = sd.open("digits", "test")[:50]
    data = ds.to_pydataset(16, shuffle=True, seed=1)
    first = np.concatenate([data[k][1] for k in range(len(data))])
    assert sorted(first.tolist()) == sorted(ds.labels.tolist())
    assert not np.array_equal(first, ds.labels)
    data.on_epoch_end()
    second = np.concatenate([data[k][1] for k in range(len(data))])
    assert sorted(second.tolist()) == sorted(first.tolist()) and not np.array_equal(first, second)
    again = ds.to_pydataset(16, shuffle=True, seed=1)
    assert np.array_equal(np.concatenate([again[k][1] for k in range(4)]), first)


def test_batching_errors(tmp_path):
    ds = sd.open("digits", "test")
    for bad in (0, 2.0, None):
        with pytest.raises(ValueError, match=f"Expected batch_size to be an int >= 1. "
                                             f"Received: batch_size={bad}"):
            ds.to_pydataset(bad)
    with pytest.raises(TypeError, match="Expected transform to be callable"):
        ds.to_pydataset(8, transform="scale")
    with pytest.raises(ValueError, match="at least one sample"):
        ds[:0].to_tf_dataset()
    folder = tmp_path / "nmnist_small"
    (folder / "samples").mkdir(parents=True)
    (folder / "test100.txt").write_text("1 3\n")
    (folder / "samples" / "1.bin").write_bytes(bytes([1, 1, 0x80, 0, 9]))
    with pytest.raises(ValueError, match="Expected a transform for 'nmnist'"):
        sd.open("nmnist", "test", root=tmp_path).to_pydataset(4)


def test_tf_dataset_batches_and_fit():
    ds = sd.open("digits", "test")[:70]
    x, y = ds.read()
    batched = ds.to_tf_dataset(transform=_scale, batch_size=32)
    got = list(batched.as_numpy_iterator())
    assert [len(b[1]) for b in got] == [32, 32, 6]
    assert np.array_equal(np.concatenate([b[0] for b in got]), _scale(x))
    assert np.array_equal(np.concatenate([b[1] for b in got]), y)
    single = ds.to_tf_dataset()
    assert int(single.cardinality()) == 70
    first = next(iter(single.as_numpy_iterator()))
    assert first[0].shape == (28, 28) and first[0].dtype == np.uint8 and first[1] == y[0]
    history = _model().fit(batched.repeat(), epochs=1, steps_per_epoch=2, verbose=0,
                           shuffle=False)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.realdata
def test_pydataset_real_mnist_with_input_layer(data_root):
    import spykeflow

    ds = sd.open("mnist", "test", root=data_root)[:40]
    encoder = spykeflow.InputLayer()
    data = ds.to_pydataset(16, transform=encoder.transform)
    x, _ = ds[16:32].read()
    assert np.array_equal(data[1][0], encoder.transform(x))
