"""Encoding and STDP feature extraction on Dask, written to a resumable Zarr store.

Needs the ``dask`` extra (``pip install 'spykeflow[dask]'``: dask, distributed, zarr); the
module imports without it and its functions raise an ``ImportError`` saying so.

* Dask arrays in the core classes: ``InputLayer.transform`` / ``transform_compact`` and
  ``Network.transform`` take a ``dask.array.Array`` and return one, lazily, block by block
  along the sample axis, the estimator in the graph once.
* :func:`encode`: a lazy dataset -> lazy spike trains, each block read and encoded on its
  worker (images with ``InputLayer``, event recordings with ``EventEncoder``).
* :func:`extract_features`: encode -> transform -> a Zarr store written by the workers,
  bit-packed binary features, resumable chunk by chunk; :func:`open_features` reads it back.
* :func:`local_cluster`: a LocalCluster whose workers run the kernels at full speed (see
  ``spykeflow.dask._cluster.WORKER_ENV`` for the one setting it changes, and why).

See docs/concepts/dask.md for the store layout and the failure semantics.
"""

from ._blocks import encode
from ._cluster import local_cluster
from ._extract import extract_features, fingerprint
from ._store import FeatureStoreError, open_features

__all__ = ["encode", "extract_features", "fingerprint", "open_features", "local_cluster",
           "FeatureStoreError"]
