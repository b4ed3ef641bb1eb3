"""InputLayer: spike-tensor contract, options, compact form, sklearn contract, validation."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from spykeflow import conventions
from spykeflow.functional.dog import DoGParams
from spykeflow.input_layer import PAPER_PARAMS, InputLayer


def _digits(n=6, seed=0):
    """Stroke images resembling handwritten digits (uint8, 28x28)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        r0, c0 = rng.integers(4, 10, 2)
        x[i, r0 : r0 + rng.integers(10, 16), c0 : c0 + 3] = rng.integers(150, 256)
        x[i, r0 : r0 + 3, c0 : c0 + rng.integers(6, 12)] = rng.integers(100, 256)
        noise = rng.integers(0, 40, (28, 28)).astype(np.uint8) * (rng.random((28, 28)) < 0.1)
        x[i] = np.maximum(x[i], noise)
    return x


@pytest.fixture(scope="module")
def images():
    return _digits()


@pytest.fixture(scope="module")
def encoded(images):
    return InputLayer().transform(images)


def test_shape_dtype_and_time_steps(encoded):
    assert encoded.shape == (6, 12, 27, 27, 2) and encoded.dtype == bool
    assert encoded[..., 0].any() and encoded[..., 1].any(), "ON and OFF channels both spike"


def test_at_most_one_spike_per_input_neuron(encoded):
    assert encoded.sum(axis=conventions.TIME_AXIS).max() == 1


def test_empty_bins_and_equal_count_bins(encoded):
    assert not encoded[:, 10:].any(), "bins 10 and 11 are always empty"
    per_bin = encoded.sum(axis=(2, 3))  # (N, T, C)
    n = per_bin.sum(axis=1)  # spikes per image and channel
    for i in range(len(encoded)):
        for c in range(2):
            counts = per_bin[i, :10, c]
            assert counts.min() >= n[i, c] // 10 and counts.max() <= -(-n[i, c] // 10), counts


def test_frame_never_spikes(encoded):
    frame = np.ones((27, 27), bool)
    frame[2:-2, 2:-2] = False
    assert not encoded[:, :, frame, :].any()


def test_stronger_responses_spike_no_later(images):
    layer = InputLayer()
    r = layer.responses(images)  # (N, H, W, 2) values that were ranked
    first = layer.transform_compact(images)
    assert ((first >= 0) == (r > 0)).all(), "exactly the positive responses spike"
    for i in range(len(images)):
        for c in range(2):
            v, t = r[i, ..., c].ravel(), first[i, ..., c].ravel()
            s = v > 0
            v, t = v[s], t[s]
            stronger = v[:, None] > v[None, :]
            assert (t[:, None] <= t[None, :])[stronger].all(), "a stronger response spiked later"


def test_compact_round_trip(images, encoded):
    layer = InputLayer()
    c = layer.transform_compact(images)
    assert c.shape == (6, 27, 27, 2) and c.dtype == np.int8
    np.testing.assert_array_equal(layer.expand(c), encoded)
    np.testing.assert_array_equal(conventions.to_first_spike(encoded), c)
    np.testing.assert_array_equal(conventions.from_first_spike(c, layer.time_steps), encoded)


def test_batching_threads_and_batch_independence(images, encoded):
    for kw in (dict(batch_size=1), dict(batch_size=4), dict(batch_size=2, n_jobs=2),
               dict(batch_size=3, n_jobs=-1), dict(batch_size=2, n_jobs=-2)):
        np.testing.assert_array_equal(InputLayer(**kw).transform(images), encoded, err_msg=str(kw))
        c = InputLayer(**kw).transform_compact(images)
        np.testing.assert_array_equal(conventions.from_first_spike(c, 12), encoded)
    np.testing.assert_array_equal(InputLayer().transform(images[3:4]), encoded[3:4])


