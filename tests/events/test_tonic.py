"""tonic (optional, GPL-3) for real: its transforms through EventEncoder, ToFrame against
bin_events, its N-MNIST reader and dataset class on the real files, the transform parser.
Skipped where tonic is not installed."""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from spykeflow import tonic_plugin as tp
from spykeflow.datasets import from_tonic, load_nmnist, read_nmnist_events
from spykeflow.encoders import EventEncoder
from spykeflow.functional import events as ev_fn

tonic = pytest.importorskip("tonic")
transforms = pytest.importorskip("tonic.transforms")

TONIC_DTYPE = np.dtype([("x", int), ("y", int), ("t", int), ("p", int)])


def _recording(rng, n=300, h=6, w=5, span=10_000):
    ev = np.zeros(n, TONIC_DTYPE)
    ev["x"], ev["y"] = rng.integers(0, w, n), rng.integers(0, h, n)
    ev["t"], ev["p"] = np.sort(rng.integers(0, span, n)), rng.integers(0, 2, n)
    return ev


def test_denoise_through_the_encoder_equals_applying_it_by_hand(rng):
    recs = [_recording(rng) for _ in range(3)]
    denoise = transforms.Denoise(filter_time=300)
    by_hand = [denoise(r.copy()) for r in recs]
    assert 0 < sum(map(len, by_hand)) < sum(map(len, recs)), "the filter drops some events"
    enc = EventEncoder((6, 5), 8, mode="count", event_transform=denoise)
    np.testing.assert_array_equal(enc.transform(recs), ev_fn.bin_events(by_hand, (6, 5), 8,
                                                                        mode="count"))
    # tonic's transforms carry a get_params of their own: clone must still work.
    refractory = EventEncoder((6, 5), 8, event_transform=transforms.RefractoryPeriod(delta=500))
    twin = clone(refractory)
    assert twin.event_transform == refractory.event_transform
    assert twin.event_transform is not refractory.event_transform
    np.testing.assert_array_equal(twin.transform(recs), refractory.transform(recs))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 12))
def test_toframe_equals_bin_events_where_the_definitions_coincide(seed, steps):
    rng = np.random.default_rng(seed)
    ev = _recording(rng, n=int(rng.integers(20, 400)), span=int(rng.integers(100, 50_000)))
    ev["t"] += int(rng.integers(0, 1000))
    size = tp.to_tonic_sensor_size((6, 5))
    # n_time_bins=T: bins of (t_last - t_first) // T microseconds from the first event.
    width = (int(ev["t"][-1]) - int(ev["t"][0])) // steps
    if width:
        frames = transforms.ToFrame(sensor_size=size, n_time_bins=steps)(ev.copy())
        np.testing.assert_array_equal(
            tp.from_tonic_frames(frames),
            ev_fn.bin_events(ev, (6, 5), steps, window_us=steps * width, mode="count")[0])
    # time_window=W from start_time s to s + T * W: bins of W microseconds.
    window, start = int(rng.integers(1, 5000)), int(rng.integers(0, 2000))
    frames = transforms.ToFrame(sensor_size=size, time_window=window, start_time=start,
                                end_time=start + steps * window)(ev.copy())
    np.testing.assert_array_equal(
        tp.from_tonic_frames(frames),
        ev_fn.bin_events(ev, (6, 5), steps, window_us=steps * window, t_start=start,
                         mode="count")[0])


def test_toframe_n_time_bins_drops_the_last_event_where_bin_events_keeps_it(rng):
    ev = _recording(rng)
    frames = transforms.ToFrame(sensor_size=(5, 6, 2), n_time_bins=4)(ev.copy())
    assert frames.shape == (4, 2, 6, 5), "tonic: (T, P, H, W)"
    assert frames[:, 0].sum() <= (ev["p"] == 0).sum(), "tonic channel 0 = p = 0 (OFF)"
    assert frames.sum() < len(ev) == ev_fn.bin_events(ev, (6, 5), 4, mode="count").sum()


