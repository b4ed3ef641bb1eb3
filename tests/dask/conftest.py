"""Shared fixtures of the Dask tests: a small Network STDP-trained on real MNIST, and one
LocalCluster (2 worker processes, 1 thread each, on 127.0.0.1) per module. Nothing here
imports Dask: the test modules skip themselves when it is missing."""

import pathlib

import numpy as np
import pytest

import spykeflow
from spykeflow import datasets

N_IMAGES = 480
REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="package")
def mnist(data_root):
    """480 MNIST test images (the lazy dataset and its arrays), their labels, an encoder and
    a Network trained on them, and the single-process features (the reference)."""
    try:
        ds = datasets.open("mnist", "test", root=data_root)[:N_IMAGES]
    except datasets.DatasetNotFoundError:
        pytest.skip("MNIST is not in the data root")
    x, y = ds.read()
    encoder = spykeflow.InputLayer(progress=False)
    spikes = encoder.transform(x)
    net = spykeflow.Network(
        [spykeflow.STDPConv(8, 5, threshold=10.0, inhibition_window=5, padding=2,
                            n_images=200),
         spykeflow.SpikePool(2)], seed=0, progress=False).fit(spikes)
    features = net.transform(spikes)
    assert features.any() and not features.all()
    return {"ds": ds, "x": x, "y": np.asarray(y, np.int64), "encoder": encoder, "net": net,
            "spikes": spikes, "features": features}


@pytest.fixture(scope="module")
def client():
    from distributed import Client

    from spykeflow.dask import local_cluster

    with local_cluster(2) as cluster, Client(cluster) as c:
        yield c