def test_time_steps_are_configurable(images):
    layer = InputLayer(n_bins=5, n_empty_bins=0)
    s = layer.transform(images)
    assert layer.time_steps == 5 and s.shape[1] == 5 and s[:, 4].any()
    s = InputLayer(n_bins=3, n_empty_bins=4).transform(images)
    assert s.shape[1] == 7 and not s[:, 3:].any()
    assert InputLayer(n_bins=130, n_empty_bins=0).transform(images[:1]).shape[1] == 130


def test_strict_threshold_drops_responses_equal_to_the_threshold(images):
    plain = dict(on_threshold=0.0, off_threshold=0.0, decimals=None, local_norm_window=None)
    raw = InputLayer(**plain).responses(images[:1])
    level = float(raw[..., 0].max())  # an exact response value
    keep = InputLayer(**{**plain, "on_threshold": level}).responses(images[:1])[..., 0]
    drop = InputLayer(**{**plain, "on_threshold": level, "strict_threshold": True}).responses(
        images[:1])[..., 0]
    assert (keep > 0).sum() == (raw[..., 0] == level).sum() >= 1, ">= keeps the equal response"
    assert (drop > 0).sum() == 0, "> drops it"


def test_thresholds_per_channel(images):
    base = InputLayer().transform(images).sum(axis=(0, 1, 2, 3))
    hi_on = InputLayer(on_threshold=120.0).transform(images).sum(axis=(0, 1, 2, 3))
    assert hi_on[0] < base[0] and hi_on[1] == base[1]


def test_local_normalisation_changes_the_order_not_the_set(images):
    a = InputLayer().transform_compact(images)
    b = InputLayer(local_norm_window=None).transform_compact(images)
    np.testing.assert_array_equal(a >= 0, b >= 0)
    assert (a != b).any()


def test_inverse_latency_option(images):
    layer = InputLayer(latency="inverse", local_norm_window=None)
    r = layer.responses(images)
    first = layer.transform_compact(images)
    assert first.max() == 9 and not layer.transform(images)[:, 10:].any()
    for i in range(len(images)):
        v, t = r[i, ..., 0].ravel(), first[i, ..., 0].ravel()
        s = v > 0
        order = np.argsort(-v[s])
        assert (np.diff(t[s][order]) >= 0).all()
        assert t[s].min() == 0  # the strongest spikes first


def test_paper_setting_and_geometry_options(images):
    s = InputLayer(**PAPER_PARAMS).transform(images)
    assert s.shape == (6, 10, 22, 22, 2) and s.sum(axis=1).max() <= 1
    s = InputLayer(resize_to=None).transform(images)
    assert s.shape == (6, 12, 28, 28, 2)
    s = InputLayer(resize_to=(20, 24), n_empty_bins=0).transform(images)
    assert s.shape == (6, 10, 20, 24, 2)
    # The paper kernel's responses are ~7x smaller: with threshold 50 far fewer pixels spike.
    n_orig = InputLayer().transform(images).sum()
    n_paper = InputLayer(dog_kernel="paper").transform(images).sum()
    assert 0 < n_paper < n_orig


def test_float_and_integer_images_agree_without_resize(images):
    a = InputLayer(resize_to=None).transform(images)
    b = InputLayer(resize_to=None).transform(images.astype(np.float32))
    np.testing.assert_array_equal(a, b)
    assert InputLayer().transform(images.astype(np.float64)).shape == a.shape[:2] + (27, 27, 2)


# ---------------------------------------------------------------------------------------------
# scikit-learn contract
# ---------------------------------------------------------------------------------------------


def test_estimator_contract(images):
    layer = InputLayer(on_threshold=40.0)
    assert layer.fit(images) is layer and layer.fit() is layer
    params = layer.get_params()
    assert params["on_threshold"] == 40.0 and params["latency"] == "rank"
    twin = clone(layer)
    assert twin.get_params() == params
    twin.set_params(n_bins=4)
    assert twin.time_steps == 6
    InputLayer(dog_kernel="nonsense")  # __init__ stores, never validates
    pipe = Pipeline([
        ("encode", InputLayer()),
        ("flatten", FunctionTransformer(lambda s: s.any(axis=1).reshape(len(s), -1))),
    ])
    feats = pipe.fit_transform(images)
    assert feats.shape == (6, 27 * 27 * 2)
    np.testing.assert_array_equal(layer.fit_transform(images), layer.transform(images))


