"""Caltech image folders, FSDD WAV files, Soli HDF5 and the embedded digits."""

import gzip
import io

import numpy as np
import pytest

import spykeflow.datasets as ds
from spykeflow.datasets import DatasetFormatError, DatasetNotFoundError

from ._dataset_files import snapshot

# ---------------------------------------------------------------------------------------------
# Caltech faces / motorbikes

def _jpeg(path, h, w, value):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((h, w), value, np.uint8)).save(path, quality=95)


def _caltech(root, with_list=True):
    base = root / "caltech_face_motor"
    for split, n in (("LearningSet", 3), ("TestingSet", 2)):
        for k in range(n):
            _jpeg(base / split / "Face" / f"image_{k:04d}.jpg", 30 + k, 40, 50)
            _jpeg(base / split / "Motor" / f"motor_{k:04d}.jpg", 20, 25 + k, 200)
    if with_list:
        (base / "TrainingSet_subset_of_LearningSet.txt").write_text(
            "Face/image_0000.jpg\nFace/image_0002.jpg\nMotor/motor_0001.jpg\n")
    return base


def test_caltech_splits_labels_and_sizes(tmp_path):
    base = _caltech(tmp_path)
    before = snapshot(base)
    x, y = ds.load("facebike", "learn", root=tmp_path)
    assert x.dtype == object and y.tolist() == [0, 0, 0, 1, 1, 1]
    assert [im.shape for im in x] == [(30, 40), (31, 40), (32, 40), (20, 25), (20, 26), (20, 27)]
    assert all(im.dtype == np.uint8 for im in x)
    assert abs(int(x[0].mean()) - 50) <= 2 and abs(int(x[3].mean()) - 200) <= 2
    xt, yt = ds.load("caltech_face_motor", "test", root=tmp_path)
    assert yt.tolist() == [0, 0, 1, 1]
    xr, yr = ds.load("caltech_face_motor", "train", root=tmp_path)
    assert yr.tolist() == [0, 0, 1] and xr[1].shape == (32, 40)
    xs, _ = ds.load("caltech_face_motor", "learn", root=tmp_path, size=(16, 12))
    assert xs.shape == (6, 16, 12) and xs.dtype == np.uint8
    xq, _ = ds.load("caltech_face_motor", "learn", root=tmp_path, size=10, progress=False)
    assert xq.shape == (6, 10, 10)                      # one int: a square
    assert snapshot(base) == before


def test_caltech_real_training_folder_wins(tmp_path):
    base = _caltech(tmp_path)
    _jpeg(base / "TrainingSet" / "Face" / "a.jpg", 9, 9, 10)
    _jpeg(base / "TrainingSet" / "Motor" / "b.jpg", 9, 9, 10)
    x, y = ds.load("caltech_face_motor", "train", root=tmp_path)
    assert y.tolist() == [0, 1] and x[0].shape == (9, 9)


def test_caltech_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        ds.load("caltech_face_motor", "train", root=tmp_path)
    msg = str(info.value)
    assert "TrainingSet" in msg and "TrainingSet_subset_of_LearningSet.txt" in msg
    assert "Kheradpisheh" in msg
    base = _caltech(tmp_path)
    bad = base / "TestingSet" / "Motor" / "motor_0001.jpg"
    bad.write_bytes(bad.read_bytes()[:60])  # truncated JPEG
    with pytest.raises(DatasetFormatError, match=r"motor_0001.jpg: unreadable image"):
        ds.load("caltech_face_motor", "test", root=tmp_path)
    bad.write_bytes(b"this is not a jpeg at all")
    with pytest.raises(DatasetFormatError, match=r"motor_0001.jpg: unreadable image"):
        ds.load("caltech_face_motor", "test", root=tmp_path)
    (base / "TrainingSet_subset_of_LearningSet.txt").write_text("../secret.jpg\n")
    with pytest.raises(DatasetFormatError, match="line 1"):
        ds.load("caltech_face_motor", "train", root=tmp_path)
    (base / "TrainingSet_subset_of_LearningSet.txt").write_text("Face/nope.jpg\n")
    with pytest.raises(DatasetNotFoundError, match="nope.jpg"):
        ds.load("caltech_face_motor", "train", root=tmp_path)
    with pytest.raises(ValueError, match=r"Expected size to be an int >= 1 or 2 such ints"):
        ds.load("caltech_face_motor", "learn", root=tmp_path, size=(0, 3))
    with pytest.raises(ValueError, match="split"):
        ds.load("caltech_face_motor", "validation", root=tmp_path)
    with pytest.raises(ValueError, match=r"resample to be one of \['nearest'"):
        ds.load("caltech_face_motor", "learn", root=tmp_path, size=8, resample="cubic")
    with pytest.raises(TypeError, match="progress to be a bool"):
        ds.load("caltech_face_motor", "learn", root=tmp_path, progress="yes")


