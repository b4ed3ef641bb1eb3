"""Layer-wise STDP training: feeds one convolutional layer its images in chunks through the
compiled loop (:mod:`spykeflow.stdp.engine`) and calls the monitors (:mod:`spykeflow.monitors`)
between chunks. Bookkeeping -- history, weight snapshots, checkpoints, early stopping -- is
done by the monitors, not here.
"""

from __future__ import annotations

import numpy as np

from . import engine

__all__ = ["train_layer"]


def train_layer(state, settings, input_events, thresholds, monitors, batch_size, progress):
    """Train ``state.layer`` until ``state.images_total`` images are done or a monitor stops it.

    Parameters
    ----------
    state : spykeflow.monitors.TrainingState
        Filled in place: ``weights``, ``images_done``, ``loop``, ``chunk``, ``stop``.
    settings : spykeflow.stdp.engine.Settings
    input_events : callable ``(start, stop) -> SpikeEvents``
        The layer's (padded) input spikes of the images at positions ``start..stop - 1`` of
        the epoch.
    thresholds : ndarray (images_total,) float32
        The threshold of every training image.
    monitors : list of spykeflow.monitors.Monitor
    batch_size : int
        Images per call of the compiled loop (monitors run between calls; the result does
        not depend on it).
    progress : bool
        Show a tqdm progress bar with the latest C_l.
    """
    from tqdm.auto import tqdm

    n, total = state.images_per_epoch, state.images_total
    shape = state.kernel.shape
    width = settings.in_w - settings.kw + 1
    history = state.layer_history
    for monitor in monitors:
        monitor.on_layer_begin(state)
    bar = tqdm(total=total, initial=state.images_done, desc=f"layer {state.layer_index} STDP",
               disable=not progress, unit="img", leave=False)
    try:
        while state.images_done < total and not state.stop:
            done = state.images_done
            epoch, pos = divmod(done, n)
            end = min((epoch + 1) * n, done + batch_size)
            for monitor in monitors:
                pause = monitor.next_stop(state)
                if pause is not None and pause > done:
                    end = min(end, pause)
            m = end - done
            loop = state.loop
            out = engine.train_chunk(settings, state.kernel, input_events(pos, pos + m),
                                     thresholds[done:end], np.arange(done, end),
                                     np.arange(pos, pos + m), loop["counts"], loop["a_state"],
                                     loop["global_step"])
            state.loop = {"counts": out["counts"], "a_state": float(out["a_state"]),
                          "global_step": loop["global_step"] + m * settings.time_steps}
            state.weights[state.layer_index] = out["weights"].reshape(shape)
            state.images_done = end
            state.chunk = {"start": done, "end_position": pos + m, "output_width": width,
                           "win_pos": out["win_pos"], "win_step": out["win_step"],
                           "spikes": out["spikes"]}
            bar.update(m)
            n_snapshots = len(history["convergence"])
            for monitor in monitors:
                if monitor.on_chunk(state):
                    state.stop = True
                    history["stopped_early"] = True
            if len(history["convergence"]) > n_snapshots:
                bar.set_postfix(C_l=f"{history['convergence'][-1]:.3g}")
    finally:
        bar.close()
