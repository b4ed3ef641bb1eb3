"""Feature grids, kernel evolution and the reconstruction of deeper kernels."""

import numpy as np
import pytest

from spykeflow import plotting


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


# ---------------------------------------------------------------- receptive field / reconstruction
def test_receptive_field_of_published_geometry_is_10_and_14():
    assert plotting.receptive_field_sizes([5, 5]) == [5, 10, 14]      # the original: 12 / 17


def test_receptive_field_general_geometry():
    # 3 conv layers, pool 2/2 then pool 3/stride 2: conv3 5 -> pool2 (5-1)*2+3=11 -> 11+3-1=13
    # -> pool1 (13-1)*2+2=26 -> 26+5-1=30
    assert plotting.receptive_field_sizes([5, 3, 5], pool_size=[2, 3], pool_stride=[2, 2]) == [
        5, 11, 13, 26, 30]
    assert plotting.receptive_field_sizes([5]) == [5]


def test_receptive_field_sizes_are_checked():
    with pytest.raises(TypeError, match=r"kernel_sizes\[1\] to be an integer"):
        plotting.receptive_field_sizes([5, 5.5])
    with pytest.raises(ValueError, match=r"kernel_sizes\[0\] >= 1"):
        plotting.receptive_field_sizes([0, 5])
    with pytest.raises(ValueError, match="at least one kernel size"):
        plotting.receptive_field_sizes([])
    with pytest.raises(ValueError, match=r"pool_stride to be an int >= 1 or 1 such ints"):
        plotting.receptive_field_sizes([5, 5], pool_stride=0)


def test_reconstruction_shape_matches_receptive_field():
    rng = np.random.default_rng(0)
    w1 = rng.uniform(size=(5, 5, 2, 30))
    w2 = rng.uniform(size=(5, 5, 30, 7))
    rec = plotting.reconstruct_features([w1, w2])
    assert rec.shape == (7, 14, 14, 2)
    w3 = rng.uniform(size=(5, 5, 7, 3))
    rec3 = plotting.reconstruct_features([w1, w2, w3])   # 3 conv layers work (the original broke)
    size = plotting.receptive_field_sizes([5, 5, 5])[-1]
    assert rec3.shape == (3, size, size, 2)


def _delta_conv1(n_maps, k=3):
    """Conv1 map c has ON weight 1 at kernel position (0, 0) only, scaled by (c + 1)."""
    w1 = np.zeros((k, k, 2, n_maps))
    for c in range(n_maps):
        w1[0, 0, 0, c] = c + 1.0
    return w1


def test_unpooling_covers_the_whole_pool_window():
    w1 = _delta_conv1(1)
    w2 = np.zeros((2, 2, 1, 1))
    w2[1, 0, 0, 0] = 0.8               # pool-space (1, 0) -> Conv1 rows 2..3, cols 0..1
    rec = plotting.reconstruct_features([w1, w2])
    assert rec.shape == (1, 4 + 2, 4 + 2, 2)
    expected = np.zeros((6, 6))
    expected[2:4, 0:2] = 0.8 * 1.0     # all four positions of the pool window, not one
    np.testing.assert_allclose(rec[0, ..., 0], expected)
    assert not rec[0, ..., 1].any()


def test_only_the_dominant_lower_map_is_projected_and_weak_synapses_ignored():
    w1 = _delta_conv1(3)               # map c contributes (c + 1)
    w2 = np.zeros((1, 1, 3, 2))
    w2[0, 0, :, 0] = [0.5, 0.9, 0.7]   # dominant map 1 -> 0.9 * 2
    w2[0, 0, :, 1] = [0.3, 0.1, 0.2]   # nothing above 0.3 -> empty
    rec = plotting.reconstruct_features([w1, w2])
    np.testing.assert_allclose(rec[0, :2, :2, 0], 1.8)
    assert rec[0].sum() == pytest.approx(4 * 1.8)
    assert rec[1].sum() == 0


def test_stride_is_respected_between_synapses():
    w1 = _delta_conv1(1, k=1)
    w2 = np.zeros((3, 3, 1, 1))
    w2[0, 0, 0, 0] = w2[2, 2, 0, 0] = 1.0
    rec = plotting.reconstruct_features([w1, w2], pool_size=2, pool_stride=2)
    assert rec.shape == (1, 6, 6, 2)
    rows, cols = [0, 0, 1, 1, 4, 4, 5, 5], [0, 1, 0, 1, 4, 5, 4, 5]
    np.testing.assert_allclose(rec[0, ..., 0][rows, cols], 1)
    assert rec[0, ..., 0].sum() == 8


def test_reconstruction_rejects_unchained_layers():
    with pytest.raises(ValueError, match=r"C_in = 30"):
        plotting.reconstruct_features([np.zeros((5, 5, 2, 30)), np.zeros((5, 5, 20, 4))])
    with pytest.raises(ValueError, match="pool_size"):
        plotting.reconstruct_features([np.zeros((5, 5, 2, 3)), np.zeros((5, 5, 3, 4))],
                                      pool_size=[2, 2])
    with pytest.raises(TypeError, match="threshold to be a finite number"):
        plotting.reconstruct_features([np.zeros((5, 5, 2, 3)), np.zeros((5, 5, 3, 4))],
                                      threshold=float("nan"))