@pytest.mark.realdata
def test_caltech_real(data_root):
    x, y = ds.load("caltech_face_motor", "learn", root=data_root)
    assert len(x) == 474 and np.bincount(y).tolist() == [237, 237]
    hs = [im.shape[0] for im in x]
    ws = [im.shape[1] for im in x]
    assert min(ws[:237]) == 416 and max(ws[:237]) == 708  # README: faces 416-708 wide
    assert min(hs[237:]) == 121 and max(hs[237:]) == 203  # motorbikes 121-203 high


@pytest.mark.realdata
def test_caltech_real_train_and_test_lists(data_root, monkeypatch):
    """The real TrainingSet list and TestingSet folders, without decoding 800 JPEGs again."""
    import spykeflow.datasets.images as images

    seen = []

    def fake_read(path, size=None, resample="bilinear"):
        seen.append(path)
        return np.zeros(size or (2, 2), np.uint8)

    monkeypatch.setattr(images, "read_grey_image", fake_read)
    xr, yr = ds.load("facebike", "train", root=data_root, size=(160, 250))
    assert xr.shape == (400, 160, 250) and np.bincount(yr).tolist() == [200, 200]
    assert all("LearningSet" in str(p) for p in seen) and len(set(seen)) == 400
    assert seen[0].name == "image_0001.jpg"
    xt, yt = ds.load("facebike", "test", root=data_root)
    assert len(xt) == 396 and np.bincount(yt).tolist() == [198, 198]


# ---------------------------------------------------------------------------------------------
# FSDD

def _wav(path, samples, rate=8000):
    from scipy.io import wavfile

    path.parent.mkdir(parents=True, exist_ok=True)
    wavfile.write(path, rate, np.asarray(samples, np.int16))


def test_fsdd_split_scaling_and_speakers(tmp_path):
    rec = tmp_path / "fsdd" / "recordings"
    for digit in (0, 1):
        for speaker in ("ann", "bob"):
            for index in (0, 4, 5, 12):
                _wav(rec / f"{digit}_{speaker}_{index}.wav", [digit, -32768, 16384, index])
    x, y = ds.load("fsdd", "train", root=tmp_path)  # index 5 and 12 of 2 digits x 2 speakers
    assert len(x) == 8 and y.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert x[0].dtype == np.float32
    np.testing.assert_allclose(x[0], [0, -1.0, 0.5, 5 / 32768])
    xt, yt = ds.load("fsdd", "test", root=tmp_path)
    assert len(xt) == 8 and ds.fsdd_metadata("test", root=tmp_path)["index"].max() == 4
    xa, ya = ds.load("fsdd", "all", root=tmp_path, speakers=["bob"])
    meta = ds.fsdd_metadata("all", root=tmp_path, speakers="bob")
    assert len(xa) == 8 and set(meta["speaker"]) == {"bob"} and set(meta["rate"]) == {8000}
    assert meta["index"].tolist() == [0, 4, 5, 12, 0, 4, 5, 12]
    assert meta["digit"].tolist() == ya.tolist()
    with pytest.raises(ValueError, match=r"\['ann', 'bob'\].*carl"):
        ds.load("fsdd", "all", root=tmp_path, speakers=["carl"])


@pytest.mark.filterwarnings("ignore::scipy.io.wavfile.WavFileWarning")
def test_fsdd_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="recordings"):
        ds.load("fsdd", root=tmp_path)
    rec = tmp_path / "fsdd" / "recordings"
    _wav(rec / "3_ann_7.wav", [1, 2, 3])
    (rec / "3_ann_8.wav").write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(DatasetFormatError, match="3_ann_8.wav: unreadable WAV"):
        ds.load("fsdd", root=tmp_path)
    (rec / "3_ann_8.wav").unlink()
    (rec / "hello.wav").write_bytes(b"")
    with pytest.raises(DatasetFormatError, match="hello.wav: file name"):
        ds.load("fsdd", root=tmp_path)


