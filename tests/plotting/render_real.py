"""Render the diagnostics from a real (short) SpykeFlow run on MNIST, to check the plotting
input conventions against ``Network.history_`` and look at real kernels. Not a test.

    python tests/plotting/render_real.py [OUT_DIR] [N_IMAGES]
"""

from __future__ import annotations

import pathlib
import sys
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

import spykeflow  # noqa: E402
from spykeflow import animation, datasets, plotting  # noqa: E402


def main(out, n_images=1500):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    x, y = datasets.load("mnist", split="train")
    x, y = x[:n_images], y[:n_images]
    spikes = spykeflow.InputLayer().transform(x)
    conv, pool = spykeflow.Network.preset("mnist_conv1").layers
    net = spykeflow.Network([conv.replace(n_images=n_images), pool], progress=False).fit(spikes)
    t_fit = time.perf_counter() - t0
    h = net.history_["layers"][0]
    w1 = net.weights_[0]
    figs = {
        "real_01_feature_grid": plotting.plot_feature_grid(w1),
        "real_02_kernel_evolution": plotting.plot_kernel_evolution(h["snapshots"],
                                                                   h["snapshot_images"]),
        "real_03_convergence": plotting.plot_convergence({"Conv1": h["snapshots"]},
                                                         {"Conv1": h["snapshot_images"]}),
        "real_04_updates_per_map": plotting.plot_stdp_updates_per_map(h["updates_per_map"]),
        "real_05_winners_per_image": plotting.plot_winners_per_image(h["winners_per_image"]),
    }
    pool = net.spikes_at(spikes[:1000], layer=1)
    conv = net.spikes_at(spikes[:1000], layer=0)
    figs["real_06_spikes_per_image"] = plotting.plot_spikes_per_image(
        {"Conv1": conv.sum(axis=(1, 2, 3, 4)), "Pool1": pool.sum(axis=(1, 2, 3, 4))},
        zoom=(500, 520))
    figs["real_07_spikes_per_map_per_class"] = plotting.plot_spikes_per_map_per_class(
        pool, y[:1000], kernels=plotting.kernels_rgb(w1))
    figs["real_08_input_spikes"] = plotting.plot_input_spikes(spikes, index=0)
    figs["real_09_conv1_raster"] = plotting.plot_spike_raster(conv, index=0, layer_name="Conv1")
    win = np.concatenate([np.asarray(r).reshape(-1, 5) for r in h["winners"]])
    figs["real_10_debug"] = plotting.plot_debug_views(
        spikes, index=0, after_inhibition=conv, pool_before=pool,
        winners=win[win[:, 0] == 0][:, [2, 3, 1]])
    for name, fig in figs.items():
        fig.savefig(out / f"{name}.png", dpi=110)
    anim = animation.weight_evolution_animation(h["snapshots"], h["snapshot_images"])
    anim.save(out / "real_11_weight_evolution.gif", writer=animation.writer_for("a.gif", fps=3))
    print(f"fit {n_images} images in {t_fit:.1f} s; all done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "plot_gallery_real",
         int(sys.argv[2]) if len(sys.argv) > 2 else 1500)
