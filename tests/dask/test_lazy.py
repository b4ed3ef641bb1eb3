"""Dask arrays through InputLayer and Network: lazy, block-wise, the model in the graph once,
results bit-identical to the numpy path; and the dataset-level encode()."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

import spykeflow  # noqa: E402
from spykeflow import datasets  # noqa: E402
from spykeflow.dask import encode  # noqa: E402
from spykeflow.datasets import LazyDataset  # noqa: E402


def _never(*_):
    raise AssertionError("the data was computed at call time")


def _lazy_images(x, chunk):
    """A Dask array of ``x`` whose blocks fail if computed (to prove laziness)."""
    return da.concatenate([
        da.from_delayed(dask.delayed(_never)(a), (min(chunk, len(x) - a), *x.shape[1:]),
                        x.dtype) for a in range(0, len(x), chunk)])


def _holders(graph, cls):
    """Keys of the graph nodes whose value is an instance of ``cls``."""
    return [k for k, v in graph.items() if isinstance(getattr(v, "value", None), cls)]


def test_transforms_are_lazy(mnist):
    x = mnist["x"][:100]
    enc, net = mnist["encoder"], mnist["net"]
    lazy = net.transform(enc.transform(_lazy_images(x, 40)))  # nothing runs: no AssertionError
    assert isinstance(lazy, da.Array)
    assert lazy.shape == (100, mnist["features"].shape[1])
    assert lazy.chunks[0] == (40, 40, 20) and len(lazy.chunks[1]) == 1


def test_model_enters_graph_once_and_results_identical(mnist):
    x = mnist["x"][:150]
    enc, net = mnist["encoder"], mnist["net"]
    xd = da.from_array(x, chunks=(40, 14, 28))  # other axes rechunked to one chunk
    spikes = enc.transform(xd)
    feats = net.transform(spikes)
    graph = dict(feats.__dask_graph__())
    nets, encs = _holders(graph, spykeflow.Network), _holders(graph, spykeflow.InputLayer)
    assert len(nets) == 1 and len(encs) == 1, (nets, encs)
    blocks = [v for k, v in graph.items() if isinstance(k, tuple) and k[0] == feats.name]
    assert len(blocks) == 4 and all(nets[0] in v.dependencies for v in blocks)
    # the copies in the graph run quietly on one thread; the caller's objects are untouched
    copy = graph[nets[0]].value
    assert copy is not net and copy.n_jobs == 1 and copy.progress is False
    assert copy.weights_ is net.weights_
    np.testing.assert_array_equal(spikes.compute(), mnist["spikes"][:150])
    np.testing.assert_array_equal(feats.compute(), mnist["features"][:150])
    np.testing.assert_array_equal(enc.transform_compact(xd).compute(),
                                  enc.transform_compact(x))
    both = net.transform(spikes, layers=[1, (0, "max_potential")])
    np.testing.assert_array_equal(both.compute(),
                                  net.transform(mnist["spikes"][:150],
                                                layers=[1, (0, "max_potential")]))


def test_encode_dataset_images(mnist):
    ds = mnist["ds"][:130]
    spikes = encode(ds, mnist["encoder"], chunk_size=50)
    assert spikes.chunks[0] == (50, 50, 30)
    assert len(_holders(dict(spikes.__dask_graph__()), LazyDataset)) == 1
    np.testing.assert_array_equal(spikes.compute(), mnist["spikes"][:130])


def test_encode_dataset_events(data_root):
    """Real N-MNIST recordings, each block read file by file and binned on its worker."""
    try:
        ds = datasets.open("nmnist", "test", root=data_root)[:7]
    except datasets.DatasetNotFoundError:
        pytest.skip("N-MNIST is not in the data root")
    enc = spykeflow.EventEncoder(sensor_size=ds.sensor_size, time_steps=4)
    spikes = encode(ds, enc, chunk_size=3)
    assert spikes.chunks[0] == (3, 3, 1)
    np.testing.assert_array_equal(spikes.compute(), enc.transform(ds.read()[0]))


def test_validation(mnist):
    with pytest.raises(TypeError, match="lazy dataset"):
        encode(np.zeros((3, 28, 28)), spykeflow.InputLayer())
    with pytest.raises(ValueError, match="chunk_size"):
        encode(mnist["ds"][:3], spykeflow.InputLayer(), chunk_size=0)