@pytest.mark.realdata
def test_fsdd_real(data_root):
    meta = ds.fsdd_metadata("all", root=data_root)
    assert len(meta) == 3000 and set(meta["rate"]) == {8000}
    assert np.unique(meta["speaker"], return_counts=True)[1].tolist() == [500] * 6
    x, y = ds.load("fsdd", "test", root=data_root)
    assert len(x) == 300 and np.bincount(y).tolist() == [30] * 10
    lengths = np.array([len(w) for w in x]) / 8000
    assert 0.14 <= lengths.min() and lengths.max() <= 2.3  # README: 0.143-2.283 s
    assert all(w.dtype == np.float32 and np.abs(w).max() <= 1 for w in x)
    held_out = ds.load("fsdd", "all", root=data_root, speakers=["theo"])[1]
    assert len(held_out) == 500


# ---------------------------------------------------------------------------------------------
# Soli

def _soli_bytes(frames, label, channels=4, label_values=None):
    import h5py

    bio = io.BytesIO()
    with h5py.File(bio, "w") as h5:
        for c in range(channels):
            data = np.zeros((frames, 1024), np.float32)
            data[:, c * 33] = np.arange(frames) + c  # one marked bin per channel
            h5[f"ch{c}"] = data
        h5["label"] = (np.full((frames, 1), label, np.int32) if label_values is None
                       else np.asarray(label_values, np.int32).reshape(-1, 1))
    return bio.getvalue()


