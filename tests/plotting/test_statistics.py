"""STDP updates, winners/spikes per image, spikes per map per class, convergence."""

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from spykeflow import plotting


def test_updates_bar_heights_equal_counts_including_zero():
    counts = np.array([0, 3, 7, 0, 2])
    fig = plotting.plot_stdp_updates_per_map(counts)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == counts.tolist()        # counters start at 0 (the original's started at 1)
    assert [p.get_x() + p.get_width() / 2 for p in ax.patches] == list(range(5))
    assert ax.get_xlabel() == "map index"
    assert "total 12" in ax.get_title()
    with pytest.raises(ValueError, match="non-negative"):
        plotting.plot_stdp_updates_per_map([1, -1])


def test_zoom_window_is_clamped():
    assert plotting.zoom_window(6000, (1000, 1020)) == (1000, 1020)
    assert plotting.zoom_window(50, (1000, 1020)) == (29, 49)
    assert plotting.zoom_window(3, (1000, 1020)) == (0, 2)
    with pytest.raises(ValueError, match=r"zoom to be an int >= 0 or 2 such ints"):
        plotting.zoom_window(50, (10.5, 20))
    with pytest.raises(ValueError, match="first <= last"):
        plotting.zoom_window(50, (20, 10))


def test_winners_per_image_mean_box_and_inset():
    winners = np.array([4, 5] * 600)               # mean 4.5
    fig = plotting.plot_winners_per_image(winners)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "Mean = 4.50 winners/image" in texts
    (inset,) = ax.child_axes
    assert inset.get_xlim() == (999.5, 1020.5)
    assert inset.get_title() == "images 1000-1020"
    assert len(ax.collections[0].get_offsets()) == 1200
    small = plotting.plot_winners_per_image(np.arange(30))
    assert small.axes[0].child_axes[0].get_title() == "images 9-29"   # clamped to the data
    none = plotting.plot_winners_per_image(np.arange(30), zoom=None)
    assert not none.axes[0].child_axes


def test_spikes_per_image_one_series_per_layer():
    fig = plotting.plot_spikes_per_image({"Conv1": np.full(10, 3.0), "Pool1": np.full(10, 1.0)})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["Conv1: mean = 3.00 spikes/image", "Pool1: mean = 1.00 spikes/image"]
    with pytest.raises(ValueError, match="at least one layer"):
        plotting.plot_spikes_per_image({})


def test_class_map_counts_keep_order_and_normalise():
    counts = np.zeros((5, 2, 2, 3))                # (N, H, W, M), summed over H, W
    counts[0, 0, 0, 1] = 4
    counts[1, 1, 1, 1] = 2
    counts[2, 0, 1, 0] = 9
    labels = np.array([7, 7, 2, 7, 5])
    raw, per, cls, n = plotting.class_map_counts(counts, labels, classes=[7, 2, 5])
    assert cls.tolist() == [7, 2, 5] and n.tolist() == [3, 1, 1]
    assert raw[:, 1].tolist() == [6, 0, 0] and per[0, 1] == 2.0
    with pytest.raises(ValueError, match="not in classes"):
        plotting.class_map_counts(counts, labels, classes=[7, 2])


