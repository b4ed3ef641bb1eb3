"""Bookkeeping of ``experiments/sequences_table.py`` (no training: ``run`` is replaced).

A folder holds one configuration: finished runs are skipped on resume, a finished run of the
same cell with other settings stops the script, and processes sharing ``--out`` keep each
other's runs.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture()
def table(monkeypatch):
    spec = importlib.util.spec_from_file_location("sequences_table",
                                                  REPO / "experiments" / "sequences_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    calls = []

    def fake_run(config):
        calls.append(config)
        return dict(model=config["model"], seq=config["seq"], seed=config["seed"],
                    n_train=config["n_train"],
                    n_test=config["n_test"], epochs=config["epochs"],
                    learning_rate=config["learning_rate"], backend_params=config["backend_params"],
                    acc_final=0.9, acc_best=0.91, params=10, macs=100, ops=50.0, train_s=1.0,
                    test_curve=[0.91], switch_epoch=None)

    monkeypatch.setattr(mod, "run", fake_run)
    mod.calls = calls
    return mod


def _runs(out):
    return [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]


ARGS = ["--models", "cnn", "--seqs", "2", "--n-train", "20", "--n-test", "10", "--epochs", "1"]


def test_finished_runs_are_skipped_on_resume(table, tmp_path):
    table.main(ARGS + ["--seeds", "0", "1", "--out", str(tmp_path)])
    assert [c["seed"] for c in table.calls] == [0, 1]
    table.main(ARGS + ["--seeds", "0", "1", "2", "--out", str(tmp_path)])
    assert [c["seed"] for c in table.calls] == [0, 1, 2]     # only the new seed trained
    assert sorted(r["seed"] for r in _runs(tmp_path)) == [0, 1, 2]
    assert "| cnn | 91.00 ± 0.00" in (tmp_path / "table.md").read_text()   # 3 seeds, mean ± std


def test_other_settings_in_the_folder_stop_the_script(table, tmp_path):
    table.main(ARGS + ["--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="other settings"):
        table.main(ARGS + ["--ann-width", "16", "--out", str(tmp_path)])
    assert len(table.calls) == 1 and len(_runs(tmp_path)) == 1


def test_a_run_finished_by_another_process_is_kept(table, tmp_path, monkeypatch):
    """A reads the folder and trains; meanwhile B records its run; A's write keeps it."""
    other = dict(model="c3d", seq=2, seed=0, n_train=20, n_test=10, epochs=1, learning_rate=1e-3,
                 backend_params={}, acc_final=0.5, acc_best=0.5, params=1, macs=1, ops=1.0,
                 train_s=1.0, test_curve=[0.5], switch_epoch=None)
    runs_path = tmp_path / "runs.jsonl"
    fake = table.run

    def run_while_b_finishes(config):
        table._append_run(runs_path, other)                  # B writes after A's start
        return fake(config)

    monkeypatch.setattr(table, "run", run_while_b_finishes)
    table.main(ARGS + ["--out", str(tmp_path)])
    assert sorted(r["model"] for r in _runs(tmp_path)) == ["c3d", "cnn"]


def test_accuracy_vs_ops_figure_places_each_model_at_its_mean(table, tmp_path):
    """The Figure-6 panel of a sequence: x = mean operations (M), y = mean best accuracy (%),
    the error bar = the std over seeds; one panel per sequence."""
    runs = [dict(model="cnn", seq=2, acc_best=a, ops=o) for a, o in ((0.90, 4e6), (0.92, 6e6))]
    runs += [dict(model="convsnn", seq=2, acc_best=0.95, ops=1e7),
             dict(model="convsnn", seq=4, acc_best=0.97, ops=1.2e7)]
    fig = table.plot_accuracy_vs_ops(runs)
    assert [ax.get_title() for ax in fig.axes] == ["seq2", "seq4"]
    ax = fig.axes[0]
    bars = {c.get_label(): c for c in ax.containers}              # one ErrorbarContainer each
    assert set(bars) == {"CNN", "ConvSNN"}
    assert bars["CNN"].lines[0].get_xydata()[0] == pytest.approx([5.0, 91.0])
    assert bars["ConvSNN"].lines[0].get_xydata()[0] == pytest.approx([10.0, 95.0])
    (segment,) = bars["CNN"].lines[2][0].get_segments()
    assert segment[:, 1] == pytest.approx([91.0 - 2 ** 0.5, 91.0 + 2 ** 0.5])
    assert not bars["ConvSNN"].has_yerr                          # one seed: no error bar


def test_tables_and_figure_are_written(table, tmp_path):
    table.main(ARGS + ["--out", str(tmp_path)])
    png = (tmp_path / "accuracy_vs_ops.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert {p.name for p in tmp_path.iterdir()} >= {"runs.jsonl", "runs.csv", "table.md",
                                                     "table.csv", "accuracy_vs_ops.png"}
