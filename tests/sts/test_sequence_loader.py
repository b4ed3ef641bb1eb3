"""load("sequences"): built from MNIST through the data root, seeded, cached atomically."""

import numpy as np
import pytest

import spykeflow.datasets as ds


@pytest.mark.realdata
def test_load_sequences_from_mnist_and_cache(data_root, tmp_path):
    x, y = ds.load("sequences", split="test", root=data_root, seq=4, n=12, seed=3)
    assert x.shape == (12, 10, 28, 28) and x.dtype == np.uint8 and y.dtype == np.int64
    assert set(y.tolist()) <= set(range(10))
    # seq 4 occludes a 14x14 square of every frame: each frame has a fully dark 14x14 block
    mnist, labels = ds.load("mnist", split="test", root=data_root)
    pick = np.sort(np.random.default_rng([3, 7919]).permutation(len(mnist))[:12])
    np.testing.assert_array_equal(y, labels[pick])
    assert np.all(x <= mnist[pick][:, None])            # occlusion only removes ink
    x2, y2 = ds.load("sequences", split="test", root=data_root, seq=4, n=12, seed=3)
    np.testing.assert_array_equal(x, x2)                # same seed, same clips
    xtr, _ = ds.load("sequences", split="train", root=data_root, seq=2, n=4, seed=3)
    assert xtr.shape == (4, 10, 28, 28)
    cache = tmp_path / "s.npz"
    xc, yc = ds.load("sequences", split="test", root=data_root, seq=4, n=12, seed=3, cache=cache)
    np.testing.assert_array_equal(xc, x)
    assert cache.is_file() and not list(tmp_path.glob(".*tmp"))
    xr, yr = ds.load("sequences", split="test", seq=4, n=12, seed=3, cache=cache,
                     root=tmp_path / "nowhere")          # read back without touching MNIST
    np.testing.assert_array_equal(xr, x)
    with pytest.raises(ValueError, match="other settings"):
        ds.load("sequences", split="test", root=data_root, seq=2, n=12, seed=3, cache=cache)


def test_bad_arguments():
    with pytest.raises(ValueError, match="seq"):
        ds.load("sequences", seq=6)
    with pytest.raises(ValueError, match="split"):
        ds.load("sequences", split="val", seq=1)
    with pytest.raises(ValueError, match="n"):
        ds.load("sequences", seq=1, n=0)
    with pytest.raises(ValueError, match="npz"):
        ds.load("sequences", seq=1, cache="clips.txt")
    with pytest.raises(TypeError, match="options"):
        ds.load("sequences", seq=1, frames=5)