# ---------------------------------------------------------------------------------------------
# Validation: every error names the argument, the expectation and what was received
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x,exc,match",
    [
        (np.zeros((28, 28), np.uint8), ValueError, r"shape \(N, H, W\).*ndim=2.*X\[None\]"),
        (np.zeros((2, 28, 28, 1), np.uint8), ValueError, r"ndim=4.*X\[\.\.\., 0\]"),
        (np.zeros((0, 28, 28), np.uint8), ValueError, "at least one image.*empty batch"),
        (np.full((1, 28, 28), np.nan), ValueError, "finite grey values.*784 NaN/inf"),
        (np.full((1, 28, 28), np.inf), ValueError, "finite"),
        (np.full((1, 28, 28), -1.0), ValueError, r"0\.\.255.*-1\.0"),
        (np.full((1, 28, 28), 256, np.int32), ValueError, r"0\.\.255.*256"),
        (np.zeros((1, 28, 28), bool), TypeError, "dtype=bool"),
        (np.array([[["a"]]]), TypeError, "dtype=<U1"),
        (np.zeros((1, 28, 28), complex), TypeError, "complex"),
    ],
)
def test_bad_images_raise(x, exc, match):
    with pytest.raises(exc, match=match):
        InputLayer().transform(x)
    with pytest.raises(exc, match=match):
        InputLayer().fit(x)


def test_partial_nans_are_counted():
    x = np.zeros((2, 28, 28))
    x[1, 3, 4] = np.nan
    x[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="2 NaN/inf"):
        InputLayer().transform_compact(x)


@pytest.mark.parametrize(
    "params,exc,match",
    [
        (dict(n_bins=0), ValueError, "n_bins >= 1"),
        (dict(n_bins=2.5), TypeError, "n_bins to be an integer"),
        (dict(n_empty_bins=-1), ValueError, "n_empty_bins >= 0"),
        (dict(resize_to=0), ValueError, "resize_to.*Received: resize_to=0"),
        (dict(resize_to=(27,)), ValueError, "resize_to"),
        (dict(dog_kernel="gabor"), ValueError, r"dog_kernel to be one of \['original', 'paper'\]"),
        (dict(dog_size=4), ValueError, "dog_size to be an odd integer"),
        (dict(dog_sigmas=(2.0, 2.0)), ValueError, "dog_sigmas"),
        (dict(dog_padding="full"), ValueError, "dog_padding"),
        (dict(border_size=-1), ValueError, "border_size >= 0"),
        (dict(on_threshold="50"), TypeError, "on_threshold to be a finite number"),
        (dict(off_threshold=float("nan")), TypeError, "off_threshold"),
        (dict(strict_threshold=1), TypeError, "strict_threshold to be a bool"),
        (dict(decimals=9), ValueError, r"decimals in 0\.\.8"),
        (dict(local_norm_window=0), ValueError, "local_norm_window >= 1"),
        (dict(latency="poisson"), ValueError, r"latency to be one of \['rank', 'inverse'\]"),
        (dict(batch_size=0), ValueError, "batch_size >= 1"),
        (dict(n_jobs=0), ValueError, "n_jobs"),
        (dict(progress="yes"), TypeError, "progress to be a bool"),
        (dict(dog_sigmas=(1.0, "2")), TypeError, "dog_sigmas to be a pair"),
        (dict(dog_size=True), ValueError, "dog_size to be an odd integer"),
        (dict(n_jobs=1.5), ValueError, "n_jobs"),
        (dict(resize_to=(27, 2.5)), ValueError, "resize_to"),
        (dict(border_size=14), ValueError, "border of 14 pixels leaves nothing"),
    ],
)
def test_bad_parameters_raise_at_fit_and_transform(params, exc, match):
    x = np.zeros((1, 28, 28), np.uint8)
    layer = InputLayer(**params)
    with pytest.raises(exc, match=match):
        layer.fit(x)
    with pytest.raises(exc, match=match):
        layer.transform(x)


