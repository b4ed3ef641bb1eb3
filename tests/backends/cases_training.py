"""Conformance cases: the training loop itself (spykeflow.training / spykeflow._steps)."""

import keras
import numpy as np
from harness import case, rng, to_numpy

from spykeflow.training import fit_keras, make_optimizer, predict_logits


def _data():
    r = rng(7)
    x = r.standard_normal((45, 6)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype("int32")
    return x, y


def _model():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(2)])
    r = rng(3)
    model.set_weights([(r.standard_normal(w.shape) * 0.5).astype("float32")
                       for w in model.get_weights()])
    model.compile(optimizer=make_optimizer("adam", 0.05, None),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


@case
def training_loop_deterministic_model():
    """No randomness (fixed weights, no dropout, no shuffling): the loop, the optimiser, the
    step-size schedule and restore-best give the same weights on every backend."""
    x, y = _data()
    model = _model()
    history = fit_keras(model, x, y, (x[:15], y[:15]), epochs=4, batch_size=8,
                        learning_rate=0.05, shuffle=False, progress=False,
                        lr_schedule="step", lr_schedule_params={"step_size": 2, "gamma": 0.5})
    out = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    out["loss"] = np.array(history["loss"])
    out["val_accuracy"] = np.array(history["val_accuracy"])
    out["logits"] = predict_logits(model, x, 16)
    return out


@case
def training_then_keras_predict_twice():
    """After the loop, Keras's own (buffer-donating) predict runs twice on the trained
    variables and agrees with the loop's predictor."""
    x, y = _data()
    model = _model()
    fit_keras(model, x, y, None, epochs=2, batch_size=8, learning_rate=0.05, shuffle=False,
              restore_best=False, progress=False)
    first = to_numpy(model.predict(x, batch_size=16, verbose=0))
    second = to_numpy(model.predict(x, batch_size=16, verbose=0))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(predict_logits(model, x, 16), first, atol=1e-6)
    return {"logits": first}
