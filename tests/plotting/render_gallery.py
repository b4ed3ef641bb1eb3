"""Render every plot of spykeflow.plotting / spykeflow.animation to PNG (and one GIF) with
realistic synthetic data, for a human to look at. Not a test (pytest does not collect it).

    python tests/plotting/render_gallery.py [OUT_DIR]      # default ./plot_gallery

Uses real MNIST digits when $SPYKEFLOW_DATA/mnist exists (else sklearn's digits upsampled),
a small numpy DoG + rank-order encoder and a numpy Conv1 pass written here for the pictures
only; STDP statistics and weights are synthetic but shaped like the published ones.
"""

from __future__ import annotations

import pathlib
import sys
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib import animation as mpl_animation  # noqa: E402
from scipy import ndimage  # noqa: E402

from spykeflow import animation, plotting  # noqa: E402

RNG = np.random.default_rng(7)
T = 12


def load_digits(n=200):
    """The first ``n`` MNIST test images from the data root, else upscaled sklearn digits."""
    from spykeflow import datasets

    try:
        imgs, labs = datasets.load("mnist", "test")
        return imgs[:n].astype(float), labs[:n].astype(int)
    except datasets.DatasetNotFoundError:
        pass
    from sklearn.datasets import load_digits as skd

    d = skd()
    imgs = np.stack([ndimage.zoom(im, 3.5, order=1) for im in d.images[:n]]) * 16
    return imgs, d.target[:n]


def dog_kernel():
    r, c = np.mgrid[0:7, 0:7]
    d2 = (r - 3) ** 2 + (c - 3) ** 2
    g = (np.exp(-d2 / 2) / 1 - np.exp(-d2 / 8) / 2) / np.sqrt(2 * np.pi)
    g -= g.mean()
    return g / g.max()


