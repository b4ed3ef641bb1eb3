"""DoG filtering stage (docs/original/encoding.md): kernel values, area resize, reflect-101
correlation, border, thresholds, rounding, local normalisation and the DoGParams object."""

import dataclasses

import numpy as np
import pytest
import scipy.ndimage

from spykeflow.functional import dog, resize

# ---------------------------------------------------------------------------------------------
# Kernel (docs/original/encoding.md#dog-kernel)
# ---------------------------------------------------------------------------------------------


def test_original_kernel_golden_values():
    k = dog.dog_kernel()
    assert k.shape == (7, 7)
    assert round(float(k[3, 3]), 3) == 1.0
    for r, c in [(2, 3), (4, 3), (3, 2), (3, 4)]:  # orthogonal neighbours
        assert round(float(k[r, c]), 3) == 0.433
    for r, c in [(2, 2), (2, 4), (4, 2), (4, 4)]:  # diagonal neighbours
        assert round(float(k[r, c]), 3) == 0.117
    for r, c in [(0, 0), (0, 6), (6, 0), (6, 6)]:  # corners
        assert round(float(k[r, c]), 3) == 0.064
    assert abs(k.sum()) < 1e-12, "the original kernel is zero-mean"
    assert round(float(k[k > 0].sum()), 3) == 3.454, "positive mass"
    assert np.allclose(k, k.T) and np.allclose(k, k[::-1, ::-1])


def test_original_kernel_matches_the_formula_by_hand():
    # g(d2) = (exp(-d2/2) - exp(-d2/8)/2) / sqrt(2 pi); centre d2 = 0, neighbour d2 = 1.
    d2 = (np.arange(7)[:, None] - 3) ** 2 + (np.arange(7)[None, :] - 3) ** 2
    g = (np.exp(-d2 / 2) - 0.5 * np.exp(-d2 / 8)) / np.sqrt(2 * np.pi)
    g = g - g.mean()
    np.testing.assert_allclose(dog.dog_kernel(), g / g.max(), rtol=0, atol=1e-15)


