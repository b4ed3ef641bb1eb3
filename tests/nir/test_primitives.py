"""Every NIR primitive on a tiny graph whose output is worked out by hand (in the comments),
plus the graph mechanics: branches, recurrent edges, delays, subgraphs, several inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

nir = pytest.importorskip("nir")
from spykeflow import nir as snir  # noqa: E402


def arr(*values):
    return np.array(values, dtype=np.float64)


def run(nodes, x, dt=1.0, record=False, **options):
    """Run a chain of nodes on ``x`` (N, T, *shape) channels first."""
    graph = nir.NIRGraph.from_list(*nodes) if isinstance(nodes, (list, tuple)) else nodes
    sim = snir.load(graph, dt=dt, data_format="channels_first", dtype="float64", **options)
    return sim.run(np.asarray(x, np.float64), record=record)


def one(node, shape):
    """A graph Input(shape) -> node -> Output, without nir's type check (pools declare no
    types; nir's Conv types ignore groups)."""
    nodes = {"input": nir.Input(input_type={"input": np.array(shape)}), "node": node,
             "output": nir.Output(output_type={"output": np.array(shape)})}
    return nir.NIRGraph(nodes=nodes, edges=[("input", "node"), ("node", "output")],
                        type_check=False)


def steps(*values):
    """One sample, one feature, the given values over time: shape (1, T, 1)."""
    return np.array(values, np.float64).reshape(1, -1, 1)


# -- stateless maps --------------------------------------------------------------------------


def test_affine_and_linear():
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.ones((1, 1, 2))
    out = run([nir.Affine(weight=w, bias=arr(0.5, -1.0))], x).output
    assert out[0, 0].tolist() == [3.5, 6.0]          # [1+2+0.5, 3+4-1]
    assert run([nir.Linear(weight=w)], x).output[0, 0].tolist() == [3.0, 7.0]


def test_scale_and_threshold():
    x = np.array([0.5, 1.0, 1.5]).reshape(1, 1, 3)
    assert run([nir.Scale(scale=arr(2, -1, 0))], x).output[0, 0].tolist() == [1.0, -1.0, 0.0]
    th = arr(1.0, 1.0, 1.0)
    assert run([nir.Threshold(threshold=th)], x).output[0, 0].tolist() == [0, 0, 1]  # v > 1
    inclusive = nir.Threshold(threshold=th, metadata={"spykeflow_spike_condition": ">="})
    assert run([inclusive], x).output[0, 0].tolist() == [0, 1, 1]
    assert run([inclusive], x, strict=True).output[0, 0].tolist() == [0, 0, 1]


def test_flatten_counts_the_axes_of_one_sample():
    x = np.arange(12.0).reshape(1, 1, 2, 2, 3)
    out = run([nir.Flatten(input_type={"input": np.array([2, 2, 3])}, start_dim=0,
                           end_dim=-1)], x).output
    assert out.shape == (1, 1, 12) and out[0, 0].tolist() == list(range(12))   # C order
    out = run([nir.Flatten(input_type={"input": np.array([2, 2, 3])}, start_dim=1,
                           end_dim=-1)], x).output
    assert out.shape == (1, 1, 2, 6)


def conv1d(w, stride=1, padding=0, dilation=1, groups=1, bias=None, length=5):
    w = np.asarray(w, np.float64)
    return nir.Conv1d(input_shape=length, weight=w, stride=stride, padding=padding,
                      dilation=dilation, groups=groups,
                      bias=np.zeros(w.shape[0]) if bias is None else np.asarray(bias, float))


def test_conv1d_stride_padding_dilation_groups_bias():
    x = np.arange(1.0, 6.0).reshape(1, 1, 1, 5)          # (N, T, C=1, L=5): 1 2 3 4 5
    w = [[[1.0, 0.0, -1.0]]]                              # y[p] = x[p] - x[p + 2]
    assert run([conv1d(w)], x).output[0, 0, 0].tolist() == [-2, -2, -2]
    assert run([conv1d(w, stride=2)], x).output[0, 0, 0].tolist() == [-2, -2]
    # zero padding 1: 0 1 2 3 4 5 0 -> [0-2, 1-3, 2-4, 3-5, 4-0]
    assert run([conv1d(w, padding=1)], x).output[0, 0, 0].tolist() == [-2, -2, -2, -2, 4]
    # dilation 2: taps 0, 2, 4 -> x[0] - x[4]
    assert run([conv1d(w, dilation=2)], x).output[0, 0, 0].tolist() == [-4]
    # "same": (3 - 1) zeros, one each side
    assert run([conv1d(w, padding="same")], x).output[0, 0, 0].tolist() == [-2, -2, -2, -2, 4]
    # groups=2: each output channel sees its own input channel; bias per output channel
    x2 = np.stack([np.ones(5), 2 * np.ones(5)]).reshape(1, 1, 2, 5)
    out = run(one(conv1d([[[2.0]], [[3.0]]], groups=2, bias=[0.5, -1.0]), (2, 5)), x2)
    out = out.output[0, 0]
    assert out[:, 0].tolist() == [2.5, 5.0]               # 2*1 + .5, 3*2 - 1


