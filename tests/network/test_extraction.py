"""Feature extraction on all cores and on a GPU (issue 21): the parallel event conversions
equal their numpy definitions, results do not depend on ``n_jobs``, the ``keras.ops`` dense
path gives bit-identical features to the Numba path, and a second process loads every kernel
from Numba's cache instead of compiling it."""

import json
import os
import subprocess
import sys
import textwrap

import joblib
import numba
import numpy as np
import pytest

from spykeflow import Network, SpikePool, STDPConv, _dense
from spykeflow._parallel import effective_n_jobs, numba_threads
from spykeflow.functional import dense_pass, feature_pass, pooling, spike_events

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _first_spikes(n, shape, steps, p_silent, seed):
    rng = np.random.default_rng(seed)
    first = rng.integers(0, steps, size=(n,) + shape).astype(np.int8)
    first[rng.random(first.shape) < p_silent] = -1
    return first


def _dense_spikes(first, steps):
    return first[:, None] == np.arange(steps).reshape(1, -1, 1, 1, 1)


# ----------------------------------------------------------------------- event conversions
@pytest.mark.parametrize("shape", [(7, 7, 2), (3, 5, 1)])     # 8-byte words / odd widths
def test_from_dense_and_from_first_spike_equal_numpy(shape):
    first = _first_spikes(9, shape, 4, 0.6, 0)
    first[3] = -1                                               # a silent sample
    s = _dense_spikes(first, 4)
    img, t, idx = np.nonzero(s.reshape(9, 4, -1))
    for ev in (spike_events.from_dense(s), spike_events.from_dense(s.astype(np.int32)),
               spike_events.from_first_spike(first, 4)):
        np.testing.assert_array_equal(np.diff(ev.ptr), np.bincount(img, minlength=9))
        np.testing.assert_array_equal(ev.t, t)
        np.testing.assert_array_equal(ev.idx, idx)
        assert ev.shape == (4,) + shape


def test_from_first_spike_rejects_late_spikes():
    with pytest.raises(ValueError, match=r"\[-1, 2\]"):
        spike_events.from_first_spike(np.full((1, 2, 2, 1), 3, np.int8), 3)


def test_to_features_equals_dense_definition():
    first = _first_spikes(6, (4, 3, 2), 5, 0.5, 1)
    s = _dense_spikes(first, 5)
    s[:, 3] |= s[:, 1]                                          # some neurons spike twice
    ev = spike_events.from_dense(s)
    maps = s.transpose(0, 1, 4, 2, 3).reshape(6, 5, -1)         # map-major
    np.testing.assert_array_equal(spike_events.to_features(ev, "binary"), maps.any(1))
    np.testing.assert_array_equal(spike_events.to_features(ev, "counts"), maps.sum(1))
    fst = np.where(maps.any(1), maps.argmax(1), -1)
    np.testing.assert_array_equal(spike_events.to_features(ev, "first_spike_times"), fst)
    out = np.full((6, 24), 7, np.uint8)
    assert spike_events.to_features(ev, "binary", out=out) is out and out.max() == 1
    with pytest.raises(ValueError, match="C-contiguous int16"):
        spike_events.to_features(ev, "counts", out=out)


@pytest.mark.parametrize("n", [0, 1, 2, 33, 1000])
def test_sort_step_sorts_one_step_in_place(n):
    rng = np.random.default_rng(n)
    key = rng.permutation(10 * n + 1)[:n].astype(np.int32)     # one event per neuron and step
    idx = np.concatenate([[5, 5], key, [5]]).astype(np.int32)
    val = idx.astype(np.float32) / 2
    spike_events.sort_step(idx, val, 2, 2 + n)
    np.testing.assert_array_equal(idx, np.concatenate([[5, 5], np.sort(key), [5]]))
    np.testing.assert_array_equal(val, idx / 2)


def test_kernels_emit_events_in_canonical_order():
    """Sorted by (step, index) within a sample: the order the next layer sums in."""
    first = _first_spikes(5, (9, 9, 2), 4, 0.4, 2)
    ev = spike_events.from_dense(_dense_spikes(first, 4))
    w = np.random.default_rng(3).random((3, 3, 2, 5)).astype(np.float32)
    th = np.full(5, 2.0, np.float32)
    outs = [feature_pass.conv_events(ev, w, th, inhibition=inh) for inh in (True, False)]
    outs += [pooling.pool_events(outs[1], th, mode=m, lateral_inhibition=lat)
             for m in pooling.POOL_MODES for lat in (False, True)]
    for out in outs:
        assert len(out.t) > 0
        for i in range(out.n):
            a, b = out.ptr[i], out.ptr[i + 1]
            key = out.t[a:b].astype(np.int64) * 10**6 + out.idx[a:b]
            assert (np.diff(key) > 0).all()


