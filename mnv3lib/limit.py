"""How close a runtime gets to the machine: the physical limit of a network, and runtimes timed against it.

A network's *physical limit* on this CPU is its multiply-adds divided by the fastest multiply-add rate the CPU
reaches on a large matrix product (measured here, in the same run, on the same threads): the time the arithmetic
alone needs when every vector unit is busy. A runtime at 1× the limit wastes nothing; at 8× it spends seven
eighths of its time on something other than multiply-adds (MobileNetV3 §6.1 measures latency for this reason).

    rates = matmul_throughput()                        # {"torch.mm": MAC/s, "ORT MatMul": MAC/s}
    times = time_interleaved({"eager": f, "ORT": g})   # {name: mnv3lib.latency.Latency}, calls interleaved
"""
from __future__ import annotations

import gc
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import latency
from .latency import Latency

__all__ = ["ROUNDS", "rounds", "time_interleaved", "matmul_throughput", "limit_ms", "runners", "RuntimeTable",
           "measure_runtimes",
           "compile_enabled", "ACTIVATIONS", "activation_model", "activation_costs", "ort_profile"]

ROUNDS = {"quick": (2, 9), "full": (3, 31)}  # (warm-up calls, timed calls) per callable


def rounds(quick: bool | None = None) -> tuple[int, int]:
    """(warm-up, repeats) for `time_interleaved`: quick under pytest or MNV3LIB_QUICK=1 (see `mnv3lib.latency`)."""
    return ROUNDS["quick" if latency.settings(quick) == latency.QUICK else "full"]


def time_interleaved(calls: dict[str, Callable[[], object]], warmup: int | None = None,
                     repeats: int | None = None, threads: int = 1) -> dict[str, Latency]:
    """Time every zero-argument callable `repeats` times, round-robin (all once, then all again, in alternating
    order), so that load from other programs falls on all of them alike; medians are the numbers to quote."""
    w, r = rounds()
    warmup, repeats = (w if warmup is None else warmup), (r if repeats is None else repeats)
    if not calls:
        raise ValueError("calls: got none, expected at least one {name: callable}")
    times = {k: [] for k in calls}
    gc_was_on = gc.isenabled()
    with latency.fixed_threads(threads), torch.inference_mode():
        for f in calls.values():
            for _ in range(warmup):
                f()
        gc.disable()
        try:
            order = list(calls.items())
            for i in range(repeats):
                for name, f in order if i % 2 == 0 else order[::-1]:
                    start = time.perf_counter()
                    f()
                    times[name].append((time.perf_counter() - start) * 1e3)
        finally:
            if gc_was_on:
                gc.enable()
    return {k: Latency(k, (0, 0, 0), threads, tuple(v)) for k, v in times.items()}


def _ort_matmul(n: int, threads: int):
    from onnx import TensorProto, helper, numpy_helper

    from .deploy import _need

    ort = _need("onnxruntime")
    b = numpy_helper.from_array(np.random.default_rng(1).standard_normal((n, n), dtype=np.float32), "B")
    graph = helper.make_graph([helper.make_node("MatMul", ["A", "B"], ["C"])], "matmul",
                              [helper.make_tensor_value_info("A", TensorProto.FLOAT, [n, n])],
                              [helper.make_tensor_value_info("C", TensorProto.FLOAT, [n, n])], initializer=[b])
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def matmul_throughput(size: int = 1024, threads: int = 1, calls: dict | None = None) -> dict[str, float]:
    """Multiply-adds per second of a `size`×`size` float32 matrix product, with PyTorch (`torch.mm`) and with
    ONNX Runtime (MatMul), timed interleaved. The larger of the two is this CPU's best measured rate.

    `calls` may hold other callables to time in the same rounds; their `Latency` is returned under their names
    beside the two rates, so that a limit and the runtimes it judges come from one run.
    """
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((size, size), dtype=np.float32)
    a, b = torch.from_numpy(a_np), torch.from_numpy(rng.standard_normal((size, size), dtype=np.float32))
    sess = _ort_matmul(size, threads)
    mm = {"torch.mm": lambda: torch.mm(a, b), "ORT MatMul": lambda: sess.run(None, {"A": a_np})}
    measured = time_interleaved({**mm, **(calls or {})}, threads=threads)
    rates = {k: size ** 3 / (measured[k].median_ms / 1e3) for k in mm}
    return {**rates, **{k: v for k, v in measured.items() if k not in mm}}