def conv2d(w, stride=1, padding=0, dilation=1, groups=1, bias=None, size=(3, 3)):
    w = np.asarray(w, np.float64)
    return nir.Conv2d(input_shape=size, weight=w, stride=stride, padding=padding,
                      dilation=dilation, groups=groups,
                      bias=np.zeros(w.shape[0]) if bias is None else np.asarray(bias, float))


def test_conv2d_weight_layout_out_in_kh_kw():
    x = np.arange(1.0, 10.0).reshape(1, 1, 1, 3, 3)       # 1 2 3 / 4 5 6 / 7 8 9
    ones2 = np.ones((1, 1, 2, 2))
    assert run([conv2d(ones2)], x).output[0, 0, 0].tolist() == [[12, 16], [24, 28]]
    ones3 = np.ones((1, 1, 3, 3))
    same = run([conv2d(ones3, padding="same")], x).output[0, 0, 0]
    assert same[0, 0] == 12 and same[1, 1] == 45 and same[2, 2] == 28   # 5+6+8+9
    # stride 2 with one ring of zeros: the corners of the "same" output
    assert run([conv2d(ones3, stride=2, padding=1)], x).output[0, 0, 0].tolist() == [
        [12, 16], [24, 28]]
    # dilation 2: x[0,0] + x[0,2] + x[2,0] + x[2,2]
    assert run([conv2d(ones2, dilation=2)], x).output[0, 0, 0].tolist() == [[20]]
    # (out, in, kh, kw): an asymmetric kernel shows the orientation (cross-correlation)
    w = np.zeros((2, 1, 2, 2))
    w[0, 0, 0, 1] = 1.0                                   # out 0: the right neighbour
    w[1, 0, 1, 0] = -1.0                                  # out 1: minus the lower neighbour
    out = run([conv2d(w, bias=[0.0, 10.0])], x).output[0, 0]
    assert out[0].tolist() == [[2, 3], [5, 6]] and out[1].tolist() == [[6, 5], [3, 2]]


def test_conv2d_groups():
    x = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))]).reshape(1, 1, 2, 3, 3)
    w = np.stack([np.ones((1, 2, 2)), -np.ones((1, 2, 2))])   # (2, 1, 2, 2)
    out = run(one(conv2d(w, groups=2), (2, 3, 3)), x).output[0, 0]
    assert out[0].tolist() == [[4, 4], [4, 4]] and out[1].tolist() == [[-8, -8], [-8, -8]]


def test_sum_and_average_pooling():
    x = np.arange(16.0).reshape(1, 1, 1, 4, 4)
    pool = dict(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))
    # windows {0,1,4,5}, {2,3,6,7}, {8,9,12,13}, {10,11,14,15}
    sums = run(one(nir.SumPool2d(**pool), (1, 4, 4)), x).output[0, 0, 0]
    assert sums.tolist() == [[10, 18], [42, 50]]
    means = run(one(nir.AvgPool2d(**pool), (1, 4, 4)), x).output[0, 0, 0]
    assert means.tolist() == [[2.5, 4.5], [10.5, 12.5]]
    ones = np.ones((1, 1, 1, 2, 2))
    padded = dict(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                  padding=np.array([1, 1]))
    # a ring of zeros: each 2x2 window of the 4x4 padded map holds one 1
    out = run(one(nir.SumPool2d(**padded), (1, 2, 2)), ones).output[0, 0, 0]
    assert out.tolist() == [[1, 1], [1, 1]]


# -- neurons ---------------------------------------------------------------------------------


def test_integrator_I():
    out = run([nir.I(r=arr(2.0))], steps(1, 1, 0, 1), dt=0.5).output   # v += dt r x = x
    assert out[0, :, 0].tolist() == [1, 2, 2, 3]