# ----------------------------------------------------------------------------- n_jobs
def test_n_jobs_rule_follows_scikit_learn():
    cpus = joblib.cpu_count()
    assert effective_n_jobs(None) == 1 and effective_n_jobs(1) == 1
    assert effective_n_jobs(-1) == cpus and effective_n_jobs(-2) == max(cpus - 1, 1)
    assert effective_n_jobs(-10 * cpus) == 1
    with joblib.parallel_config(n_jobs=2):
        assert effective_n_jobs(None) == 2
    for bad in (0, 1.5, "2", True):
        with pytest.raises(ValueError, match="Expected n_jobs to be None"):
            effective_n_jobs(bad)


def test_numba_threads_restores_the_setting():
    before = numba.get_num_threads()
    with numba_threads(1) as n:
        assert n == numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with pytest.raises(ValueError, match="n_jobs"), numba_threads(0):
        pass
    assert numba.get_num_threads() == before


def _layers_two_convs(inhibition=True, jitter=0.0, pool_inhibition=True):
    return [STDPConv(4, 3, threshold=2.5, inhibition_window=3, padding=1,
                     threshold_jitter=jitter, lateral_inhibition=inhibition),
            SpikePool(2, lateral_inhibition=pool_inhibition),
            STDPConv(5, 2, threshold=1.5, inhibition_window=3, strict_threshold=True),
            SpikePool(2, stride=1, mode="accumulate")]


@pytest.fixture(scope="module")
def two_conv_net():
    x = _dense_spikes(_first_spikes(40, (10, 10, 2), 5, 0.75, 4), 5)
    net = Network(_layers_two_convs(jitter=0.2), progress=False, batch_size=16, n_jobs=1)
    return net.fit(x), x


ALL_SETS = [0, (0, "counts"), (1, "first_spike_times"), (2, "max_potential"), (2, "counts"),
            (3, "counts"), (3, "first_spike_times"), 3]


def test_results_do_not_depend_on_n_jobs(two_conv_net):
    net, x = two_conv_net
    ref = net.set_params(n_jobs=1).transform(x, layers=ALL_SETS)
    for n_jobs in (2, -1, None):
        np.testing.assert_array_equal(net.set_params(n_jobs=n_jobs).transform(
            x, layers=ALL_SETS), ref)
    with joblib.parallel_config(n_jobs=2):
        np.testing.assert_array_equal(net.set_params(n_jobs=None).transform(
            x, layers=ALL_SETS), ref)
    np.testing.assert_array_equal(net.set_params(n_jobs=2).spikes_at(x, 2),
                                  net.set_params(n_jobs=1).spikes_at(x, 2))
    refit = Network(_layers_two_convs(jitter=0.2), progress=False, batch_size=16, n_jobs=2)
    for w, w_ref in zip(refit.fit(x).weights_, net.weights_):
        np.testing.assert_array_equal(w, w_ref)


def test_network_rejects_bad_n_jobs_and_device(two_conv_net):
    net, x = two_conv_net
    with pytest.raises(ValueError, match="n_jobs"):
        net.set_params(n_jobs=0).transform(x)
    with pytest.raises(ValueError, match="device"):
        net.set_params(n_jobs=1, device="tpu").transform(x)
    net.set_params(device="cpu")


# ---------------------------------------------------------------- the dense (GPU) path
def _dense_features(net, x, layers=None, compiled=True):
    sets = net._feature_sets(layers)
    widths, dtypes = net._set_layouts(sets)
    out = np.empty((len(x), sum(widths)), np.result_type(*dtypes))
    _dense.transform_into(net, x, sets, out, None, compiled=compiled)
    return out


def _with_weights(layers, weights, input_shape):
    net = Network(layers, progress=False, batch_size=64)
    net.layers_, net.weights_, net.input_shape_ = net._layer_list(), weights, input_shape
    return net


def test_dense_path_equals_numba_on_every_option(two_conv_net):
    """Conv with and without inhibition, padding, strict thresholds, per-sample jitter, pool
    inhibition, accumulate / transient / first_spike pools, every feature kind: identical
    bits (the first network compiled with XLA on TensorFlow and JAX, the others op by op, to
    keep the test short). Weights on a 1/8 grid make equal potentials and exact threshold
    hits common, so the tie rules are exercised too."""
    net, x = two_conv_net
    np.testing.assert_array_equal(_dense_features(net, x, ALL_SETS),
                                  net.transform(x, layers=ALL_SETS))
    rng = np.random.default_rng(5)
    grid = [np.round(rng.random(w.shape) * 8).astype(np.float32) / 8 if w is not None else None
            for w in net.weights_]
    one_conv = [STDPConv(4, 3, threshold=2.0, inhibition_window=3, strict_threshold=True)]
    models = [
        _with_weights(_layers_two_convs(inhibition=False, pool_inhibition=False), grid,
                      net.input_shape_),                        # transient pool, no inhibition
        _with_weights(one_conv + [SpikePool(2)], grid[:1] + [None], net.input_shape_),
        _with_weights(one_conv + [SpikePool(3, stride=2, mode="accumulate",
                                            lateral_inhibition=True, padding=1)],
                      grid[:1] + [None], net.input_shape_)]
    for model in models:
        n_layers = len(model.layers_)
        sets = [(i, v) for i in range(n_layers) for v in ("counts", "first_spike_times")]
        sets += [(i, "max_potential") for i in range(n_layers)
                 if isinstance(model.layers_[i], STDPConv)]
        ref = model.transform(x, layers=sets)
        assert ref.any()
        np.testing.assert_array_equal(_dense_features(model, x, sets, compiled=False), ref)