def test_soli_plain_and_gz(tmp_path):
    folder = tmp_path / "soli"
    folder.mkdir()
    (folder / "2_1_0.h5").write_bytes(_soli_bytes(5, 2))
    (folder / "2_0_3.h5.gz").write_bytes(gzip.compress(_soli_bytes(3, 2)))
    (folder / "10_0_1.h5.gz").write_bytes(gzip.compress(_soli_bytes(4, 10)))
    before = snapshot(folder)
    x, y = ds.load("soli", "all", root=tmp_path)
    assert y.tolist() == [2, 2, 10]  # gesture, session, instance order
    assert [s.shape for s in x] == [(3, 4, 32, 32), (5, 4, 32, 32), (4, 4, 32, 32)]
    seq = x[0]
    assert seq.dtype == np.float32
    for c in range(4):  # bin c*33 of channel c = row c*33 // 32, column c*33 % 32
        np.testing.assert_array_equal(seq[:, c, (c * 33) // 32, (c * 33) % 32], np.arange(3) + c)
    assert snapshot(folder) == before  # .gz read in memory, nothing unpacked
    meta = ds.soli_metadata(root=tmp_path, sessions=[0])
    assert meta["frames"].tolist() == [3, 4] and meta["instance"].tolist() == [3, 1]


def test_soli_split_file(tmp_path):
    folder = tmp_path / "soli"
    folder.mkdir()
    for name in ("0_0_0", "0_0_1", "1_0_0"):
        (folder / f"{name}.h5").write_bytes(_soli_bytes(2, int(name[0])))
    with pytest.raises(DatasetNotFoundError, match="file_half.json"):
        ds.load("soli", "train", root=tmp_path)
    (folder / "file_half.json").write_text('{"train": ["0_0_0", "1_0_0"], "eval": ["0_0_1"]}')
    assert ds.load("soli", "train", root=tmp_path)[1].tolist() == [0, 1]
    assert ds.load("soli", "test", root=tmp_path)[1].tolist() == [0]


def test_soli_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="soli_sample"):
        ds.load("soli", "all", root=tmp_path)
    folder = tmp_path / "soli"
    folder.mkdir()
    (folder / "3_0_0.h5").write_bytes(_soli_bytes(4, 5))
    with pytest.raises(DatasetFormatError, match="gesture 5 but the file name says gesture 3"):
        ds.load("soli", "all", root=tmp_path)
    (folder / "3_0_0.h5").write_bytes(_soli_bytes(4, 3, label_values=[3, 3, 4, 3]))
    with pytest.raises(DatasetFormatError, match="one gesture id per frame"):
        ds.load("soli", "all", root=tmp_path)
    (folder / "3_0_0.h5").write_bytes(_soli_bytes(4, 3, channels=3))
    with pytest.raises(DatasetFormatError, match=r"missing HDF5 datasets \['ch3'\]"):
        ds.load("soli", "all", root=tmp_path)
    (folder / "3_0_0.h5").write_bytes(b"not hdf5")
    with pytest.raises(DatasetFormatError, match="3_0_0.h5: unreadable HDF5"):
        ds.load("soli", "all", root=tmp_path)
    (folder / "3_0_0.h5").unlink()
    (folder / "3_0_1.h5.gz").write_bytes(gzip.compress(_soli_bytes(2, 3))[:-20])
    with pytest.raises(DatasetFormatError, match="3_0_1.h5.gz: corrupt or truncated gzip"):
        ds.load("soli", "all", root=tmp_path)


@pytest.mark.realdata
def test_soli_real(data_root):
    x, y = ds.load("soli", "all", root=data_root)
    assert len(x) == 14 and set(y.tolist()) == {0}
    frames = sorted(s.shape[0] for s in x)
    assert frames[0] == 54 and frames[-1] == 72
    assert x[0].shape == (68, 4, 32, 32)  # 0_0_0: 68 frames (README)
    nonzero = np.mean([np.mean(s > 0) for s in x])
    assert 0.001 < nonzero < 0.05 and max(float(s.max()) for s in x) <= 1.0


# ---------------------------------------------------------------------------------------------
# embedded digits

def test_digits_split_deterministic_and_stratified():
    xtr, ytr = ds.load("digits", "train")
    xte, yte = ds.load("digits", "test")
    assert xtr.shape == (1438, 28, 28) and xte.shape == (359, 28, 28)
    assert xtr.dtype == np.uint8 and ytr.dtype == np.int64
    counts_te = np.bincount(yte)
    assert counts_te.min() >= 35 and counts_te.max() <= 37  # 20 % of ~180 per class
    x2, y2 = ds.load("digits", "test")
    np.testing.assert_array_equal(xte, x2)
    np.testing.assert_array_equal(yte, y2)
    x3, _ = ds.load("digits", "test", seed=1)
    assert not np.array_equal(x3, xte)
    xa, ya = ds.load("digits", "all")
    assert len(xa) == 1797
    # train and test are disjoint and together give everything
    key = lambda a: {im.tobytes() for im in a}  # noqa: E731
    assert len(key(xtr) & key(xte)) <= 5  # (a handful of duplicate images exist in the set)
    assert sorted(np.concatenate([ytr, yte]).tolist()) == sorted(ya.tolist())


def test_digits_mnist_like_framing():
    from sklearn.datasets import load_digits

    x, _ = ds.load("digits", "all")
    raw = load_digits().images
    assert x[:, :4].max() == 0 and x[:, 24:].max() == 0  # 4-pixel blank margin, 20x20 box
    assert x[:, :, :4].max() == 0 and x[:, :, 24:].max() == 0
    assert x.max() == 255
    # shrinking the 20x20 box back to 8x8 recovers the original pattern
    from PIL import Image

    small = np.stack([
        np.asarray(Image.fromarray(im[4:24, 4:24]).resize((8, 8), Image.Resampling.BOX))
        for im in x[:50]])
    corr = np.corrcoef(small.astype(float).ravel(), raw[:50].ravel())[0, 1]
    assert corr > 0.95
    with pytest.raises(ValueError, match="test_size"):
        ds.load("digits", "train", test_size=2)
    with pytest.raises(TypeError, match="test_size to be a finite number"):
        ds.load("digits", "train", test_size="0.2")
    with pytest.raises(ValueError, match="seed >= 0"):
        ds.load("digits", "train", seed=-1)


def test_upscale_matches_pillow_bilinear():
    from PIL import Image
    from sklearn.datasets import load_digits

    from spykeflow.datasets.digits import bilinear_matrix, upscale_digits

    imgs = load_digits().images[:40]
    ours = upscale_digits(imgs)
    for img, out in zip(imgs, ours):
        ref = Image.fromarray((img * 255 / 16).astype(np.float32), mode="F").resize(
            (20, 20), Image.Resampling.BILINEAR)
        diff = np.abs(np.rint(np.asarray(ref)) - out[4:24, 4:24].astype(float))
        assert diff.max() <= 1  # float rounding only
    np.testing.assert_allclose(bilinear_matrix(8, 20).sum(axis=1), 1.0)
    # shrinking 4 -> 2 widens the triangle to 2 pixels: weights 0.75, 0.75, 0.25, 0 normalised
    np.testing.assert_allclose(bilinear_matrix(4, 2)[0], np.array([0.75, 0.75, 0.25, 0]) / 1.75)