def test_integrate_and_fire_resets():
    node = nir.IF(r=arr(1.0), v_threshold=arr(1.0), v_reset=arr(0.0))
    x = steps(0.6, 0.6, 0.6, 0.6)
    res = run([node], x, record=True)
    assert res.output[0, :, 0].tolist() == [0, 1, 0, 1]              # 0.6, 1.2 > 1
    assert np.allclose(res.states["if"]["v"][0, :, 0], [0.6, 0.0, 0.6, 0.0])
    res = run([node], x, record=True, reset="subtract")              # 1.2 - 1 = 0.2
    assert res.output[0, :, 0].tolist() == [0, 1, 0, 1]
    assert np.allclose(res.states["if"]["v"][0, :, 0], [0.6, 0.2, 0.8, 0.4])
    # exact: the crossing at 2/3 of step 2, then 1/3 step more from 0: 0.2 (as subtraction)
    res = run([node], x, record=True, method="exact")
    assert res.output[0, :, 0].tolist() == [0, 1, 0, 1]
    assert np.allclose(res.states["if"]["v"][0, :, 0], [0.6, 0.2, 0.8, 0.4])
    # v_reset != 0: reset to it; subtraction removes v_threshold - v_reset
    node = nir.IF(r=arr(1.0), v_threshold=arr(1.0), v_reset=arr(0.5))
    assert np.allclose(run([node], x, record=True).states["if"]["v"][0, :, 0],
                       [0.6, 0.5, 0.5, 0.5])               # 1.2 -> .5, then 1.1 -> .5 ...
    assert np.allclose(run([node], x, record=True, reset="subtract").states["if"]["v"][0, :, 0],
                       [0.6, 0.7, 0.8, 0.9])               # 1.2 - .5, 1.3 - .5, 1.4 - .5


def test_leaky_integrator_three_methods():
    node = nir.LI(tau=arr(2.0), r=arr(1.0), v_leak=arr(0.0))
    x = steps(1, 1, 1)
    euler = run([node], x).output[0, :, 0]               # v' = v + (1 - v) / 2
    assert np.allclose(euler, [0.5, 0.75, 0.875])
    e = math.exp(-0.5)
    expo = run([node], x, method="exponential").output[0, :, 0]   # v' = e v + 0.5
    assert np.allclose(expo, [0.5, 0.5 * e + 0.5, (0.5 * e + 0.5) * e + 0.5])
    exact = run([node], x, method="exact").output[0, :, 0]        # 1 - e^{-t/2}
    assert np.allclose(exact, [1 - e, 1 - e**2, 1 - e**3])
    leak = nir.LI(tau=arr(2.0), r=arr(1.0), v_leak=arr(1.0))      # relaxes towards v_leak
    assert np.allclose(run([leak], steps(0, 0)).output[0, :, 0], [0.5, 0.75])


def test_lif_euler_and_exact_reset_inside_the_step():
    node = nir.LIF(tau=arr(2.0), r=arr(1.0), v_leak=arr(0.0), v_threshold=arr(0.7),
                   v_reset=arr(0.0))
    x = steps(1, 1, 1, 1)
    assert run([node], x).output[0, :, 0].tolist() == [0, 1, 0, 1]   # .5, .75 | .5, .75
    res = run([node], x, method="exact", record=True)
    e = math.exp(-0.5)
    assert res.output[0, :, 0].tolist() == [0, 0, 1, 0]               # 1 - e^{-1.5} = .78
    v2 = 1 - e**2                                                     # before the crossing
    t_cross = 2 * math.log((v2 - 1) / (0.7 - 1))                      # v(t) = 1 - (1-v2) e^{-t/2}
    v3 = 1 - math.exp(-(1 - t_cross) / 2)                             # from 0 after the reset
    assert np.allclose(res.states["lif"]["v"][0, :, 0], [1 - e, v2, v3, 1 - (1 - v3) * e])


def test_cuba_nodes_euler_by_hand():
    p = dict(tau_syn=arr(2.0), tau_mem=arr(4.0), r=arr(1.0), v_leak=arr(0.0), w_in=arr(1.0))
    x = steps(1, 0, 0)
    res = run([nir.CubaLI(**p)], x, record=True)
    # i = .5, .25, .125; v = .25 i (+ .75 v): .125, .15625, .1484375
    assert np.allclose(res.states["cubali"]["i"][0, :, 0], [0.5, 0.25, 0.125])
    assert np.allclose(res.output[0, :, 0], [0.125, 0.15625, 0.1484375])
    lif = nir.CubaLIF(**p, v_threshold=arr(0.14), v_reset=arr(0.0))
    res = run([lif], x, record=True)
    assert res.output[0, :, 0].tolist() == [0, 1, 0]                  # .15625 > .14
    assert np.allclose(res.states["cubalif"]["v"][0, :, 0], [0.125, 0.0, 0.03125])


