"""Every diagnostic figure of an STDP image run (PNG, the weight evolution as GIF)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from run import Run, class_names

import spykeflow
from spykeflow import io


def layer_names(net: Any) -> list[str]:
    """``Conv1``, ``Pool1``, ``Conv2``, ... for the layers of ``net``."""
    names, n_conv, n_pool = [], 0, 0
    for layer in net.layers_:
        if isinstance(layer, spykeflow.STDPConv):
            n_conv += 1
            names.append(f"Conv{n_conv}")
        else:
            n_pool += 1
            names.append(f"Pool{n_pool}")
    return names


def _conv_indices(net: Any) -> list[int]:
    return [i for i, layer in enumerate(net.layers_) if isinstance(layer, spykeflow.STDPConv)]


def _pool_geometry(net: Any, upto: int) -> dict:
    """``pool_size`` / ``pool_stride`` of the pools below layer ``upto``."""
    pools = [layer for layer in net.layers_[:upto] if isinstance(layer, spykeflow.SpikePool)]
    return {"pool_size": [p.size for p in pools], "pool_stride": [p.stride for p in pools]}


def plot_all(run: Run, config: Any, net: Any, spikes_test: np.ndarray, ds_stdp: Any,
             y_test: np.ndarray, encoder: Any) -> dict:
    """Features, convergence, STDP statistics, activity, one sample's views and the readout."""
    from spykeflow import plotting

    figures: list[str] = []

    def save(fig, name):
        run.save_figure(fig, name)
        figures.append(name)

    names = layer_names(net)
    convs = _conv_indices(net)
    weights = [net.weights_[i] for i in convs]
    hist = {names[i]: net.history_["layers"][i] for i in convs}
    classes = np.unique(y_test)
    labels = class_names(config.dataset, classes)

    # features of each conv layer; deeper layers reconstructed through the layers below
    for k, li in enumerate(convs):
        geometry = _pool_geometry(net, li) if k else {}
        chain = weights[: k + 1] if k else weights[0]
        save(plotting.plot_feature_grid(chain, maps=None, **geometry), f"features_{names[li]}.png")
        if k:
            save(plotting.plot_reconstructed_features(chain, **geometry),
                 f"reconstruction_{names[li]}.png")
    # convergence of all layers on one figure
    snaps = {n: np.asarray(h["snapshots"]) for n, h in hist.items() if len(h["snapshots"]) > 1}
    if snaps:
        seen = {n: np.asarray(hist[n]["snapshot_images"]) for n in snaps}
        save(plotting.plot_convergence(snaps, seen), "convergence.png")
    for k, li in enumerate(convs):
        name, h = names[li], hist[names[li]]
        save(plotting.plot_stdp_updates_per_map(h["updates_per_map"], layer_name=name),
             f"stdp_updates_per_map_{name}.png")
        if len(h["winners_per_image"]):
            save(plotting.plot_winners_per_image(np.asarray(h["winners_per_image"]),
                                                 layer_name=name, zoom=list(config.zoom)),
                 f"winners_per_image_{name}.png")
        if len(h["snapshots"]) > 1:
            figures += _weight_evolution(run, config, h, name, weights[:k] if k else None,
                                         _pool_geometry(net, li) if k else {})
    # activity in inference on test images
    layer_spikes = {n: net.spikes_at(spikes_test, layer=i) for i, n in enumerate(names)}
    per_image = {n: s.sum(axis=(1, 2, 3, 4)) for n, s in layer_spikes.items()}
    save(plotting.plot_spikes_per_image(per_image, zoom=list(config.zoom)),
         "spikes_per_image.png")
    for pool_name in [n for n in names if n.startswith("Pool")]:
        li = names.index(pool_name)
        conv_before = [c for c in convs if c < li][-1]
        k = convs.index(conv_before)
        kernels = (plotting.kernels_rgb(weights[: k + 1], **_pool_geometry(net, conv_before))
                   if k else plotting.kernels_rgb(weights[0]))
        save(plotting.plot_spikes_per_map_per_class(layer_spikes[pool_name], y_test,
                                                    classes=classes, class_names=labels,
                                                    kernels=kernels, layer_name=pool_name),
             f"spikes_per_map_per_class_{pool_name}.png")
    # one sample: input spikes, rasters, debug views
    idx = int(config.debug_sample)
    label = labels[list(classes).index(y_test[idx])]
    save(plotting.plot_input_spikes(
        spikes_test, index=idx,
        title=f"test sample {idx} (class {label}): input spikes per time step"),
        "input_spikes.png")
    save(plotting.plot_spike_raster(spikes_test, index=idx, layer_name="input"),
         "raster_input.png")
    for n in names:
        if n.startswith("Conv"):
            save(plotting.plot_spike_raster(layer_spikes[n], index=idx, layer_name=n),
                 f"raster_{n}.png")
    save(_debug_views(net, encoder.transform(run.read(ds_stdp[:1])[0]), convs[0], names, hist),
         "debug_views_train0.png")
    # readout
    pred = io.load_npz(run.path("predictions.npz"))
    pred_names = class_names(config.dataset, np.unique(pred["y_test"]))
    save(plotting.plot_confusion_matrix(pred["y_test"], pred["y_pred"], class_names=pred_names),
         "confusion_matrix.png")
    save(plotting.plot_per_class_accuracy(pred["y_test"], pred["y_pred"],
                                          class_names=pred_names),
         "per_class_accuracy.png")
    history = run.state.get("readout", {}).get("readout", {}).get("history")
    if history and history.get("loss"):
        save(plotting.plot_training_curves(history), "readout_training_curves.png")
    return {"figures": figures}


def _weight_evolution(run, config, h, name, lower, geometry) -> list[str]:
    """The weight-evolution GIF and the kernel-evolution figure of one conv layer."""
    from spykeflow import animation, plotting

    snapshots, seen = np.asarray(h["snapshots"]), np.asarray(h["snapshot_images"])
    anim = animation.weight_evolution_animation(snapshots, seen, lower_weights=lower,
                                                layer_name=name, **geometry)
    target = run.path(f"weight_evolution_{name}.gif")
    partial = target.with_name(target.stem + ".partial.gif")  # Pillow needs .gif
    anim.save(str(partial), writer=animation.writer_for(target, fps=config.gif_fps))
    os.replace(partial, target)
    if lower is None:
        fig = plotting.plot_kernel_evolution(snapshots, seen)
    else:
        fig = plotting.plot_kernel_evolution(snapshots, seen, lower_weights=lower,
                                             layer_name=name, **geometry)
    run.save_figure(fig, f"kernel_evolution_{name}.png")
    return [target.name, f"kernel_evolution_{name}.png"]


def _debug_views(net, train0, conv, names, hist):
    """Training image 0 as STDP saw it: threshold crossings, spikes, pool, winners."""
    from spykeflow import plotting

    after = net.spikes_at(train0, layer=conv)
    pool = net.spikes_at(train0, layer=conv + 1) if conv + 1 < len(names) else None
    winners = [np.asarray(r).reshape(-1, 5) for r in hist[names[conv]]["winners"]]
    win = np.concatenate(winners) if winners else np.zeros((0, 5), np.int32)
    return plotting.plot_debug_views(train0, crossings=net.threshold_crossings(train0, conv),
                                     after_inhibition=after, pool_before=pool,
                                     winners=win[win[:, 0] == 0][:, [2, 3, 1]], index=0,
                                     layer_name=names[conv])