def encode(img, kernel, theta=50.0):
    on = ndimage.correlate(img, kernel, mode="mirror")
    d = np.stack([on, -on], -1)
    d[:2], d[-2:], d[:, :2], d[:, -2:] = 0, 0, 0, 0
    d[d < theta] = 0
    spikes = np.zeros((T,) + d.shape, bool)
    for ch in range(2):
        flat = d[..., ch].ravel()
        nz = np.flatnonzero(flat > 0)
        order = nz[np.argsort(-flat[nz], kind="stable")]
        n = len(order)
        for rank, idx in enumerate(order, start=1):
            b = (10 * rank - 1) // n
            spikes[b, idx // d.shape[1], idx % d.shape[1], ch] = True
    return d, spikes


def edge_kernels(n_maps, k=5):
    """Saturated oriented ON/OFF bar and edge detectors like trained Conv1 maps: a band of ON
    synapses beside a band of OFF synapses, the rest depressed to ~0."""
    w = np.zeros((k, k, 2, n_maps))
    r, c = np.mgrid[0:k, 0:k] - (k - 1) / 2
    for m in range(n_maps):
        ang = np.pi * (m * 0.382 % 1.0)
        proj = r * np.cos(ang) + c * np.sin(ang)
        shift = RNG.uniform(-0.8, 0.8)
        on = np.abs(proj - shift) < 0.75
        side = 1.5 if m % 2 else -1.5
        off = np.abs(proj - shift - side) < 0.75
        if m % 5 == 4:  # a bar with OFF on both sides
            off |= np.abs(proj - shift + side) < 0.75
        if m % 3 == 2:
            on, off = off & ~on, on
        w[..., 0, m], w[..., 1, m] = 0.97 * on, 0.97 * off
    return np.clip(w + np.abs(RNG.normal(0, 0.02, w.shape)), 0.001, 0.999)


def snapshots_towards(final, n_snap, images_per_snap=200):
    init = np.full(final.shape, 0.8) + RNG.normal(0, 0.01, final.shape)
    snaps = []
    for s in range(n_snap):
        a = 1 / (1 + np.exp(-(s - n_snap * 0.35) / (n_snap * 0.08)))
        mid = 0.5 + RNG.normal(0, 0.15, final.shape) * (1 - abs(2 * a - 1))
        if a < 0.5:
            w = (1 - a) * ((1 - a) * init + a * mid) + a * final
        else:
            w = a * final + (1 - a) * mid
        snaps.append(np.clip(w, 0.0005, 0.9995))
    return np.stack(snaps), np.arange(n_snap) * images_per_snap


def conv1_pass(spikes, w, theta=15.0, inh=11):
    """Numpy Conv1 of one sample for the debug pictures: crossings, LI, competition, pool."""
    t_steps, h, wd, _ = spikes.shape
    k = w.shape[0]
    ho, wo, m = h - k + 1, wd - k + 1, w.shape[3]
    inc = np.zeros((t_steps, ho, wo, m))
    for i in range(k):
        for j in range(k):
            inc += np.einsum("thwc,cm->thwm", spikes[:, i:i + ho, j:j + wo].astype(float), w[i, j])
    v = np.cumsum(inc, axis=0)
    above = v >= theta
    fired = np.zeros((ho, wo), bool)
    li = np.zeros_like(above)
    for t in range(t_steps):
        cand = above[t].any(-1) & ~fired
        best = np.argmax(np.where(above[t], v[t], -1), axis=-1)
        rr, cc = np.nonzero(cand)
        li[t, rr, cc, best[rr, cc]] = True
        fired |= cand
    # greedy competition over the whole image
    first = np.where(li.any(0), np.argmax(li, 0), 99)
    pot = np.where(li.any(0), v[-1], 0)
    comp = np.zeros_like(li)
    winners, used = [], set()
    blocked = np.zeros((ho, wo), bool)
    h2 = inh // 2
    while True:
        p = np.where(blocked[..., None], 0, pot)
        for mm in used:
            p[..., mm] = 0
        if p.max() <= 0:
            break
        r, c, mm = np.unravel_index(np.argmax(p), p.shape)
        winners.append((r, c, mm))
        used.add(mm)
        comp[first[r, c, mm], r, c, mm] = True
        blocked[max(0, r - h2):r + h2 + 1, max(0, c - h2):c + h2 + 1] = True
    hp, wp = ho // 2, wo // 2
    pool = li[:, : hp * 2, : wp * 2].reshape(t_steps, hp, 2, wp, 2, m).max((2, 4))
    pv = v[:, : hp * 2, : wp * 2].reshape(t_steps, hp, 2, wp, 2, m).max((2, 4))
    pool_firstpos = np.zeros_like(pool)
    done = np.zeros(pool.shape[1:3], bool)
    for t in range(t_steps):
        cand = pool[t].any(-1) & ~done
        best = np.argmax(np.where(pool[t], pv[t], -1), -1)
        rr, cc = np.nonzero(cand)
        pool_firstpos[t, rr, cc, best[rr, cc]] = True
        done |= cand
    return above, li, comp, np.array(winners, int).reshape(-1, 3), pool, pool_firstpos


def save(fig, out, name, looked):
    path = out / f"{name}.png"
    fig.savefig(path, dpi=110)
    looked.append(path.name)


def main(out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    t0 = time.perf_counter()
    imgs, labs = load_digits(200)
    kern = dog_kernel()
    dog, spikes = encode(imgs[0], kern)
    batch = np.stack([encode(im, kern)[1] for im in imgs[:60]])
    save(plotting.plot_dog_kernels(kern), out, "01_dog_kernels", names)
    save(plotting.plot_encoder_view(imgs[0], dog, spikes), out, "02_encoder_view", names)
    save(plotting.plot_input_spikes(spikes), out, "03_input_spikes_per_step", names)
    save(plotting.plot_spike_raster(spikes), out, "04_spike_raster_input", names)

    w1 = edge_kernels(30)
    above, li, comp, winners, pool, pool_li = conv1_pass(spikes, w1, theta=10.0)
    save(plotting.plot_spike_raster(li, layer_name="Conv1 after lateral inhibition"), out,
         "05_spike_raster_conv1", names)
    save(plotting.plot_debug_views(spikes, crossings=above, after_inhibition=li,
                                   after_competition=comp, winners=winners, pool_before=pool,
                                   pool_after=pool_li), out, "06_debug_views", names)

    save(plotting.plot_feature_grid(w1), out, "07_feature_grid_conv1", names)
    save(plotting.plot_feature_grid(w1, kernel_rgb="on_red", ncols=10), out,
         "07b_feature_grid_conv1_on_red", names)
    snaps1, seen1 = snapshots_towards(w1, 31)
    save(plotting.plot_kernel_evolution(snaps1, seen1), out, "08_kernel_evolution_conv1", names)

    w2 = np.clip(RNG.beta(0.3, 3.0, (5, 5, 30, 50)), 0.001, 0.999)
    for mm in range(50):  # each Conv2 map wires a few Conv1 maps strongly at some places
        for _ in range(6):
            w2[RNG.integers(5), RNG.integers(5), RNG.integers(30), mm] = RNG.uniform(0.8, 1.0)
    save(plotting.plot_reconstructed_features([w1, w2], ncols=10), out,
         "09_reconstructed_conv2", names)
    snaps2, seen2 = snapshots_towards(w2, 20, 1750)
    save(plotting.plot_kernel_evolution(snaps2, seen2, lower_weights=[w1], maps=range(20),
                                        layer_name="Conv2"), out,
         "10_kernel_evolution_conv2", names)

    updates = RNG.multinomial(29000, RNG.dirichlet(np.full(30, 8.0)))
    save(plotting.plot_stdp_updates_per_map(updates), out, "11_stdp_updates_per_map", names)
    winners_img = np.clip(RNG.poisson(4.84, 6000), 0, None)
    save(plotting.plot_winners_per_image(winners_img), out, "12_winners_per_image", names)
    save(plotting.plot_spikes_per_image({"Conv1": RNG.poisson(180, 6000),
                                         "Pool1": RNG.poisson(124, 6000)}), out,
         "13_spikes_per_image", names)

    n = 3000
    labels = RNG.integers(0, 10, n)
    labels[labels == 3] = RNG.integers(0, 10, (labels == 3).sum())  # uneven class sizes
    pref = RNG.dirichlet(np.full(10, 0.7), 30).T  # (10 classes, 30 maps)
    map_counts = RNG.poisson(30 * pref[labels])
    save(plotting.plot_spikes_per_map_per_class(map_counts, labels, maps=[4, 25],
                                                kernels=plotting.kernels_rgb(w1)), out,
         "14_spikes_per_map_per_class", names)
    emn_labels = RNG.integers(0, 47, 4000)
    emn_counts = RNG.poisson(20 * RNG.dirichlet(np.full(47, 0.5), 50).T[emn_labels])
    save(plotting.plot_spikes_per_map_per_class(
        emn_counts, emn_labels, maps=[3], class_names="emnist",
        kernels=plotting.kernels_rgb([w1, w2])), out, "14b_spikes_per_map_per_class_emnist", names)
    save(plotting.plot_convergence({"Conv1": snaps1, "Conv2": snaps2},
                                   {"Conv1": seen1, "Conv2": seen2}), out, "15_convergence", names)

    y_true = np.repeat(np.arange(47), 40)
    y_pred = y_true.copy()
    flip = RNG.random(len(y_true)) < 0.15
    y_pred[flip] = RNG.integers(0, 47, flip.sum())
    for a, b in [(0, 24), (18, 21), (1, 18), (15, 40)]:  # 0->O, I->L, 1->I, F->f
        sel = np.flatnonzero(y_true == a)[:14]
        y_pred[sel] = b
    save(plotting.plot_confusion_matrix(y_true, y_pred, class_names="emnist"), out,
         "16_confusion_emnist", names)
    yt10 = labs[:200]
    yp10 = yt10.copy()
    bad = RNG.random(200) < 0.12
    yp10[bad] = RNG.integers(0, 10, bad.sum())
    save(plotting.plot_confusion_matrix(yt10, yp10), out, "16b_confusion_digits", names)
    save(plotting.plot_per_class_accuracy(y_true, y_pred, class_names="emnist"), out,
         "17_per_class_accuracy", names)
    ep = np.arange(1, 26)
    hist = {"accuracy": list(0.86 - 0.3 * np.exp(-ep / 3)),
            "val_accuracy": list(0.85 - 0.3 * np.exp(-ep / 3) + RNG.normal(0, 0.004, 25)),
            "loss": list(0.45 + 1.2 * np.exp(-ep / 3)),
            "val_loss": list(0.5 + 1.2 * np.exp(-ep / 3)),
            "lr": list(1e-2 / 1.007 ** (ep // 8 * 8))}
    save(plotting.plot_training_curves(hist), out, "18_training_curves", names)
    yb = labs[:60]
    pb = yb.copy()
    pb[::4] = (pb[::4] + 1) % 10
    save(plotting.plot_misclassified(batch, yb, pb, image_ids=np.arange(60)), out,
         "19_misclassified_from_spikes", names)
    save(plotting.plot_misclassified(imgs[:60], yb, pb), out, "19b_misclassified_images", names)

    anim = animation.weight_evolution_animation(snaps1, seen1)
    anim.save(out / "20_weight_evolution_conv1.gif", writer=animation.writer_for("x.gif", fps=4))
    anim2 = animation.weight_evolution_animation(snaps2, seen2, lower_weights=[w1],
                                                 layer_name="Conv2")
    anim2.save(out / "21_weight_evolution_conv2.gif", writer=mpl_animation.PillowWriter(fps=4))
    names += ["20_weight_evolution_conv1.gif", "21_weight_evolution_conv2.gif"]
    print(f"rendered {len(names)} files to {out} in {time.perf_counter() - t0:.1f} s")
    return names


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "plot_gallery")