def _fine_euler(p, x, dt, substeps=20000):
    """Reference: the CubaLI ODEs integrated with a tiny Euler step, input held per step."""
    i = v = 0.0
    h = dt / substeps
    out = []
    for xt in x:
        for _ in range(substeps):
            i, v = (i + h / p["tau_syn"] * (-i + p["w_in"] * xt),
                    v + h / p["tau_mem"] * (p["v_leak"] - v + p["r"] * i))
        out.append(v)
    return np.array(out)


@pytest.mark.parametrize("tau_mem", [4.0, 2.0])   # distinct and equal time constants
def test_cuba_exact_solves_the_ode(tau_mem):
    p = dict(tau_syn=2.0, tau_mem=tau_mem, r=1.5, v_leak=0.2, w_in=0.8)
    x = [1.0, 0.0, 2.0, 0.0]
    node = nir.CubaLI(**{k: arr(v) for k, v in p.items()})
    out = run([node], steps(*x), method="exact").output[0, :, 0]
    assert np.allclose(out, _fine_euler(p, x, 1.0), atol=1e-4)


def test_delay_shifts_by_whole_steps():
    x = steps(1, 2, 3, 4)
    assert run([nir.Delay(delay=arr(2e-3))], x, dt=1e-3).output[0, :, 0].tolist() == [0, 0, 1, 2]
    # one delay per element
    two = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]).reshape(1, 3, 2)
    out = run([nir.Delay(delay=arr(0.0, 1.0))], two).output[0]
    assert out.tolist() == [[1, 0], [2, 10], [3, 20]]
    with pytest.raises(ValueError, match="multiples of dt"):
        run([nir.Delay(delay=arr(1.5))], x)


# -- graph mechanics --------------------------------------------------------------------------


def _graph(nodes, edges, shape=(1,)):
    nodes = {"input": nir.Input(input_type={"input": np.array(shape)}), **nodes,
             "output": nir.Output(output_type={"output": np.array(shape)})}
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def test_branches_are_summed():
    g = _graph({"a": nir.Scale(scale=arr(2.0)), "b": nir.Scale(scale=arr(3.0))},
               [("input", "a"), ("input", "b"), ("a", "output"), ("b", "output")])
    assert run(g, steps(1, 2)).output[0, :, 0].tolist() == [5, 10]


def test_identity_passes_through():
    g = _graph({"id": nir.ir.graph.Identity(input_type={"input": np.array([1])})},
               [("input", "id"), ("id", "output")])
    assert run(g, steps(1, -2)).output[0, :, 0].tolist() == [1, -2]


def test_recurrent_edge_reads_the_previous_step():
    # LI with tau = dt passes its input through (v' = x); the loop adds half of last output
    g = _graph({"li": nir.LI(tau=arr(1.0), r=arr(1.0), v_leak=arr(0.0)),
                "fb": nir.Scale(scale=arr(0.5))},
               [("input", "li"), ("li", "fb"), ("fb", "li"), ("li", "output")])
    sim = snir.load(g, dt=1.0)
    assert sim.recurrent_edges == [("fb", "li")]
    assert sim.run(steps(1, 0, 0, 4)).output[0, :, 0].tolist() == [1, 0.5, 0.25, 4.125]


def test_recurrent_spiking_layer_like_snntorch_rleaky():
    # IF neuron whose spike inhibits itself on the next step (weight -1 on the recurrent edge)
    g = _graph({"if": nir.IF(r=arr(1.0), v_threshold=arr(0.5), v_reset=arr(0.0)),
                "rec": nir.Linear(weight=np.array([[-1.0]]))},
               [("input", "if"), ("if", "rec"), ("rec", "if"), ("if", "output")])
    # v: .6 spike -> 0; then .6 - 1 = -.4; then .2; then .8 spike
    assert run(g, steps(0.6, 0.6, 0.6, 0.6)).output[0, :, 0].tolist() == [1, 0, 0, 1]


def test_nested_graph_is_inlined():
    inner = nir.NIRGraph(nodes={"i": nir.Input(input_type={"input": np.array([1])}),
                                "s": nir.Scale(scale=arr(2.0)),
                                "o": nir.Output(output_type={"output": np.array([1])})},
                         edges=[("i", "s"), ("s", "o")], type_check=False)
    g = _graph({"sub": inner, "add": nir.Scale(scale=arr(1.0))},
               [("input", "sub"), ("sub", "add"), ("add", "output")])
    sim = snir.load(g, dt=1.0)
    assert "sub.s" in sim.order
    assert sim.run(steps(1, 3)).output[0, :, 0].tolist() == [2, 6]


