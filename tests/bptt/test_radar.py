"""Soli radar preprocessing: shapes and values on synthetic maps and on the 14 sample files."""

import numpy as np
import pytest

from spykeflow.functional import radar


def test_to_frames_and_resample():
    maps = np.arange(2 * 4 * 1024, dtype=np.float32).reshape(2, 4, 1024)
    f = radar.to_frames(maps)
    assert f.shape == (2, 32, 32, 4)
    assert f[1, 3, 5, 2] == maps[1, 2, 3 * 32 + 5]  # row-major 32 x 32, channels last
    r = radar.resample_time(f, 5)
    assert r.shape == (5, 32, 32, 4)
    np.testing.assert_allclose(r[0], f[0])
    np.testing.assert_allclose(r[-1], f[-1])
    np.testing.assert_allclose(r[2], 0.5 * (f[0] + f[1]))
    assert radar.resample_time(f[:1], 3).shape[0] == 3
    with pytest.raises(ValueError, match="length"):
        radar.resample_time(f, 0)
    with pytest.raises(ValueError, match="shape"):
        radar.to_frames(np.zeros((3, 4, 1000)))
    with pytest.raises(ValueError, match="finite"):
        radar.to_frames(np.full((1, 4, 4, 4), np.nan))


def test_normalize_encodings_by_hand():
    f = np.zeros((3, 1, 1, 2), np.float32)
    f[:, 0, 0, 0] = [0.2, 0.4, 0.1]
    f[:, 0, 0, 1] = [2.0, 0.0, 4.0]
    n = radar.normalize(f)
    np.testing.assert_allclose(n[:, 0, 0, 0], [0.5, 1.0, 0.25])
    np.testing.assert_allclose(n[:, 0, 0, 1], [0.5, 0.0, 1.0])
    np.testing.assert_allclose(radar.normalize(f, "global")[:, 0, 0, 1], [0.5, 0, 1])
    assert radar.threshold_encode(n, 0.5)[:, 0, 0, 0].tolist() == [True, True, False]
    d = radar.delta_encode(n, 0.4)  # ch0: .5 (ON, ref .5), 1 (ON), .25 (OFF)
    assert d.shape == (3, 1, 1, 4)
    assert d[:, 0, 0, 0].tolist() == [True, True, False]
    assert d[:, 0, 0, 2].tolist() == [False, False, True]
    # ch1: .5 ON (ref .5), 0 OFF (ref 0), 1 ON
    assert d[:, 0, 0, 1].tolist() == [True, False, True] and d[:, 0, 0, 3].tolist() == [
        False, True, False]
    r1, r2 = radar.rate_encode(n, seed=3), radar.rate_encode(n, seed=3)
    assert np.array_equal(r1, r2) and not r1[n == 0].any() and r1[n == 1].all()
    with pytest.raises(ValueError, match="threshold"):
        radar.threshold_encode(n, 0)
    with pytest.raises(ValueError, match="encoding"):
        radar.preprocess_soli([np.zeros((2, 4, 32, 32))], encoding="latency")


@pytest.mark.realdata
def test_soli_sample_files(data_root):
    from spykeflow import datasets

    try:
        seqs, labels = datasets.load("soli", split="all", root=data_root)
    except FileNotFoundError as exc:
        pytest.skip(f"Soli sample not under the data root: {exc}")
    assert len(seqs) == 14 and set(labels.tolist()) == {0}
    lengths = [s.shape[0] for s in seqs]
    assert min(lengths) == 54 and max(lengths) == 72
    x = radar.preprocess_soli(seqs, length=40, encoding="threshold", threshold=0.25)
    assert x.shape == (14, 40, 32, 32, 4) and x.dtype == bool
    rate = x.mean()
    assert 0.0005 < rate < 0.02, rate  # sparse maps (about 1 % non-zero before thresholding)
    assert x.any(axis=(1, 2, 3, 4)).all()  # every recording produces spikes
    d = radar.preprocess_soli(seqs[:2], length=40, encoding="delta", threshold=0.25)
    assert d.shape == (2, 40, 32, 32, 8) and d[..., :4].any() and d[..., 4:].any()