def test_dense_path_sums_in_the_kernels_order():
    """1 + 2^-24 + 2^-24 is 1 summed left to right but 1 + 2^-23 right to left: a threshold
    of 1 + 2^-23 separates the two orders, and both paths must take the same one."""
    tiny = np.float32(2.0 ** -24)
    x = np.zeros((2, 1, 1, 3, 1), bool)
    x[:, 0] = True
    theta = np.full(2, 1 + 2 * tiny, np.float32)
    for row, spikes in (([1.0, tiny, tiny], False), ([tiny, tiny, 1.0], True)):
        w = np.array(row, np.float32).reshape(1, 3, 1, 1)
        ev = feature_pass.conv_events(spike_events.from_dense(x), w, theta)
        s, v = dense_pass.conv_layer(x, w, theta)
        assert (len(ev.t) == 2) == spikes == bool(np.asarray(s).all())
        final = np.asarray(dense_pass.final_potentials(x, w))
        np.testing.assert_array_equal(final, feature_pass.max_potentials(
            spike_events.from_dense(x), w))


def test_device_gpu_runs_the_dense_path(two_conv_net, monkeypatch):
    net, x = two_conv_net
    ref = net.set_params(device="cpu").transform(x, layers=ALL_SETS)
    monkeypatch.setattr(_dense, "gpu_device", lambda: None)
    assert net.set_params(device="auto")._resolved_device() == "cpu"
    with pytest.raises(ValueError, match="sees no GPU"):
        net.set_params(device="gpu").transform(x)
    monkeypatch.setattr(_dense, "gpu_device", lambda: "cpu:0")    # pretend: a "GPU" here
    np.testing.assert_array_equal(net.set_params(device="gpu").transform(x, layers=ALL_SETS),
                                  ref)                          # (the program compiled above)
    net.set_params(device="cpu")


@pytest.mark.realdata
def test_dense_path_equals_numba_on_mnist(data_root):
    """Conv1 + Pool1 of the published setting, trained briefly, on real MNIST spikes."""
    from spykeflow import InputLayer, datasets

    images, _ = datasets.load("mnist", "test", root=data_root)
    spikes = InputLayer().transform(images[:96])
    net = Network.preset("mnist_conv1", progress=False, batch_size=32)
    conv, pool = net.layers
    net.set_params(layers=[conv.replace(n_images=64), pool]).fit(spikes[:64])
    sets = [1, (1, "counts"), (0, "first_spike_times"), (0, "max_potential")]
    ref = net.transform(spikes[64:], layers=sets)
    assert ref[:, :3630].sum() > 32 * 50                         # features are not empty
    np.testing.assert_array_equal(_dense_features(net, spikes[64:], sets, compiled=False), ref)


# -------------------------------------------------------------------------- Numba cache
_PROBE = textwrap.dedent("""
    import json, sys
    import numpy as np
    from numba.core.registry import CPUDispatcher
    from spykeflow import Network, SpikePool, STDPConv
    x = np.random.default_rng(0).random((4, 3, 8, 8, 2)) < 0.2
    layers = [STDPConv(4, 3, threshold=2.0, inhibition_window=3), SpikePool(2),
              STDPConv(3, 2, threshold=1.0, inhibition_window=3), SpikePool(2)]
    net = Network(layers, progress=False).fit(x)
    net.set_params(n_jobs=2).transform(x, layers=[3, (2, "max_potential"), (1, "counts")])
    stats = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("spykeflow"):
            for attr, obj in vars(module).items():
                if isinstance(obj, CPUDispatcher) and obj.__module__ == name:
                    s = obj.stats
                    stats[name + "." + attr] = [sum(s.cache_hits.values()),
                                                sum(s.cache_misses.values())]
    print(json.dumps(stats))
""")


def test_second_process_loads_kernels_from_cache():
    """No compile wait: every compiled kernel a process uses (training, extraction, parallel
    or not) is loaded from Numba's on-disk cache in the next process, none recompiled."""
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    runs = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                             env=env, cwd=REPO, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    used = {k: v for k, v in runs[1].items() if sum(v)}
    for kernel in ("feature_pass._conv_kernel", "feature_pass._max_potential_kernel",
                   "pooling._pool_kernel", "spike_events._dense_fill", "engine._train"):
        assert any(k.endswith(kernel) for k in used), (kernel, sorted(used))
    missed = {k: v for k, v in used.items() if v[1]}
    assert not missed, f"recompiled in the second process: {missed}"