def test_several_inputs_and_outputs():
    nodes = {"x": nir.Input(input_type={"input": np.array([1])}),
             "y": nir.Input(input_type={"input": np.array([1])}),
             "s": nir.Scale(scale=arr(1.0)),
             "sum": nir.Output(output_type={"output": np.array([1])}),
             "copy": nir.Output(output_type={"output": np.array([1])})}
    g = nir.NIRGraph(nodes=nodes, edges=[("x", "s"), ("y", "s"), ("s", "sum"), ("x", "copy")],
                     type_check=False)
    res = snir.load(g, dt=1.0).run({"x": steps(1, 2), "y": steps(10, 20)})
    assert res.outputs["sum"][0, :, 0].tolist() == [11, 22]
    assert res.outputs["copy"][0, :, 0].tolist() == [1, 2]
    with pytest.raises(ValueError, match="one Output node"):
        res.output  # noqa: B018


def test_channels_last_is_the_default_layout():
    w = np.zeros((2, 1, 1, 1))
    w[:, 0, 0, 0] = [1.0, -1.0]
    g = nir.NIRGraph.from_list(conv2d(w, size=(2, 3)))
    x = np.arange(6.0).reshape(1, 1, 2, 3, 1)                    # (N, T, H, W, C)
    sim = snir.load(g, dt=1.0)
    assert sim.input_shapes == {"input": (2, 3, 1)} and sim.output_shapes["output"] == (2, 3, 2)
    out = sim.run(x).output
    assert np.array_equal(out[..., 0], x[..., 0]) and np.array_equal(out[..., 1], -x[..., 0])
    first = snir.load(g, dt=1.0, data_format="channels_first").run(np.moveaxis(x, -1, 2))
    assert np.array_equal(np.moveaxis(first.output, 2, -1), out)


def test_batches_give_the_same_result(rng):
    node = nir.LIF(tau=arr(3.0), r=arr(1.0), v_leak=arr(0.0), v_threshold=arr(0.4))
    sim = snir.load(nir.NIRGraph.from_list(node), dt=1.0)
    x = rng.random((7, 6, 1))
    assert np.array_equal(sim.run(x).output, sim.run(x, batch_size=3).output)


# -- errors ----------------------------------------------------------------------------------


@dataclass(eq=False)
class Custom(nir.NIRNode):
    def __post_init__(self):
        self.input_type = {"input": np.array([1])}
        self.output_type = {"output": np.array([1])}


def test_unsupported_node_names_node_type_and_the_supported_list():
    g = _graph({"mystery": Custom()}, [("input", "mystery"), ("mystery", "output")])
    with pytest.raises(ValueError, match=r"Node 'mystery' has the unsupported type Custom\. "
                                         r"Supported NIR types: Input, Output.*CubaLIF"):
        snir.load(g, dt=1.0)


def test_load_validates_its_arguments(tmp_path):
    g = nir.NIRGraph.from_list(nir.Scale(scale=arr(1.0)))
    with pytest.raises(ValueError, match="Expected dt"):
        snir.load(g)
    with pytest.raises(ValueError, match="Expected dt > 0"):
        snir.load(g, dt=0.0)
    with pytest.raises(ValueError, match="Expected method to be one of"):
        snir.load(g, dt=1.0, method="rk4")
    with pytest.raises(ValueError, match="Expected reset to be one of"):
        snir.load(g, dt=1.0, reset="zero")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        snir.load(tmp_path / "none.nir", dt=1.0)
    with pytest.raises(TypeError, match="Expected a nir.NIRGraph"):
        snir.load(42, dt=1.0)
    sim = snir.load(g, dt=1.0)
    with pytest.raises(ValueError, match=r"Expected input 'input' of shape \(N, T, 1\)"):
        sim.run(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        sim.run(np.full((1, 2, 1), np.nan))


def test_shape_mismatch_hints_at_flatten():
    g = _graph({"fc": nir.Affine(weight=np.ones((2, 4)), bias=np.zeros(2))},
               [("input", "fc"), ("fc", "output")], shape=(1, 2, 2))
    with pytest.raises(ValueError, match="Add a Flatten node"):
        snir.load(g, dt=1.0)