def test_paper_kernel_is_eq1_and_off_is_minus_on():
    on, off = dog.dog_kernels("paper")
    # Eq. (1) at the centre: 1/(2 pi) - 1/(8 pi).
    assert on[3, 3] == pytest.approx(1 / (2 * np.pi) - 1 / (8 * np.pi), abs=1e-15)
    # At (i, j) = (1, 0): exp(-1/2)/(2 pi) - exp(-1/8)/(8 pi).
    assert on[4, 3] == pytest.approx(
        np.exp(-0.5) / (2 * np.pi) - np.exp(-1 / 8) / (8 * np.pi), abs=1e-15
    )
    np.testing.assert_array_equal(off, -on)  # K_{2,1} == -K_{1,2} exactly
    orig_on, orig_off = dog.dog_kernels("original")
    np.testing.assert_array_equal(orig_off, -orig_on)
    assert abs(on.sum()) > 1e-3, "the paper kernel is not re-centred"


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(kind="gabor"), "dog_kernel"),
        (dict(size=6), "odd integer"),
        (dict(size=1), "odd integer"),
        (dict(sigmas=(1.0, 1.0)), "different positive"),
        (dict(sigmas=(0.0, 2.0)), "different positive"),
        (dict(sigmas="ab"), "pair of positive"),
    ],
)
def test_kernel_arguments_are_validated(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        dog.dog_kernel(**kwargs)


# ---------------------------------------------------------------------------------------------
# Geometry: area resize, reflect-101 correlation, frame (#resize, #filtering-and-border)
# ---------------------------------------------------------------------------------------------


def test_area_weights_hand_case_4_to_3():
    # Output pixel i averages [4i/3, 4(i+1)/3): weights (3/4, 1/4), (1/2, 1/2), (1/4, 3/4).
    w = resize.area_resize_weights(4, 3)
    expected = np.array([[3, 1, 0, 0], [0, 2, 2, 0], [0, 0, 1, 3]]) / 4
    np.testing.assert_allclose(w, expected, atol=1e-12)
    np.testing.assert_allclose(resize.area_resize_weights(28, 27).sum(axis=1), 1.0, atol=1e-12)


def test_area_resize_hand_case_rounds_back_to_uint8():
    x = np.array([[[0, 0, 0, 0], [0, 255, 255, 0], [0, 255, 255, 0], [0, 0, 0, 0]]], np.uint8)
    out = resize.resize_area(x, 3)
    assert out.dtype == np.uint8
    # corner 255/16 = 15.94 -> 16; edge 255/4 = 63.75 -> 64; centre 255.
    assert out[0].tolist() == [[16, 64, 16], [64, 255, 64], [16, 64, 16]]
    xf = resize.resize_area(x.astype(np.float64), 3)
    assert xf.dtype == np.float64 and xf[0, 0, 0] == pytest.approx(255 / 16)


# cv2.resize(x, (7, 7), interpolation=cv2.INTER_AREA) computed with OpenCV 5.0 (not a dependency).
# Pixel (5, 5) is exactly 199.5 in exact arithmetic; OpenCV's float32 accumulation gives 200,
# which plain float64 rounding does not reproduce.
_CV2_IN = [[217, 163, 130, 69, 78, 10, 19, 4], [44, 208, 166, 233, 128, 155, 248, 186],
           [161, 139, 143, 239, 71, 208, 171, 0], [100, 219, 141, 8, 195, 186, 216, 44],
           [22, 220, 5, 138, 20, 76, 123, 108], [103, 7, 1, 31, 2, 171, 134, 165],
           [65, 157, 195, 98, 117, 255, 206, 251], [97, 175, 243, 166, 215, 176, 180, 99]]
_CV2_OUT = [[192, 160, 118, 87, 49, 43, 29], [88, 183, 188, 174, 148, 214, 151],
            [142, 162, 146, 135, 169, 191, 38], [81, 183, 73, 90, 122, 160, 88],
            [74, 66, 28, 40, 88, 131, 142], [80, 126, 122, 85, 179, 200, 224],
            [103, 189, 207, 180, 192, 184, 126]]


def test_area_resize_matches_opencv_bit_for_bit():
    x = np.array([_CV2_IN], np.uint8)
    assert resize.resize_area(x, 7)[0].tolist() == _CV2_OUT
    w = resize.area_resize_weights(8, 7)
    naive = np.rint(w @ x[0].astype(float) @ w.T)
    assert naive[5, 5] != 200, "the golden case must exercise OpenCV's float32 rounding"


def test_area_resize_integer_factors_follow_opencv_rounding():
    # OpenCV (checked with cv2 5.0): the 2x2 fast path rounds halves up, other factors to even.
    assert resize.resize_area(np.array([[[1, 1], [0, 0]]], np.uint8), 1)[0, 0, 0] == 1
    assert resize.resize_area(np.array([[[3, 0], [0, 0]]], np.uint8), 1)[0, 0, 0] == 1
    assert resize.resize_area(np.array([[[1, 0]]], np.uint8), (1, 1))[0, 0, 0] == 0
    assert resize.resize_area(np.array([[[1, 0, 0, 1]]], np.uint8), (1, 2))[0].tolist() == [[0, 0]]


def test_reflect101_index_and_matrix():
    assert dog.reflect101_index(np.arange(-3, 7), 4).tolist() == [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]
    m = dog.correlation_matrix(4, [1.0, 2.0, 3.0])
    # out[0] = 1*x[1] + 2*x[0] + 3*x[1] (x[-1] reflects to x[1]): ...dcb|abcd|cba...
    assert m[0].tolist() == [2.0, 4.0, 0.0, 0.0]
    assert m[3].tolist() == [0.0, 0.0, 4.0, 2.0]
    assert dog.correlation_matrix(5, [1.0, 1.0, 1.0], "valid").shape == (3, 5)


def test_correlate2d_same_is_reflect101_cross_correlation(rng):
    x = rng.integers(0, 256, size=(3, 27, 27)).astype(np.float64)
    k = dog.dog_kernel()
    ours = dog.correlate2d(x, k)
    for i in range(3):
        ref = scipy.ndimage.correlate(x[i], k, mode="mirror")  # scipy 'mirror' = reflect-101
        np.testing.assert_allclose(ours[i], ref, rtol=0, atol=1e-9)
    # A different border (reflect, 'abcd|dcba') gives different values near the edge.
    other = scipy.ndimage.correlate(x[0], k, mode="reflect")
    assert not np.allclose(ours[0, :3], other[:3])


def test_correlate2d_valid_and_no_flip():
    x = np.zeros((1, 9, 9))
    x[0, 4, 5] = 1.0
    k = np.arange(49.0).reshape(7, 7)
    valid = dog.correlate2d(x, k, padding="valid")
    assert valid.shape == (1, 3, 3)
    # out[o] = sum k[i, j] x[o + i, o + j]: the impulse at (4, 5) is seen by output (1, 1)
    # through k[3, 4], i.e. correlation (no kernel flip).
    assert valid[0, 1, 1] == pytest.approx(k[3, 4])
    np.testing.assert_allclose(dog.correlate2d(x, k, padding="valid"),
                               scipy.ndimage.correlate(x[0], k)[None, 3:6, 3:6], atol=1e-12)


def test_frame_is_zeroed_and_border_option():
    img = np.full((1, 28, 28), 0, np.uint8)
    img[0, ::3, :] = 255  # stripes reaching the border: strong responses everywhere
    r = dog.dog_responses(img, local_norm_window=None)
    assert r.shape == (1, 27, 27, 2)
    frame = np.ones((27, 27), bool)
    frame[2:-2, 2:-2] = False
    assert not r[0][frame].any(), "the 2-pixel frame must be zero"
    assert r[0][~frame].any()
    r0 = dog.dog_responses(img, local_norm_window=None, border_size=0)
    assert r0[0][frame].any(), "border=0 keeps the frame"
    np.testing.assert_array_equal(r0[0][~frame], r[0][~frame])


def test_geometry_options_shapes():
    img = np.zeros((2, 28, 28), np.uint8)
    assert dog.dog_responses(img).shape == (2, 27, 27, 2)
    assert dog.dog_responses(img, resize_to=None).shape == (2, 28, 28, 2)
    valid = dog.dog_responses(img, resize_to=None, dog_padding="valid", border_size=0)
    assert valid.shape == (2, 22, 22, 2)
    assert dog.dog_responses(img, resize_to=(20, 14)).shape == (2, 20, 14, 2)


# ---------------------------------------------------------------------------------------------
# Thresholds and rounding, local normalisation (#thresholds-and-rounding, #local-normalisation)
# ---------------------------------------------------------------------------------------------


def test_threshold_ge_versus_gt():
    x = np.array([49.0, 50.0, 51.0])
    assert dog.threshold(x, 50).tolist() == [0.0, 50.0, 51.0]
    assert dog.threshold(x, 50, strict=True).tolist() == [0.0, 0.0, 51.0]


def _digit():
    img = np.zeros((1, 28, 28), np.uint8)
    img[0, 6:22, 12:15] = 255
    img[0, 6:9, 9:15] = 200
    return img


def test_on_off_responses_match_the_unthresholded_filter():
    img = _digit()
    raw = dog.correlate2d(resize.resize_area(img, 27).astype(float), dog.dog_kernel())
    r = dog.dog_responses(img, local_norm_window=None, decimals=None)
    inner = (slice(None), slice(2, -2), slice(2, -2))
    on, off = raw[inner], -raw[inner]
    np.testing.assert_allclose(r[..., 0][inner], np.where(on >= 50, on, 0), atol=1e-9)
    np.testing.assert_allclose(r[..., 1][inner], np.where(off >= 50, off, 0), atol=1e-9)
    assert (r[..., 0] > 0).any() and (r[..., 1] > 0).any()
    assert not ((r[..., 0] > 0) & (r[..., 1] > 0)).any(), "ON and OFF exclude each other"


def test_rounding_to_decimals():
    img = _digit()
    r = dog.dog_responses(img, local_norm_window=None, decimals=2)
    np.testing.assert_allclose(r, np.round(r, 2), rtol=0, atol=1e-12)
    exact = dog.dog_responses(img, local_norm_window=None, decimals=None)
    assert np.abs(r - exact).max() <= 0.005 + 1e-9
    assert np.abs(r - exact).max() > 0


def test_local_normalise_divides_by_local_mean():
    x = np.zeros((1, 9, 9))
    x[0, 4, 4] = 100.0  # isolated
    out = dog.local_normalise(x, window=3, eps=1e-12)
    assert out[0, 4, 4] == pytest.approx(9.0)  # 100 / (100 / 9)
    assert (out[0][x[0] == 0] == 0).all(), "zeros stay zero"
    # Two equal neighbours share their window: each is divided by twice the mean.
    y = np.zeros((1, 9, 9))
    y[0, 4, 4] = y[0, 4, 5] = 100.0
    assert dog.local_normalise(y, 3, eps=1e-12)[0, 4, 4] == pytest.approx(4.5)
    # eps is added to the box sum before dividing by the window area.
    assert dog.local_normalise(x, 3, eps=1e-4)[0, 4, 4] == pytest.approx(100 / ((100 + 1e-4) / 9))


def test_box_sum_uses_reflect101():
    x = np.zeros((1, 4, 4))
    x[0, 1, 0] = 1.0
    s = dog.box_sum(x, 3)
    ref = scipy.ndimage.uniform_filter(x[0], 3, mode="mirror") * 9
    np.testing.assert_allclose(s[0], ref, atol=1e-12)
    # Pixel (0, 0) sees rows -1, 0, 1 -> 1, 0, 1: the pixel (1, 0) counts twice.
    assert s[0, 0, 0] == pytest.approx(2.0)


def test_pipeline_normalisation_equals_the_formula():
    img = _digit()
    plain = dog.dog_responses(img, local_norm_window=None)  # rounded, thresholded
    normed = dog.dog_responses(img)
    for c in range(2):
        x = plain[..., c]
        local = (dog.box_sum(x, 17) + 1e-4) / 289.0
        np.testing.assert_allclose(normed[..., c], x / local, rtol=1e-12, atol=0)
    assert ((normed > 0) == (plain > 0)).all(), "normalisation keeps zeros and positives"


@pytest.mark.parametrize("shape,size", [((28, 28), 27), ((30, 20), (7, 13)), ((9, 12), (9, 5)),
                                        ((8, 8), 27), ((28, 28), 14), ((27, 27), 27)])
def test_uint8_resize_is_the_rounded_area_mean(rng, shape, size):
    x = rng.integers(0, 256, size=(20,) + shape).astype(np.uint8)
    exact = resize.resize_area(x.astype(np.float64), size)  # float path: exact weights, no rounding
    out = resize.resize_area(x, size)
    assert out.dtype == np.uint8 and out.shape == exact.shape
    # Shrinking: rounded to the nearest grey level (only near-halves may go either way).
    # Enlarging: OpenCV's coefficients, rounded in float (within one grey level).
    shrink = shape[0] >= out.shape[1] and shape[1] >= out.shape[2]
    assert np.abs(out - exact).max() <= (0.5 + 1e-3 if shrink else 1.0)
    np.testing.assert_allclose(exact.mean(axis=(1, 2)), x.mean(axis=(1, 2)), rtol=0.05)


# ---------------------------------------------------------------------------------------------
# DoGParams: the one parameter object of the chain
# ---------------------------------------------------------------------------------------------


def test_dog_params_defaults_are_the_published_setting():
    p = dog.DoGParams()
    assert (p.resize_to, p.dog_kernel, p.dog_size, p.dog_sigmas, p.dog_padding) == (
        (27, 27), "original", 7, (1.0, 2.0), "same")
    assert (p.border_size, p.on_threshold, p.off_threshold, p.strict_threshold) == (
        2, 50.0, 50.0, False)
    assert (p.decimals, p.local_norm_window, p.local_norm_eps) == (5, 17, 1e-4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.on_threshold = 10.0
    np.testing.assert_array_equal(p.kernels()[0], dog.dog_kernel())


def test_dog_params_object_equals_field_overrides():
    img = _digit()
    p = dog.DoGParams(border_size=0, local_norm_window=None, on_threshold=30.0)
    np.testing.assert_array_equal(dog.dog_responses(img, p),
                                  dog.dog_responses(img, border_size=0, local_norm_window=None,
                                                    on_threshold=30.0))
    np.testing.assert_array_equal(dog.dog_responses(img, p, on_threshold=50.0),
                                  dog.dog_responses(img, border_size=0, local_norm_window=None))
    with pytest.raises(TypeError, match="norm_window"):
        dog.dog_responses(img, norm_window=None)  # the old name is gone


def test_dog_params_map_shape():
    assert dog.DoGParams().map_shape((28, 28)) == (27, 27)
    assert dog.DoGParams(resize_to=None).map_shape((30, 20)) == (30, 20)
    assert dog.DoGParams(resize_to=None, dog_padding="valid").map_shape((28, 28)) == (22, 22)
    with pytest.raises(ValueError, match="at least 7x7 pixels"):
        dog.DoGParams(resize_to=None, dog_padding="valid").map_shape((5, 9))
    with pytest.raises(ValueError, match="border of 3 pixels leaves nothing of the 6x6"):
        dog.DoGParams(resize_to=6, border_size=3).map_shape((28, 28))


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(resize_to=0), ValueError, "resize_to.*Received: resize_to=0"),
        (dict(resize_to="27"), ValueError, "resize_to"),
        (dict(dog_kernel="gabor"), ValueError, r"dog_kernel to be one of \['original', 'paper'\]"),
        (dict(dog_size=5.0), ValueError, "dog_size to be an odd integer >= 3"),
        (dict(dog_sigmas=(1.0,)), TypeError, "dog_sigmas to be a pair"),
        (dict(dog_sigmas=(1.0, float("inf"))), ValueError, "different positive finite"),
        (dict(dog_padding="full"), ValueError, r"dog_padding to be one of \['same', 'valid'\]"),
        (dict(border_size=-1), ValueError, "border_size >= 0"),
        (dict(border_size=1.5), TypeError, "border_size to be an integer"),
        (dict(on_threshold=None), TypeError, "on_threshold to be a finite number"),
        (dict(off_threshold=True), TypeError, "off_threshold to be a finite number"),
        (dict(strict_threshold="no"), TypeError, "strict_threshold to be a bool"),
        (dict(decimals=-1), ValueError, r"decimals in 0\.\.8 or None"),
        (dict(decimals=2.0), ValueError, r"decimals in 0\.\.8"),
        (dict(local_norm_window=0), ValueError, "local_norm_window >= 1"),
        (dict(local_norm_eps=-1.0), ValueError, "local_norm_eps >= 0"),
    ],
)
def test_dog_params_validate_on_construction(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        dog.DoGParams(**kwargs)
