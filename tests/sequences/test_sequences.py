"""The synthetic MNIST sequences of Samadzadeh et al. (spykeflow.datasets.sequences)."""

import numpy as np
import pytest

from spykeflow.datasets.sequences import SEQUENCES, _affine, make_sequences, n_classes


@pytest.fixture
def digits():
    rng = np.random.default_rng(0)
    imgs = np.zeros((40, 28, 28), np.uint8)
    for i in range(40):  # a bar plus a blob: asymmetric, so rotations are distinguishable
        imgs[i, 6:22, 12:15] = 255
        imgs[i, 6:10, 15:20] = rng.integers(150, 256)
    return imgs, np.arange(40) % 10


def _ink_mass(frames):
    return frames.astype(np.float64).sum(axis=(-2, -1))


@pytest.mark.parametrize("seq", sorted(SEQUENCES))
def test_shapes_labels_and_both_directions(digits, seq):
    x, y = make_sequences(*digits, seq=seq, seed=3)
    assert x.shape == (40, 10, 28, 28) and x.dtype == np.uint8
    assert y.min() >= 0 and y.max() < n_classes(seq)
    np.testing.assert_array_equal(y % 10, digits[1])
    if seq != 4:
        assert 0 < (y >= 10).sum() < 40  # both directions occur


def test_zoom_is_monotone_and_in_out_are_reversed(digits):
    x, y = make_sequences(*digits, seq=1, seed=0)
    for frames, label in zip(x, y):
        mass = _ink_mass(frames) if label < 10 else _ink_mass(frames)[::-1]
        # zoom-in never shrinks the digit (the 10 % frame of a thin stroke may be empty)
        assert (np.diff(mass) >= 0).all() and mass[-1] > 4 * mass[2]
    # In and out clips of the same image are each other's reverse.
    x_all, y_all = make_sequences(np.repeat(digits[0][:1], 16, 0), np.zeros(16, int), seq=1, seed=5)
    zin, zout = x_all[y_all == 0][0], x_all[y_all == 10][0]
    np.testing.assert_array_equal(zin, zout[::-1])
    np.testing.assert_array_equal(zin[-1], digits[0][0])  # ends at 100 %


def test_seq3_zoom_starts_at_half(digits):
    x, y = make_sequences(*digits, seq=3, seed=0)
    clip = x[y < 10][0]
    full, half = _ink_mass(clip[-1]), _ink_mass(clip[0])
    assert half == pytest.approx(full / 4, rel=0.25)  # area scales with the square of the zoom
    np.testing.assert_array_equal(clip[-1], digits[0][np.nonzero(y < 10)[0][0]])


def test_rotation_directions_differ_only_in_frame_order(digits):
    imgs = np.repeat(digits[0][:1], 16, axis=0)
    x, y = make_sequences(imgs, np.zeros(16, int), seq=2, seed=2)
    cw, ccw = x[y == 0][0], x[y == 10][0]
    np.testing.assert_array_equal(cw[0], ccw[0])
    # counter-clockwise by 36k degrees == clockwise by 360 - 36k degrees
    diff = np.abs(ccw[1:].astype(int) - cw[1:][::-1].astype(int))
    assert diff.max() <= 1  # bilinear round-off only
    assert np.abs(cw[1].astype(int) - ccw[1].astype(int)).max() > 100  # but they are not equal


def test_rotation_direction_on_screen():
    img = np.zeros((28, 28), np.uint8)
    img[2:6, 12:16] = 255  # blob at the top centre
    rows, cols = np.nonzero(_affine(img, angle_deg=90))
    assert cols.mean() < 8 and abs(rows.mean() - 13.5) < 2  # counter-clockwise: top -> left


def test_occluder_is_14x14_and_moves(digits):
    imgs = np.full((5, 28, 28), 200, np.uint8)
    x, y = make_sequences(imgs, np.arange(5), seq=4, seed=1)
    np.testing.assert_array_equal(y, np.arange(5))
    assert ((x == 0).sum(axis=(-2, -1)) == 14 * 14).all()
    positions = {tuple(np.argwhere(f == 0)[0]) for f in x[0]}
    assert len(positions) > 1


def test_random_rotation_varies_between_samples(digits):
    imgs = np.repeat(digits[0][:1], 6, axis=0)
    x, _ = make_sequences(imgs, np.zeros(6, int), seq=5, seed=4)
    last = {x[i, -1].tobytes() for i in range(6)}
    assert len(last) == 6


def test_seed_determinism(digits):
    a = make_sequences(*digits, seq=5, seed=9)
    b = make_sequences(*digits, seq=5, seed=9)
    c = make_sequences(*digits, seq=5, seed=10)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize(
    "kwargs,match",
    [({"seq": 6}, "seq in"), ({"seq": 1, "time_steps": 1}, "time_steps >= 2")],
)
def test_bad_arguments(digits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_sequences(*digits, **kwargs)


def test_bad_images():
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        make_sequences(np.zeros((2, 28)), np.zeros(2), seq=1)
    with pytest.raises(ValueError, match="one label per image"):
        make_sequences(np.zeros((2, 28, 28)), np.zeros(3), seq=1)
    with pytest.raises(ValueError, match="0..255"):
        make_sequences(np.full((1, 28, 28), 300), np.zeros(1), seq=1)
