"""Numbers of the NIR interchange (issue 20), printed as JSON.

1. The NIR paper's one-neuron LIF benchmark (``shared/nir/lif``): the graph Norse exported,
   run by :func:`spykeflow.nir.load` with each discretisation, against the traces of Norse,
   Rockpool, Sinabs and the exact solution: spike steps and the largest voltage difference.
2. The STDP network on MNIST Pool1 + LinearSVC, with lateral inhibition (``Network.transform``,
   what the pipelines use) and without it (the exported NIR graph run by the simulator, which
   is checked to equal ``Network`` with ``lateral_inhibition=False``): feature statistics and
   test accuracy. Conv1 is the ``mnist_conv1`` preset trained on the first ``--stdp-images``
   training images; the SVM (``LinearSVC(dual=True, max_iter=5000, random_state=0)`` as in
   ``experiments/network_features.py``) sees the first ``--train`` training and ``--test``
   test images, its C chosen on the last fifth of the training subset.

    python bench/nir_interchange.py                      # both parts (a few minutes of CPU)
    python bench/nir_interchange.py --skip-mnist         # the LIF benchmark only (1 s)
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import pathlib
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
RUNS = {"euler, reset to v_reset": dict(method="euler"),
        "exponential, reset by subtraction": dict(method="exponential", reset="subtract"),
        "exact, reset at the crossing": dict(method="exact")}
FRAMEWORKS = ("norse", "rockpool", "sinabs", "exact")


def nir_folder(given: str | None) -> pathlib.Path:
    """``--nir-data``, else the tests' lookup (``$SPYKEFLOW_NIR_DATA``, ``shared/nir`` beside the
    repository or beside the data root)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("nir_conftest",
                                                  REPO / "tests" / "nir" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    folder = pathlib.Path(given) if given else conftest.nir_data_dir()
    if folder is None or not (folder / "lif" / "lif_norse.nir").is_file():
        raise SystemExit(f"NIR reference files not found (looked in {folder}); pass --nir-data "
                         "or set SPYKEFLOW_NIR_DATA")
    return folder


def lif_benchmark(folder: pathlib.Path) -> dict:
    from spykeflow import nir as snir

    traces = {f: np.loadtxt(folder / "lif" / f"lif_{f}.csv", delimiter=",") for f in FRAMEWORKS}
    x = traces["norse"][:, 0].reshape(1, -1, 1)
    out = {"graph": "lif/lif_norse.nir", "dt": 1e-4, "steps": int(x.shape[1]),
           "reference_spike_steps": {f: np.nonzero(t[:, 2])[0].tolist()
                                     for f, t in traces.items()}, "runs": {}}
    for name, options in RUNS.items():
        res = snir.load(folder / "lif" / "lif_norse.nir", dt=1e-4, **options).run(
            x, record=True)
        spikes = np.nonzero(res.output[0, :, 0])[0]
        (node,) = res.states
        v = res.states[node]["v"][0, :, 0]
        versus = {}
        for f, t in traces.items():
            ref = np.nonzero(t[:, 2])[0]
            same_count = len(ref) == len(spikes)
            versus[f] = {
                "spike_steps_equal": bool(same_count and np.array_equal(ref, spikes)),
                "spike_step_offsets": (spikes - ref).tolist() if same_count else None,
                "max_abs_voltage_error": float(np.abs(v - t[:, 1]).max()),
            }
        out["runs"][name] = {"options": options, "spike_steps": spikes.tolist(),
                             "versus": versus}
    return out


def svm(xtr, ytr, xte, yte, cs):
    from sklearn.svm import LinearSVC

    nv = len(xtr) // 5
    val = {}
    for c in cs:
        clf = LinearSVC(C=c, dual=True, max_iter=5000, random_state=0)
        val[str(c)] = float((clf.fit(xtr[:-nv], ytr[:-nv]).predict(xtr[-nv:]) == ytr[-nv:])
                            .mean())
    best = float(max(val, key=lambda k: val[k]))
    clf = LinearSVC(C=best, dual=True, max_iter=5000, random_state=0).fit(xtr, ytr)
    return {"val_accuracy": val, "C": best, "test_accuracy": float((clf.predict(xte) == yte)
                                                                     .mean())}


def stdp_mnist(args) -> dict:
    import spykeflow
    from spykeflow import datasets

    xtr, ytr = datasets.load("mnist", "train")
    xte, yte = datasets.load("mnist", "test")
    enc = spykeflow.InputLayer().fit()
    conv, pool = spykeflow.Network.preset("mnist_conv1").layers
    net = spykeflow.Network([conv.replace(n_images=args.stdp_images), pool], seed=args.seed,
                            progress=False)
    net.fit(enc.transform(xtr[:args.stdp_images]))
    free = copy.deepcopy(net)
    free.layers_ = [layer.replace(lateral_inhibition=False)
                    if isinstance(layer, spykeflow.STDPConv) else layer for layer in net.layers_]
    sim = spykeflow.nir.load(spykeflow.nir.to_graph(net))
    feats: dict[str, list] = {"inhibition": [], "nir": [], "network_no_inhibition": []}
    sim_s = 0.0
    for images in (xtr[:args.train], xte[:args.test]):
        parts: dict[str, list] = {k: [] for k in feats}
        for s in range(0, len(images), 1000):
            spikes = enc.transform(images[s:s + 1000])
            parts["inhibition"].append(net.transform(spikes))
            parts["network_no_inhibition"].append(free.transform(spikes))
            t0 = time.perf_counter()
            out = sim.run(spikes.astype(np.float32), batch_size=250).output
            sim_s += time.perf_counter() - t0
            parts["nir"].append(np.moveaxis(out.max(axis=1) > 0, -1, 1)
                                .reshape(len(spikes), -1).astype(np.uint8))
        for k in feats:
            feats[k].append(np.concatenate(parts[k]))
    res = {"protocol": {"stdp_images": args.stdp_images, "train": args.train,
                        "test": args.test, "seed": args.seed, "svm_c": args.svm_c,
                        "preset": "mnist_conv1", "time_steps": int(net.input_shape_[0])},
           "nir_simulation_images_per_s": (args.train + args.test) / sim_s}
    # the NIR run against Network(lateral_inhibition=False): equal up to float32 rounding at
    # potentials within a few ulps of the threshold (summation order: BLAS vs event order)
    nir_all = np.concatenate(feats["nir"])
    ref_all = np.concatenate(feats["network_no_inhibition"])
    res["nir_vs_network_without_inhibition"] = {
        "feature_bits_differing": int((nir_all != ref_all).sum()),
        "feature_bits_set": int(ref_all.sum()), "feature_bits_total": int(ref_all.size)}
    for key, label in (("inhibition", "with_lateral_inhibition"),
                       ("nir", "without_lateral_inhibition_nir"),
                       ("network_no_inhibition", "without_lateral_inhibition_network")):
        ftr, fte = feats[key]
        res[label] = {"active_features_per_image_test": float(fte.sum(1).mean()),
                      **svm(ftr, ytr[:args.train], fte, yte[:args.test], args.svm_c)}
    a, b = feats["inhibition"][1], feats["nir"][1]
    res["test_features_differing_per_image"] = float((a != b).sum(1).mean())
    res["test_feature_bits_only_with_inhibition"] = int((a > b).sum())
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nir-data", default=None, help="folder with lif/ (default: shared/nir)")
    ap.add_argument("--skip-mnist", action="store_true", help="only the LIF benchmark")
    ap.add_argument("--stdp-images", type=int, default=6000)
    ap.add_argument("--train", type=int, default=10000)
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--svm-c", type=float, nargs="+", default=[0.01, 0.03, 0.1])
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    result = {"lif_benchmark": lif_benchmark(nir_folder(args.nir_data))}
    if not args.skip_mnist:
        result["stdp_mnist_pool1_linear_svc"] = stdp_mnist(args)
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