def limit_ms(madds: float, rate: float) -> float:
    """The physical limit in milliseconds: `madds` multiply-adds at `rate` multiply-adds per second."""
    return madds / rate * 1e3


def compile_enabled() -> bool:
    """Whether to time `torch.compile`: only when MNV3LIB_COMPILE=1 and a C compiler exists. Inductor
    compiles C++ for the CPU, which takes tens of seconds per network from a cold cache on a small machine."""
    return os.environ.get("MNV3LIB_COMPILE", "0") == "1" and shutil.which(os.environ.get("CXX", "g++")) is not None


def runners(model: nn.Module, resolution: int, fp32=None, int8=None, compile: bool = False,
            threads: int = 1) -> dict[str, Callable[[], object]]:
    """Zero-argument callables running one batch-1 forward pass of `model` each way: "eager", "eager, BN folded"
    (`deploy.fold_batchnorm`), "eager + channels_last", "torch.compile" (if `compile`), "ORT fp32" / "ORT int8"
    (given ONNX paths)."""
    from .deploy import fold_batchnorm, session

    model = model.eval()
    x = torch.randn(1, 3, resolution, resolution, generator=torch.Generator().manual_seed(0))
    cl_model = _channels_last(model)
    x_cl = x.to(memory_format=torch.channels_last)
    folded = fold_batchnorm(model)[0]
    calls = {"eager": lambda: model(x), "eager, BN folded": lambda: folded(x),
             "eager + channels_last": lambda: cl_model(x_cl)}
    if compile:
        compiled = torch.compile(model)
        with torch.inference_mode():
            compiled(x)  # compile now, not inside the timing
        calls["torch.compile"] = lambda: compiled(x)
    x_np = x.numpy()
    for name, path in (("ORT fp32", fp32), ("ORT int8", int8)):
        if path is not None:
            calls[name] = lambda sess=session(path, threads): sess.run(None, {"input": x_np})
    return calls


@dataclass(frozen=True)
class RuntimeTable:
    """Median ms of every (network, runtime) pair, and the physical limit measured in the same run."""
    ms: dict            # (network, runtime) → median ms
    madds: dict         # network → multiply-adds
    rates: dict         # "torch.mm" / "ORT MatMul" → multiply-adds per second
    threads: int

    @property
    def rate(self) -> float:
        """The best measured multiply-add rate: the one the limit uses."""
        return max(self.rates.values())

    @property
    def networks(self) -> list[str]:
        return list(dict.fromkeys(n for n, _ in self.ms))

    @property
    def runtimes(self) -> list[str]:
        return list(dict.fromkeys(r for _, r in self.ms))

    def limit_ms(self, network: str) -> float:
        return limit_ms(self.madds[network], self.rate)

    def ratio(self, network: str, runtime: str) -> float:
        """Latency as a multiple of the physical limit (1 = nothing but multiply-adds at full speed)."""
        return self.ms[network, runtime] / self.limit_ms(network)

    def rows(self, unit: str = "ms") -> list[list]:
        """One row per network: MAdds (M), limit (ms), then each runtime in `unit` ("ms" or "× limit")."""
        value = (lambda n, r: round(self.ms[n, r], 2)) if unit == "ms" else \
            (lambda n, r: round(self.ratio(n, r), 2))
        return [[n, round(self.madds[n] / 1e6, 1), round(self.limit_ms(n), 2),
                 *[value(n, r) if (n, r) in self.ms else "—" for r in self.runtimes]] for n in self.networks]