def test_audio_events_toframe_and_bin_events_agree():
    ev = np.zeros(6, dtype=[("t", int), ("x", int), ("p", int)])  # SHD layout, p = 1
    ev["t"], ev["x"], ev["p"] = [0, 10, 20, 30, 40, 50], [0, 3, 3, 1, 6, 2], 1
    frames = transforms.ToFrame(sensor_size=(7, 1, 1), time_window=25, start_time=0,
                                end_time=50)(ev.copy())
    assert frames.shape == (2, 1, 7)
    np.testing.assert_array_equal(
        tp.from_tonic_frames(frames),
        EventEncoder(7, 2, window_us=50, t_start=0, mode="count").transform(ev)[0])


def test_transform_parser_builds_tonic_objects_without_eval():
    assert tp.tonic_transform("Denoise(filter_time=10000)") == transforms.Denoise(10000)
    composed = tp.tonic_transform(
        "[Denoise(filter_time=100), CenterCrop(sensor_size=(34, 34, 2), size=(28, 28))]")
    assert isinstance(composed, transforms.Compose) and len(composed.transforms) == 2
    assert composed.transforms[1].sensor_size == (34, 34, 2)
    for spec, match in [("Nope(a=1)", r"class of tonic.transforms, one of \[.*'Denoise'"),
                        ("Denoise(filter_time=__import__('os'))", "literal arguments"),
                        ("os.system('x')", "by name"),
                        ("Denoise(filter_time=", "Expected a call"),
                        ("Denoise(**{'filter_time': 1})", "unpacking"),
                        ("Denoise(delta=1)", r"arguments of tonic.transforms.Denoise"),
                        ("[]", "at least one")]:
        with pytest.raises(ValueError, match=match):
            tp.tonic_transform(spec)


# ------------------------------------------------------------------ the real N-MNIST files


@pytest.fixture(scope="module")
def nmnist_files(data_root):
    folder = data_root / "nmnist_small"
    if not (folder / "samples").is_dir():
        pytest.skip("nmnist_small not under the data root")
    return folder


@pytest.mark.realdata
def test_tonic_reader_equals_ours_on_real_files(nmnist_files):
    files = sorted((nmnist_files / "samples").glob("*.bs2"))[::55]  # 20 of the 1100
    assert len(files) == 20
    for path in files:
        theirs = tonic.io.read_mnist_file(str(path), dtype=TONIC_DTYPE)
        ours = read_nmnist_events(path)
        assert len(theirs) == len(ours) > 0
        for field in "xytp":
            np.testing.assert_array_equal(theirs[field], ours[field], err_msg=path.name)


@pytest.mark.realdata
def test_tonic_nmnist_dataset_through_from_tonic(nmnist_files, tmp_path):
    """tonic's own NMNIST class on local files (linked into its Test/<digit>/ layout; its
    download check is bypassed) gives our loader's recordings and labels."""
    x, y = load_nmnist("test", root=nmnist_files.parent)
    test_ids = [int(line.split()[0]) for line in (nmnist_files / "test100.txt").read_text()
                .splitlines() if line.strip() and not line.startswith("#")]
    class LocalNMNIST(tonic.datasets.NMNIST):
        def _check_exists(self):
            return True

    chosen = list(range(0, 100, 10))
    for i in chosen:  # tonic reads <save_to>/<class name>/Test/<digit>/*.bin
        digit_dir = tmp_path / LocalNMNIST.__name__ / "Test" / str(y[i])
        digit_dir.mkdir(parents=True, exist_ok=True)
        os.symlink(nmnist_files / "samples" / f"{test_ids[i]}.bs2",
                   digit_dir / f"{test_ids[i]:05d}.bin")

    data = from_tonic(LocalNMNIST(str(tmp_path), train=False))
    assert data.sensor_size == (34, 34) and len(data) == len(chosen)
    samples, labels = data.read()
    order = sorted(chosen, key=lambda i: (int(y[i]), f"{test_ids[i]:05d}"))  # tonic's walk
    assert labels.tolist() == [int(y[i]) for i in order]
    enc = EventEncoder(data.sensor_size, 10, mode="count")
    np.testing.assert_array_equal(enc.transform(samples), enc.transform(list(x[order])))
