"""Diagnostic plots of SpykeFlow: functions ``(data..., ax=None / fig=None, **style) -> Figure``.

Every function takes plain numpy arrays (or dicts of them), returns a
:class:`matplotlib.figure.Figure`, and never calls ``show()`` or ``savefig`` or changes global
``rcParams``: the caller (``main/main.py``, a notebook) decides where figures go, e.g.
``fig.savefig(path, dpi=150)``. Figures are created without ``pyplot``, so they are not kept
alive by the pyplot figure manager; font sizes are set explicitly per artist (``fontsize=``).
This package imports only numpy and matplotlib.

Input conventions (see each module):

* conv weights ``(kh, kw, C_in, C_out)`` in [0, 1]; a deeper layer as a list ``[W1, W2, ...]``
  first layer first, pools between them given by ``pool_size`` / ``pool_stride``;
* snapshots ``(S, kh, kw, C_in, C_out)`` with ``images_seen`` ``(S,)``;
* spikes ``(T, H, W, C)`` for one sample or ``(N, T, H, W, C)`` with ``index=``
  (:mod:`spykeflow.conventions`; channel 0 = ON, 1 = OFF);
* per-image series ``(N,)`` (or ``{layer: (N,)}``), per-map counts ``(M,)``, per-image per-map
  counts ``(N, M)``, labels ``(N,)``.

ON/OFF colours: ``kernel_rgb="off_red"`` (default) draws OFF in red and ON in green (B = 0, both
= yellow); ``"on_red"`` swaps them.

What the original SpykeFlow's diagnostics were and where these differ:
``docs/original/diagnostics.md``.

Modules: ``encoder`` (DoG kernels, encoder view), ``spikes`` (raster, input spikes per
time step), ``features`` (feature grid, reconstruction, kernel evolution),
``statistics`` (updates per map, winners/spikes per image, spikes per map per class,
convergence), ``debug`` (per-image debug views), ``classifier`` (confusion matrix,
per-class accuracy, training curves, misclassified images).
"""

from ._common import (
    EMNIST_BALANCED_LABELS,
    EMNIST_BYCLASS_LABELS,
    EMNIST_COLLAPSED_GROUPS,
    latency_image,
)
from .classifier import (
    confusion_counts,
    plot_confusion_matrix,
    plot_misclassified,
    plot_per_class_accuracy,
    plot_training_curves,
)
from .debug import plot_debug_views, summed_activity
from .encoder import plot_dog_kernels, plot_encoder_view
from .features import (
    draw_mosaic,
    features_rgb,
    kernel_mosaic,
    kernels_rgb,
    plot_feature_grid,
    plot_kernel_evolution,
    plot_reconstructed_features,
    receptive_field_sizes,
    reconstruct_features,
    snapshot_rgb,
)
from .spikes import plot_input_spikes, plot_spike_raster, raster_coordinates
from .statistics import (
    class_map_counts,
    plot_convergence,
    plot_spikes_per_image,
    plot_spikes_per_map_per_class,
    plot_stdp_updates_per_map,
    plot_winners_per_image,
    zoom_window,
)

__all__ = [
    "EMNIST_BALANCED_LABELS",
    "EMNIST_BYCLASS_LABELS",
    "EMNIST_COLLAPSED_GROUPS",
    "draw_mosaic",
    "class_map_counts",
    "confusion_counts",
    "features_rgb",
    "kernel_mosaic",
    "kernels_rgb",
    "latency_image",
    "plot_confusion_matrix",
    "plot_convergence",
    "plot_debug_views",
    "plot_dog_kernels",
    "plot_encoder_view",
    "plot_feature_grid",
    "plot_input_spikes",
    "plot_kernel_evolution",
    "plot_misclassified",
    "plot_per_class_accuracy",
    "plot_reconstructed_features",
    "plot_spike_raster",
    "plot_spikes_per_image",
    "plot_spikes_per_map_per_class",
    "plot_stdp_updates_per_map",
    "plot_training_curves",
    "plot_winners_per_image",
    "raster_coordinates",
    "receptive_field_sizes",
    "reconstruct_features",
    "snapshot_rgb",
    "summed_activity",
    "zoom_window",
]