def measure_runtimes(calls: dict[str, dict[str, Callable]], madds: dict[str, int], threads: int = 1,
                     size: int = 1024) -> RuntimeTable:
    """Time every network's runtimes (`calls[network][runtime]`, e.g. from `runners`) and the matrix products
    of `matmul_throughput`, all interleaved in one run."""
    flat = {f"{n}\t{r}": f for n, runs in calls.items() for r, f in runs.items()}
    measured = matmul_throughput(size, threads, flat)
    ms = {tuple(k.split("\t")): measured[k].median_ms for k in flat}
    return RuntimeTable(ms, dict(madds), {k: measured[k] for k in ("torch.mm", "ORT MatMul")}, threads)


def _channels_last(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model).to(memory_format=torch.channels_last)


# The nonlinearities of MobileNetV3 §5.2 as ONNX graphs: fused single ops where ONNX has them, and the formulas.
ACTIVATIONS = {
    "ReLU": [("Relu", ["x"], ["y"])],
    "h-sigmoid": [("HardSigmoid", ["x"], ["y"], {"alpha": 1 / 6, "beta": 0.5})],
    "sigmoid": [("Sigmoid", ["x"], ["y"])],
    "h-swish": [("HardSwish", ["x"], ["y"])],
    "swish": [("Sigmoid", ["x"], ["s"]), ("Mul", ["x", "s"], ["y"])],
    "h-swish as x·ReLU6(x+3)/6": [("Add", ["x", "three"], ["a"]), ("Clip", ["a", "zero", "six"], ["c"]),
                                  ("Div", ["c", "six"], ["d"]), ("Mul", ["x", "d"], ["y"])],
}


def activation_model(name: str, shape=(1, 240, 28, 28)) -> bytes:
    """A one-activation ONNX model (serialized) for `name` in `ACTIVATIONS`, on a float32 tensor of `shape`
    (default: the expansion of V3-Large's first h-swish bneck, 28²×240)."""
    from onnx import TensorProto, helper, numpy_helper

    if name not in ACTIVATIONS:
        raise ValueError(f"name: got {name!r}, expected one of {list(ACTIVATIONS)}")
    consts = [numpy_helper.from_array(np.array(v, np.float32), k) for k, v in
              (("three", 3.0), ("zero", 0.0), ("six", 6.0))]
    nodes = [helper.make_node(op, i, o, **(a[0] if a else {})) for op, i, o, *a in ACTIVATIONS[name]]
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(shape))],
                              initializer=[c for c in consts if any(c.name in n.input for n in nodes)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]).SerializeToString()


def activation_costs(shape=(1, 240, 28, 28), threads: int = 1, repeats: int = 201) -> dict[str, Latency]:
    """Each activation of `ACTIVATIONS` run alone in ONNX Runtime on `shape`, timed interleaved (calls take
    tens of microseconds, so many repeats cost little and steady the medians)."""
    from .deploy import _need

    ort = _need("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32) * 4  # spans h-swish's three pieces
    calls = {}
    for name in ACTIVATIONS:
        sess = ort.InferenceSession(activation_model(name, shape), options, providers=["CPUExecutionProvider"])
        calls[name] = lambda sess=sess: sess.run(None, {"x": x})
    return time_interleaved(calls, warmup=5, repeats=repeats, threads=threads)


def ort_profile(path, runs: int = 20, threads: int = 1) -> dict[str, float]:
    """Where ONNX Runtime spends a forward pass: {operator type: µs per pass}, most expensive first, from
    ONNX Runtime's own profiler (the graph it runs, after fusions) over `runs` passes on a seeded input."""
    import json
    import tempfile
    from collections import Counter

    from .deploy import _load, _need

    ort = _need("onnxruntime")
    _load(path)
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.enable_profiling, options.profile_file_prefix = True, str(Path(tmp) / "profile")
        options.log_severity_level = 3
        sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        x = np.random.default_rng(0).standard_normal([d if isinstance(d, int) else 1 for d in inp.shape],
                                                     dtype=np.float32)
        for _ in range(runs):
            sess.run(None, {inp.name: x})
        events = json.loads(Path(sess.end_profiling()).read_text())
    total = Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            total[e["args"]["op_name"]] += e["dur"] / runs
    return dict(total.most_common())