def test_spikes_per_map_per_class_plot_preserves_class_order_and_highlights_top():
    rng = np.random.default_rng(0)
    labels = np.repeat([10, 2, 1, 30, 4, 5, 6], [40, 10, 10, 10, 10, 10, 10])
    counts = rng.poisson(2.0, (len(labels), 3))
    order = [10, 2, 1, 30, 4, 5, 6]                 # not sorted: must stay as given
    kernels = np.zeros((3, 5, 5, 3))
    fig = plotting.plot_spikes_per_map_per_class(counts, labels, maps=[2], classes=order,
                                                 kernels=kernels)
    raw_ax, norm_ax = fig.axes[:2]
    assert [t.get_text() for t in raw_ax.get_xticklabels()] == [str(c) for c in order]
    raw_h = [p.get_height() for p in raw_ax.patches]
    norm_h = [p.get_height() for p in norm_ax.patches]
    expect = [counts[labels == c, 2].sum() for c in order]
    np.testing.assert_allclose(raw_h, expect)
    np.testing.assert_allclose(norm_h, np.array(expect) / [40, 10, 10, 10, 10, 10, 10])
    black = [p for p in norm_ax.patches if p.get_facecolor() == to_rgba("black")]
    assert len(black) == 5
    assert min(p.get_height() for p in black) >= max(
        p.get_height() for p in norm_ax.patches if p not in black)
    assert len(raw_ax.child_axes) == 1              # kernel inset
    only_raw = plotting.plot_spikes_per_map_per_class(counts, labels, maps=[0, 1],
                                                      normalize="raw")
    assert len(only_raw.axes) == 2
    with pytest.raises(ValueError, match=r"indices in \[0, 2\] for maps"):
        plotting.plot_spikes_per_map_per_class(counts, labels, maps=[3])
    with pytest.raises(ValueError, match=r"normalize to be one of \['both', 'raw', 'per_image'\]"):
        plotting.plot_spikes_per_map_per_class(counts, labels, normalize="all")
    with pytest.raises(ValueError, match="top >= 0"):
        plotting.plot_spikes_per_map_per_class(counts, labels, top=-1)


def test_spikes_per_map_per_class_emnist_names():
    labels = np.array([0, 10, 36])
    fig = plotting.plot_spikes_per_map_per_class(np.ones((3, 1)), labels, class_names="emnist")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "A", "a"]
    with pytest.raises(ValueError, match=r"class_names to be one of \['emnist'\]"):
        plotting.plot_spikes_per_map_per_class(np.ones((3, 1)), labels, class_names="mnist")
    with pytest.raises(ValueError, match="3 class_names"):
        plotting.plot_spikes_per_map_per_class(np.ones((3, 1)), labels, class_names=["a"])


def test_convergence_figure_one_series_per_layer_on_two_panels():
    a = np.stack([np.full((5, 5, 2, 3), v) for v in (0.8, 0.5, 0.1)])
    b = np.stack([np.full((5, 5, 3, 4), v) for v in (0.8, 0.6)])
    fig = plotting.plot_convergence({"Conv1": a, "Conv2": b},
                                    {"Conv1": [0, 200, 400], "Conv2": [0, 500]})
    ax_c, ax_t = fig.axes
    lines_c = {ln.get_label(): ln for ln in ax_c.get_lines()}
    np.testing.assert_allclose(lines_c["Conv1"].get_xdata(), [0, 200, 400])
    np.testing.assert_allclose(lines_c["Conv1"].get_ydata(), [0.16, 0.25, 0.09])
    lines_t = {ln.get_label(): ln for ln in ax_t.get_lines()}
    np.testing.assert_allclose(lines_t["Conv1"].get_xdata(), [200, 400])
    np.testing.assert_allclose(lines_t["Conv1"].get_ydata(), [0.09, 0.16])
    np.testing.assert_allclose(lines_t["Conv2"].get_ydata(), [0.04])
    assert ax_c.get_xlabel() == ax_t.get_xlabel() == "images seen"
    assert ax_t.get_yscale() == "log"


def test_convergence_figure_checks_its_inputs():
    a = np.stack([np.full((5, 5, 2, 3), v) for v in (0.8, 0.5, 0.1)])
    with pytest.raises(ValueError, match=r"one images_seen\['Conv2'\] value per snapshot"):
        plotting.plot_convergence({"Conv2": a}, {"Conv2": [0, 200]})
    with pytest.raises(ValueError, match="at least one layer"):
        plotting.plot_convergence({}, [0])
    with pytest.raises(TypeError, match="td_log to be a bool"):
        plotting.plot_convergence(a, [0, 200, 400], td_log="yes")
    linear = plotting.plot_convergence(list(a), [0, 200, 400], td_log=False)
    assert linear.axes[1].get_yscale() == "linear"
