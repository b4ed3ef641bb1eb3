"""extract_features on a LocalCluster (2 worker processes): bit-identical to the single
process, resumable, refusing another network's store, no chunk committed twice, Numba kernels
from the disk cache on the workers, and a worker killed mid-run."""

import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

dask = pytest.importorskip("dask")
pytest.importorskip("dask.distributed")
zarr = pytest.importorskip("zarr")

import spykeflow  # noqa: E402
from spykeflow.dask import FeatureStoreError, extract_features, open_features  # noqa: E402
from spykeflow.dask._store import open_group, write_chunk  # noqa: E402

from .faults import Interrupted, faulty  # noqa: E402

CHUNK = 40


def _commits(store):
    return zarr.open_group(store, mode="r")["done"][:, 1].tolist()


def test_distributed_features_bit_identical(mnist, client, tmp_path):
    ds = mnist["ds"]
    out = extract_features(ds, mnist["encoder"], mnist["net"], tmp_path / "f.zarr",
                           chunk_size=CHUNK, client=client, progress=False)
    assert out["n_chunks"] == 12 and out["computed"] == list(range(12)) and out["packed"]
    g = zarr.open_group(tmp_path / "f.zarr", mode="r")
    f = mnist["features"]
    assert g["features"].dtype == np.uint8 and g["features"].shape == (480, -(-f.shape[1] // 8))
    attrs = g.attrs["spykeflow_features"]
    assert attrs["n_features"] == f.shape[1] and attrs["chunk_size"] == CHUNK
    assert attrs["dataset"] == {"name": "mnist", "split": "test", "len": 480}
    assert attrs["spykeflow_version"] == spykeflow.__version__
    x, y = open_features(tmp_path / "f.zarr")
    np.testing.assert_array_equal(x, f)
    np.testing.assert_array_equal(y, mnist["y"])
    assert _commits(tmp_path / "f.zarr") == [1] * 12


def _numba_cache_stats():
    """Sum of the cache hits and misses of every Numba kernel of spykeflow.functional
    loaded in this (worker) process."""
    from numba.core.dispatcher import Dispatcher

    hits = misses = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("spykeflow.functional"):
            continue
        for obj in vars(module).values():
            if isinstance(obj, Dispatcher):
                hits += sum(obj.stats.cache_hits.values())
                misses += sum(obj.stats.cache_misses.values())
    return hits, misses


def test_workers_load_numba_kernels_from_disk_cache(mnist, client, tmp_path):
    ds = mnist["ds"][:160]
    extract_features(ds, mnist["encoder"], mnist["net"], tmp_path / "f.zarr",
                     chunk_size=CHUNK, client=client, progress=False)
    stats = client.run(_numba_cache_stats)
    for worker, (hits, misses) in stats.items():
        assert hits > 0 and misses == 0, f"{worker}: {hits} cache hits, {misses} misses"


def test_resume_computes_only_missing_and_corrupt_chunks(mnist, client, tmp_path):
    store = tmp_path / "f.zarr"
    enc, net = mnist["encoder"], mnist["net"]
    # an interrupted run: the store is created, then no chunk can be read (Dask's synchronous
    # scheduler: nothing still runs after the failure) ...
    with dask.config.set(scheduler="synchronous"), pytest.raises(Interrupted):
        extract_features(faulty(mnist["ds"], fail_from=1), enc, net, store,
                         chunk_size=CHUNK, progress=False)
    assert _commits(store) == [0] * 12
    # ... and only some chunks computed
    ds = mnist["ds"]
    done = [0, 3, 5, 11]
    for i in done:
        write_chunk(i, ds, enc, net, None, str(store), None)
    with pytest.raises(FeatureStoreError, match="Rerun"):
        open_features(store)
    # damage a committed chunk's bytes on disk
    corrupt = 3
    (store / "features" / "c" / str(corrupt) / "0").write_bytes(b"not a zstd frame")
    out = extract_features(mnist["ds"], enc, net, store,
                           chunk_size=CHUNK, client=client, progress=False)
    missing = [i for i in range(12) if i not in done]
    assert out["computed"] == sorted([corrupt, *missing]) and out["reused"] == len(done) - 1
    commits = _commits(store)
    assert commits[corrupt] == 2 and all(commits[i] == 1 for i in range(12) if i != corrupt)
    np.testing.assert_array_equal(open_features(store)[0], mnist["features"])
    again = extract_features(mnist["ds"], enc, net, store,
                             chunk_size=CHUNK, client=client, progress=False)
    assert again["computed"] == [] and again["reused"] == 12


def test_other_network_encoder_or_chunking_refused(mnist, tmp_path):
    store = tmp_path / "f.zarr"
    ds = mnist["ds"][:80]
    enc, net = mnist["encoder"], mnist["net"]
    extract_features(ds, enc, net, store, chunk_size=CHUNK, progress=False)
    other = spykeflow.Network(net.layers, seed=1, progress=False).fit(mnist["spikes"][:50])
    for args, what in (((enc, other), "fingerprint"),
                       ((spykeflow.InputLayer(on_threshold=60.0), net), "fingerprint")):
        with pytest.raises(FeatureStoreError, match=f"different.*{what}.*overwrite=True"):
            extract_features(ds, *args, store, chunk_size=CHUNK, progress=False)
    with pytest.raises(FeatureStoreError, match="chunk_size"):
        extract_features(ds, enc, net, store, chunk_size=CHUNK // 2, progress=False)
    # n_jobs and progress do not change features: the same store is reused
    busy = spykeflow.InputLayer(n_jobs=2, batch_size=7, progress=True)
    same = extract_features(ds, busy, net, store, chunk_size=CHUNK, progress=False)
    assert same["computed"] == []
    out = extract_features(ds, enc, other, store, chunk_size=CHUNK, progress=False,
                           overwrite=True)
    assert out["computed"] == [0, 1]
    np.testing.assert_array_equal(open_features(store)[0],
                                  other.transform(mnist["spikes"][:80]))


def test_groups_float_features_and_foreign_store(mnist, tmp_path):
    store = tmp_path / "f.zarr"
    ds = mnist["ds"][:50]
    sets = [(0, "max_potential")]
    extract_features(ds, mnist["encoder"], mnist["net"], store, chunk_size=CHUNK, layers=sets,
                     group="test", progress=False)
    x, _ = open_features(store, group="test")
    np.testing.assert_array_equal(x, mnist["net"].transform(mnist["spikes"][:50], layers=sets))
    assert not zarr.open_group(store, path="test").attrs["spykeflow_features"]["packed"]
    zarr.open_group(tmp_path / "other.zarr", mode="w").create_array("x", shape=(2,), dtype="i4")
    with pytest.raises(FeatureStoreError, match="holds other data"):
        extract_features(ds, mnist["encoder"], mnist["net"], tmp_path / "other.zarr",
                         progress=False)


def test_retried_task_does_not_rewrite_a_committed_chunk(mnist, tmp_path):
    store = tmp_path / "f.zarr"
    ds = mnist["ds"][:80]
    enc, net = mnist["encoder"], mnist["net"]
    extract_features(ds, enc, net, store, chunk_size=CHUNK, progress=False)
    # the same task run again (a retry after its worker died after committing)
    assert write_chunk(1, ds, enc, net, None, str(store), None) == "skipped"
    assert _commits(store) == [1, 1]
    open_group(str(store), None, "r+")["done"][1] = np.zeros(2, np.uint64)  # not committed
    assert write_chunk(1, ds, enc, net, None, str(store), None) == "written"
    assert _commits(store) == [1, 1]


def test_worker_killed_mid_run(mnist, client, tmp_path):
    """SIGKILL a worker while it runs a task, after some chunks are committed: the lost
    chunks are recomputed, the store is complete and identical, no chunk committed twice."""
    store = tmp_path / "f.zarr"
    ds = faulty(mnist["ds"], delay=0.4)
    pids = client.run(os.getpid)
    result, errors = {}, []

    def run():
        try:
            result.update(extract_features(ds, mnist["encoder"], mnist["net"], store,
                                           chunk_size=CHUNK, client=client, progress=False))
        except Exception as err:  # reported by the assertion below
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            if sum(c > 0 for c in _commits(store)) < 2:
                continue
        except (FileNotFoundError, zarr.errors.GroupNotFoundError, KeyError):
            continue  # the store is not created yet
        busy = [w for w, keys in client.processing().items() if keys and w in pids]
        if busy:
            victim = busy[0]
            os.kill(pids[victim], signal.SIGKILL)
    thread.join(120)
    assert victim is not None, "no worker was caught processing a task"
    assert not errors, errors
    assert pids[victim] not in client.run(os.getpid).values()  # the nanny started a new one
    assert len(result["computed"]) == 12
    assert _commits(store) == [1] * 12
    x, y = open_features(store)
    np.testing.assert_array_equal(x, mnist["features"])
    np.testing.assert_array_equal(y, mnist["y"])


def test_local_cluster_workers_keep_glibc_adaptive_mmap(client):
    """local_cluster's workers run without Dask's MALLOC_TRIM_THRESHOLD_ (it switches off
    glibc's adaptive mmap threshold: 1.3-1.45x slower encode + transform), and keep Dask's
    other settings (one BLAS thread)."""
    env = client.run(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                              os.environ.get("OMP_NUM_THREADS")))
    assert len(env) == 2 and set(env.values()) == {(None, "1")}
