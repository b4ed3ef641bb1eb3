"""Weight-evolution animation: one frame per snapshot; HTML and writer helpers."""

import matplotlib.animation as mpl_animation
import numpy as np
import pytest
from PIL import Image

from spykeflow import animation


@pytest.fixture
def snapshots():
    rng = np.random.default_rng(0)
    return rng.uniform(size=(4, 5, 5, 2, 6)), np.array([0, 200, 400, 600])


def test_one_frame_per_snapshot(snapshots):
    snaps, seen = snapshots
    anim = animation.weight_evolution_animation(snaps, seen, ncols=3)
    assert len(list(anim.new_frame_seq())) == 4
    assert anim.frame_data.shape == (4, 2 * 6 - 1, 3 * 6 - 1, 3)
    np.testing.assert_allclose(anim.frame_data[2, :5, :5, 1], snaps[2, :, :, 0, 0])  # G = ON
    ax = anim._fig.axes[0]
    anim._func(3)
    assert "after 600 images" in ax.get_title()
    np.testing.assert_allclose(ax.images[0].get_array(), anim.frame_data[3])
    anim._draw_was_started = True   # silence "deleted without rendering"


def test_conv2_frames_are_reconstructed(snapshots):
    snaps, seen = snapshots
    rng = np.random.default_rng(1)
    conv2 = rng.uniform(size=(3, 5, 5, 6, 4))
    frames, maps, grid = animation.weight_evolution_frames(conv2, [0, 1, 2],
                                                           lower_weights=[snaps[-1]], ncols=2)
    assert frames.shape == (3, 2 * 15 - 1, 2 * 15 - 1, 3) and grid == (2, 2)
    assert frames.min() >= 0 and frames.max() <= 1


def test_animation_checks_its_arguments(snapshots):
    snaps, seen = snapshots
    with pytest.raises(ValueError, match="one images_seen value per snapshot"):
        animation.weight_evolution_frames(snaps, seen[:3])
    with pytest.raises(ValueError, match=r"indices in \[0, 5\] for maps"):
        animation.weight_evolution_frames(snaps, seen, maps=[6])
    with pytest.raises(ValueError, match="interval >= 1"):
        animation.weight_evolution_animation(snaps, seen, interval=0)
    with pytest.raises(TypeError, match="fps to be an integer"):
        animation.writer_for("a.gif", fps=2.5)


def test_gif_has_one_frame_per_snapshot_and_html(snapshots, tmp_path):
    snaps, seen = snapshots
    anim = animation.weight_evolution_animation(snaps[:, :, :, :, :2], seen, figsize=(2, 2))
    path = tmp_path / "evolution.gif"
    anim.save(path, writer=animation.writer_for(path, fps=2), dpi=30)
    with Image.open(path) as im:
        assert im.n_frames == 4
    html = animation.animation_to_html(anim)
    assert "<script" in html and "Animation" in html


def test_writer_for_suffixes():
    assert isinstance(animation.writer_for("a.gif"), mpl_animation.PillowWriter)
    assert isinstance(animation.writer_for("a.html"), mpl_animation.HTMLWriter)
    if not mpl_animation.writers.is_available("ffmpeg"):
        with pytest.raises(ValueError, match="ffmpeg"):
            animation.writer_for("a.mp4")
    with pytest.raises(ValueError, match=".gif, .mp4 or .html"):
        animation.writer_for("a.avi")
    with pytest.raises(TypeError, match="Animation"):
        animation.animation_to_html(object())