# ---------------------------------------------------------------- colours
def test_colour_mapping_off_red_and_on_red(conv1_weights):
    rgb = plotting.kernels_rgb(conv1_weights)            # raw weights, no normalisation
    assert rgb.shape == (6, 5, 5, 3)
    on = np.broadcast_to(np.arange(6)[:, None, None] / 10, (6, 5, 5))
    np.testing.assert_allclose(rgb[..., 1], on)
    np.testing.assert_allclose(rgb[..., 0], 1 - rgb[..., 1])   # R = OFF
    assert not rgb[..., 2].any()                               # B = 0
    swapped = plotting.kernels_rgb(conv1_weights, kernel_rgb="on_red")
    np.testing.assert_allclose(swapped[..., 0], rgb[..., 1])


def test_reconstructed_colours_are_normalised_per_map():
    rng = np.random.default_rng(1)
    w1 = rng.uniform(size=(5, 5, 2, 8))
    w2 = rng.uniform(size=(5, 5, 8, 4))
    rgb = plotting.kernels_rgb([w1, w2])
    assert rgb.min() >= 0 and rgb.max() <= 1
    np.testing.assert_allclose(rgb.reshape(4, -1).max(axis=1), 1.0)   # each map reaches 1
    raw = plotting.reconstruct_features([w1, w2])
    assert raw.max() > 1                                               # needed normalising


def test_features_rgb_global_normalisation():
    f = np.zeros((2, 1, 1, 2))
    f[0, 0, 0, 0], f[1, 0, 0, 0] = 4.0, 2.0
    np.testing.assert_allclose(plotting.features_rgb(f, normalize="global")[:, 0, 0, 1],
                               [1.0, 0.5])
    with pytest.raises(ValueError, match="normalize"):
        plotting.features_rgb(f, normalize="max")
    with pytest.raises(ValueError, match=r"normalize to be one of \['auto'"):
        plotting.kernels_rgb(np.zeros((5, 5, 2, 3)), normalize="max")


# ---------------------------------------------------------------- figures
def test_feature_grid_has_one_panel_per_map(conv1_weights):
    fig = plotting.plot_feature_grid(conv1_weights)
    axes = image_axes(fig)
    assert len(axes) == 6
    assert [ax.get_title() for ax in axes] == [str(m) for m in range(6)]
    np.testing.assert_allclose(axes[3].images[0].get_array()[..., 1], 0.3)
    assert {t.get_text() for t in fig.legends[0].get_texts()} == {"ON", "OFF", "ON + OFF"}


def test_feature_grid_subset_of_maps(conv1_weights):
    fig = plotting.plot_feature_grid(conv1_weights, maps=[4, 1], ncols=1)
    assert [ax.get_title() for ax in image_axes(fig)] == ["4", "1"]
    with pytest.raises(ValueError, match=r"indices in \[0, 5\] for maps"):
        plotting.plot_feature_grid(conv1_weights, maps=[6])
    with pytest.raises(ValueError, match="ncols >= 1"):
        plotting.plot_feature_grid(conv1_weights, ncols=0)


def test_reconstructed_feature_grid_shows_14x14():
    rng = np.random.default_rng(2)
    w1 = rng.uniform(size=(5, 5, 2, 6))
    w2 = rng.uniform(size=(5, 5, 6, 5))
    fig = plotting.plot_reconstructed_features([w1, w2])
    axes = image_axes(fig)
    assert len(axes) == 5
    assert axes[0].images[0].get_array().shape == (14, 14, 3)
    assert "14x14" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="at least two"):
        plotting.plot_reconstructed_features(w1)


def test_multichannel_kernels_without_lower_layers_are_refused():
    with pytest.raises(ValueError, match="lower layers"):
        plotting.plot_feature_grid(np.zeros((5, 5, 30, 4)))


def test_kernel_evolution_rows_are_snapshots(conv1_weights):
    snaps = np.stack([conv1_weights * a for a in (0.2, 0.5, 1.0)])
    fig = plotting.plot_kernel_evolution(snaps, [0, 200, 400])
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "200", "400"]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(m) for m in range(6)]
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (3 * 6 - 1, 6 * 6 - 1, 3)      # 5x5 cells, 1-pixel gaps
    np.testing.assert_allclose(mosaic[6:11, 6:11, 1], 0.5 * 0.1)   # row 1, map 1: ON weight
    assert ax.get_ylabel() == "images seen" and ax.get_xlabel() == "map index"


def test_kernel_evolution_of_a_deeper_layer():
    rng = np.random.default_rng(3)
    w1 = rng.uniform(size=(5, 5, 2, 4))
    snaps = rng.uniform(size=(2, 5, 5, 4, 3))
    fig = plotting.plot_kernel_evolution(snaps, [0, 100], lower_weights=[w1], layer_name="Conv2")
    assert fig.axes[0].images[0].get_array().shape == (2 * 15 - 1, 3 * 15 - 1, 3)
    with pytest.raises(ValueError, match="images_seen"):
        plotting.plot_kernel_evolution(snaps, [0, 100, 200], lower_weights=[w1])
    with pytest.raises(ValueError, match=r"indices in \[0, 1\] for snapshot_index"):
        plotting.plot_kernel_evolution(snaps, [0, 100], lower_weights=[w1], snapshot_index=[2])


def test_feature_grid_mosaic_layout_for_many_maps():
    rng = np.random.default_rng(4)
    w = rng.uniform(size=(5, 5, 2, 70))
    fig = plotting.plot_feature_grid(w, ncols=10)        # auto -> mosaic beyond 64 maps
    (ax,) = fig.axes
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (7 * 6 - 1, 10 * 6 - 1, 3)
    np.testing.assert_allclose(mosaic[6:11, 12:17, 1], w[:, :, 0, 12])   # map 12 = row 1, +2
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(10 * r) for r in range(7)]
    panels = plotting.plot_feature_grid(w[..., :3], layout="mosaic")
    assert len(panels.axes) == 1
