"""Graphs laid out as Sinabs, Norse and snnTorch write them (built with nir's own API):
channels-first shapes, conv weights (out, in, kh, kw), PyTorch's row-major Flatten, IF/LIF
with reset by subtraction or to zero, a recurrent layer as a nested graph. The reference is
a plain loop over positions and steps written here, independent of the simulator's kernels."""

from __future__ import annotations

import numpy as np
import pytest

nir = pytest.importorskip("nir")
from spykeflow import nir as snir  # noqa: E402


def ref_conv(x, w, b, stride, pad):
    """Cross-correlation by loops: x (C, H, W), w (O, C, kh, kw)."""
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    o, _, kh, kw = w.shape
    ho = (x.shape[1] - kh) // stride + 1
    wo = (x.shape[2] - kw) // stride + 1
    out = np.zeros((o, ho, wo))
    for k in range(o):
        for i in range(ho):
            for j in range(wo):
                patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw]
                out[k, i, j] = (patch * w[k]).sum() + b[k]
    return out


def ref_sum_pool(x, k):
    c, h, w = x.shape
    return x[:, :h // k * k, :w // k * k].reshape(c, h // k, k, w // k, k).sum(axis=(2, 4))


class RefIF:
    """IF (dt r = 1) or LIF (Euler, decay beta, unit gain), reset 'zero' or 'subtract'."""

    def __init__(self, threshold, reset, beta=1.0):
        self.theta, self.reset, self.beta, self.v = threshold, reset, beta, None

    def __call__(self, x):
        self.v = x if self.v is None else self.beta * self.v + x
        s = (self.v > self.theta).astype(float)
        self.v = self.v - s * self.theta if self.reset == "subtract" else self.v * (1 - s)
        return s


@pytest.fixture
def sinabs_cnn(rng):
    """Input(2, 8, 8) -> Conv2d 4x(2,3,3) pad 1 -> IF -> SumPool2d 2 -> Conv2d 3x(4,3,3)
    stride 2 -> IF -> Flatten -> Linear(5, 3*1*1... ) -> IF: Sinabs' IAF layers (IF, r = 1)."""
    w1, b1 = rng.normal(0, 0.6, (4, 2, 3, 3)), rng.normal(0, 0.1, 4)
    w2 = rng.normal(0, 0.6, (3, 4, 3, 3))
    w3 = rng.normal(0, 0.8, (5, 3 * 1 * 1))
    nodes = {
        "input": nir.Input(input_type={"input": np.array([2, 8, 8])}),
        "0": nir.Conv2d(input_shape=(8, 8), weight=w1, stride=1, padding=1, dilation=1,
                        groups=1, bias=b1),
        "1": nir.IF(r=np.ones((4, 8, 8)), v_threshold=np.ones((4, 8, 8)),
                    v_reset=np.zeros((4, 8, 8))),
        "2": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                           padding=np.array([0, 0])),
        "3": nir.Conv2d(input_shape=(4, 4), weight=w2, stride=2, padding=0, dilation=1,
                        groups=1, bias=np.zeros(3)),
        "4": nir.IF(r=np.ones((3, 1, 1)), v_threshold=np.ones((3, 1, 1)),
                    v_reset=np.zeros((3, 1, 1))),
        "5": nir.Flatten(input_type={"input": np.array([3, 1, 1])}, start_dim=0, end_dim=-1),
        "6": nir.Linear(weight=w3),
        "7": nir.IF(r=np.ones(5), v_threshold=np.ones(5), v_reset=np.zeros(5)),
        "output": nir.Output(output_type={"output": np.array([5])}),
    }
    edges = [("input", "0"), ("0", "1"), ("1", "2"), ("2", "3"), ("3", "4"), ("4", "5"),
             ("5", "6"), ("6", "7"), ("7", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges), (w1, b1, w2, w3)


@pytest.mark.parametrize("reset", ["subtract", "v_reset"])
def test_sinabs_style_cnn(sinabs_cnn, rng, reset):
    graph, (w1, b1, w2, w3) = sinabs_cnn
    x = (rng.random((3, 6, 2, 8, 8)) < 0.4).astype(float)         # (N, T, C, H, W)
    sim = snir.load(graph, dt=1.0, reset=reset, data_format="channels_first", dtype="float64")
    out = sim.run(x, record=True)
    mode = "subtract" if reset == "subtract" else "zero"
    for n in range(len(x)):
        l1, l2, l3 = RefIF(1.0, mode), RefIF(1.0, mode), RefIF(1.0, mode)
        for t in range(x.shape[1]):
            s1 = l1(ref_conv(x[n, t], w1, b1, 1, 1))
            s2 = l2(ref_conv(ref_sum_pool(s1, 2), w2, np.zeros(3), 2, 0))
            s3 = l3(w3 @ s2.reshape(-1))
            assert np.array_equal(out.values["1"][n, t], s1)
            assert np.array_equal(out.values["4"][n, t], s2)
            assert np.array_equal(out.output[n, t], s3)
    assert out.values["1"].sum() > 0 and out.values["4"].sum() > 0   # the test sees spikes
    # the same graph, fed channels last, gives the same spikes
    last = snir.load(graph, dt=1.0, reset=reset, dtype="float64")
    assert last.input_shapes["input"] == (8, 8, 2)
    assert np.array_equal(last.run(np.moveaxis(x, 2, -1)).output, out.output)


def test_norse_style_lif_with_pytorch_flatten_order(rng):
    """Norse: Conv2d -> LIF (tau, r = 1, reset to 0) -> Flatten -> Affine -> LIF. The Affine
    columns follow PyTorch's row-major flatten of (C, H, W): index c*H*W + h*W + w."""
    dt, tau = 1e-3, 5e-3                              # Euler: decay 0.8, input gain 0.2 r
    w1 = rng.normal(0, 1.0, (2, 1, 2, 2))
    w2 = rng.normal(0, 1.0, (3, 2 * 3 * 3))
    b2 = rng.normal(0, 0.2, 3)
    shape1 = (2, 3, 3)
    nodes = {
        "input": nir.Input(input_type={"input": np.array([1, 4, 4])}),
        "conv": nir.Conv2d(input_shape=(4, 4), weight=w1, stride=1, padding=0, dilation=1,
                           groups=1, bias=np.zeros(2)),
        "lif1": nir.LIF(tau=np.full(shape1, tau), r=np.full(shape1, 5.0),
                        v_leak=np.zeros(shape1), v_threshold=np.full(shape1, 0.5),
                        v_reset=np.zeros(shape1)),
        "flat": nir.Flatten(input_type={"input": np.array(shape1)}, start_dim=0, end_dim=-1),
        "fc": nir.Affine(weight=w2, bias=b2),
        "lif2": nir.LIF(tau=np.full(3, tau), r=np.full(3, 5.0), v_leak=np.zeros(3),
                        v_threshold=np.full(3, 0.5), v_reset=np.zeros(3)),
        "output": nir.Output(output_type={"output": np.array([3])}),
    }
    edges = [("input", "conv"), ("conv", "lif1"), ("lif1", "flat"), ("flat", "fc"),
             ("fc", "lif2"), ("lif2", "output")]
    graph = nir.NIRGraph(nodes=nodes, edges=edges)
    x = (rng.random((2, 8, 1, 4, 4)) < 0.5).astype(float)
    out = snir.load(graph, dt=dt, data_format="channels_first", dtype="float64").run(x)
    for n in range(2):
        l1, l2 = RefIF(0.5, "zero", beta=0.8), RefIF(0.5, "zero", beta=0.8)
        for t in range(8):
            # dt/tau r = 1: the current enters the membrane with gain 1
            s1 = l1(ref_conv(x[n, t], w1, np.zeros(2), 1, 0))
            s2 = l2(w2 @ s1.reshape(-1) + b2)
            assert np.array_equal(out.output[n, t], s2)
    assert out.output.sum() > 0


def test_snntorch_style_recurrent_leaky_subgraph():
    """snnTorch writes RLeaky as a nested graph: input -> lif, lif -> w_rec -> lif,
    lif -> output; Leaky's beta as tau = dt / (1 - beta), r = tau / dt."""
    dt, beta = 1.0, 0.5
    tau = dt / (1 - beta)
    rleaky = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([2])}),
               "lif": nir.LIF(tau=np.full(2, tau), r=np.full(2, tau / dt), v_leak=np.zeros(2),
                              v_threshold=np.ones(2), v_reset=np.zeros(2)),
               "w_rec": nir.Linear(weight=np.array([[0.0, 0.6], [0.6, 0.0]])),
               "output": nir.Output(output_type={"output": np.array([2])})},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
        type_check=False)
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([1])}),
               "fc": nir.Linear(weight=np.array([[1.2], [0.0]])),
               "rleaky": rleaky,
               "output": nir.Output(output_type={"output": np.array([2])})},
        edges=[("input", "fc"), ("fc", "rleaky"), ("rleaky", "output")], type_check=False)
    sim = snir.load(graph, dt=dt, reset="subtract", dtype="float64")
    assert sim.recurrent_edges == [("rleaky.w_rec", "rleaky.lif")]
    x = np.array([1, 0, 0, 0, 1, 0], float).reshape(1, 6, 1)
    out = sim.run(x).output[0]
    # v = beta v + (1 - beta) r (W x + V s_prev) with (1 - beta) r = 1, reset by subtraction
    v, s, expected = np.zeros(2), np.zeros(2), []
    for t in range(6):
        v = beta * v + np.array([1.2, 0.0]) * x[0, t, 0] + np.array([[0, .6], [.6, 0]]) @ s
        s = (v > 1).astype(float)
        v = v - s
        expected.append(s)
    assert np.array_equal(out, np.array(expected))
    assert out[:, 1].sum() == 0 and out[:, 0].sum() == 2    # neuron 1 gets 0.6 < 1 per spike