def test_geometry_errors():
    with pytest.raises(ValueError, match="at least 7x7 pixels"):
        InputLayer(resize_to=None, dog_padding="valid").transform(np.zeros((1, 5, 5)))
    with pytest.raises(ValueError, match="at most 127 time steps.*transform"):
        InputLayer(n_bins=120, n_empty_bins=10).transform_compact(np.zeros((1, 28, 28)))


def test_unit_range_images_log_a_warning(caplog):
    with caplog.at_level("WARNING", logger="spykeflow.input_layer"):
        InputLayer().transform(np.full((1, 28, 28), 0.5))
    assert "0..255" in caplog.text


def test_images_of_different_sizes_are_resized_one_by_one(rng):
    imgs = [rng.integers(0, 256, (40, 31)).astype(np.uint8), rng.integers(0, 256, (28, 28))
            .astype(np.uint8)]
    layer = InputLayer(resize_to=(27, 27))
    s = layer.transform(imgs)
    assert s.shape == (2, 12, 27, 27, 2)
    np.testing.assert_array_equal(s[1:], layer.transform(imgs[1][None]))
    obj = np.empty(2, dtype=object)
    obj[0], obj[1] = imgs
    np.testing.assert_array_equal(layer.transform(obj), s)
    with pytest.raises(ValueError, match="Set resize_to"):
        InputLayer(resize_to=None).transform(imgs)
    same = np.empty(2, dtype=object)
    same[0], same[1] = imgs[1], imgs[1]
    assert InputLayer(resize_to=None).transform(same).shape == (2, 12, 28, 28, 2)
    with pytest.raises(ValueError, match=r"0\.\.255"):
        layer.transform([imgs[0], np.full((5, 5), 300)])


# ---------------------------------------------------------------------------------------------
# One DoG parameter object, one name per idea
# ---------------------------------------------------------------------------------------------


def test_dog_params_use_the_constructor_names():
    """Every DoGParams field but the eps constant is an InputLayer parameter, same name."""
    layer_params = set(InputLayer().get_params())
    fields = set(DoGParams.__dataclass_fields__) - {"local_norm_eps"}
    assert fields <= layer_params
    layer = InputLayer(on_threshold=40, resize_to=20, dog_sigmas=[1, 3], strict_threshold=True)
    p = layer.dog_params()
    assert p == DoGParams(on_threshold=40.0, resize_to=(20, 20), dog_sigmas=(1.0, 3.0),
                          strict_threshold=True)
    assert (p.on_threshold, p.resize_to, p.dog_sigmas) == (40.0, (20, 20), (1.0, 3.0))
    assert isinstance(p.on_threshold, float) and hash(p) == hash(layer.dog_params())
    assert layer.get_params()["resize_to"] == 20, "the estimator keeps what the user passed"


def test_renamed_parameters_are_the_only_spelling():
    params = InputLayer().get_params()
    assert {"strict_threshold", "batch_size", "progress"} <= set(params)
    assert not {"strict_thresholds", "chunk_size", "verbose"} & set(params)
    with pytest.raises(TypeError, match="chunk_size"):
        InputLayer(chunk_size=4)
    assert not hasattr(InputLayer(), "transform_events")
    assert not hasattr(InputLayer(), "transform_series")


def test_progress_bar_over_batches(images, encoded, capsys):
    s = InputLayer(progress=True, batch_size=2).transform(images)
    np.testing.assert_array_equal(s, encoded)
    assert "InputLayer" in capsys.readouterr().err
    InputLayer(progress=False).transform(images)
    assert capsys.readouterr().err == ""
