"""mnv3lib.latency: the measurement protocol (warm-up, repeats, eval, no autograd, fixed and restored
threads, interleaving) and the structure of its results. No assertion depends on how fast this machine is."""
import pytest
import torch
from torch import nn

import mnv3lib
from mnv3lib import latency
from mnv3lib.latency import Latency, compare, fixed_threads, measure, measure_many


class Spy(nn.Module):
    """A tiny model that records, at every call, what the measurement set up around it."""

    def __init__(self, tag: str = "spy", log: list | None = None):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.tag, self.log = tag, ([] if log is None else log)

    def forward(self, x):
        self.log.append((self.tag, self.training, torch.is_inference_mode_enabled(),
                         torch.get_num_threads(), tuple(x.shape)))
        return self.conv(x)


def test_measure_warms_up_then_times_each_call_in_eval_mode_without_autograd():
    spy = Spy().train()
    lat = measure(spy, 16, "spy", warmup=3, repeats=7, threads=1)
    assert len(spy.log) == 3 + 7
    assert all(tag == "spy" and not training and inference and threads == 1 and shape == (1, 3, 16, 16)
               for tag, training, inference, threads, shape in spy.log)
    assert spy.training, "the model's training mode is restored afterwards"
    assert isinstance(lat, Latency) and len(lat.times_ms) == 7
    assert lat.name == "spy" and lat.input_size == (3, 16, 16) and lat.threads == 1
    assert all(t > 0 for t in lat.times_ms)
    lo, hi = lat.iqr_ms
    assert min(lat.times_ms) <= lo <= lat.median_ms <= hi <= max(lat.times_ms)
    assert "spy @16×16" in str(lat) and "median of 7" in str(lat)


def test_thread_count_is_fixed_during_and_restored_after():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        spy = Spy()
        measure(spy, 8, warmup=0, repeats=2, threads=1)
        assert {threads for *_, threads, _ in spy.log} == {1}
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError, match="boom"), fixed_threads(1):
            assert torch.get_num_threads() == 1
            raise RuntimeError("boom")
        assert torch.get_num_threads() == 2, "restored even when the measured code fails"
    finally:
        torch.set_num_threads(before)


def test_compare_interleaves_model_and_reference_in_abba_order():
    log = []
    a, b = Spy("a", log), Spy("b", log)
    r = compare(a, b, (3, 8, 12), ("a", "b"), warmup=1, repeats=4, threads=1)
    assert [tag for tag, *_ in log] == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]
    assert r.model.input_size == r.reference.input_size == (3, 8, 12)
    assert r.ratio == pytest.approx(r.model.median_ms / r.reference.median_ms)
    assert "ratio a / b" in str(r)


def test_a_model_against_itself_is_about_one():
    model = mnv3lib.mobilenet_v3_small()
    r = compare(model, model, 64, ("v3s", "v3s again"), warmup=2, repeats=15)
    # a generous bound: only a broken protocol (say, timing one side's warm-up) lands outside it
    assert 0.5 < r.ratio < 2.0


def test_measure_many_builds_lazily_and_brackets_with_the_reference():
    built, progress = [], []

    def factory(tag):
        def build():
            built.append(tag)
            return Spy(tag)
        return build

    entries = [("x", factory("x"), 8), ("y", factory("y"), 16), ("z", Spy("z"), (3, 9, 9))]
    table = measure_many(entries, ("ref", factory("ref"), 8), progress=lambda *a: progress.append(a),
                         warmup=1, repeats=3, threads=1, rounds=1)
    assert built == ["ref", "x", "y", "ref"]  # one at a time, in order; the model instance is used as is
    assert progress == [(0, 5, "ref"), (1, 5, "x"), (2, 5, "y"), (3, 5, "z"), (4, 5, "ref"), (5, 5, "")]
    assert [r.name for r in table] == ["x", "y", "z"] and len(table) == 3
    assert table["z"].input_size == (3, 9, 9) and table[1].name == "y"
    assert len(table.reference.times_ms) == 6, "the reference pools its before and after runs"
    assert table.drift > 0
    assert table.ratio("y") == pytest.approx(table["y"].median_ms / table.reference.median_ms)
    with pytest.raises(KeyError, match="name: got 'w'"):
        table["w"]
    assert "× reference" in str(table) and "drift" in str(table) and "<table>" in table._repr_html_()


def test_measure_many_in_rounds_pools_every_rounds_calls():
    log, built, progress = [], [], []

    def build(tag):
        built.append(tag)
        return Spy(tag, log)

    table = measure_many([("x", lambda: build("x"), 8), ("y", lambda: build("y"), 8)],
                         ("ref", lambda: build("ref"), 8), progress=lambda *a: progress.append(a),
                         warmup=1, repeats=5, threads=1, rounds=2)
    # two passes over reference, x, y, reference; each model rebuilt per round
    assert built == ["ref", "x", "y", "ref"] * 2
    assert [p[:2] for p in progress] == [(i, 8) for i in range(9)] and progress[-1][2] == ""
    # ceil(5 / 2) = 3 timed calls per round, pooled: 6 per model, 12 for the reference
    assert [len(r.times_ms) for r in table] == [6, 6] and len(table.reference.times_ms) == 12
    assert [tag for tag, *_ in log].count("x") == 2 * (1 + 3)  # warm-up again in every round
    with pytest.raises(ValueError, match="rounds: got 0"):
        measure_many([("x", Spy(), 8)], ("ref", Spy(), 8), rounds=0)


def test_quick_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv(latency.ENV, "1")
    assert latency.quick_mode() and latency.settings() == latency.QUICK
    monkeypatch.setenv(latency.ENV, "0")
    assert not latency.quick_mode() and latency.settings() == latency.FULL
    assert latency.settings(quick=True) == latency.QUICK
    monkeypatch.delenv(latency.ENV)
    assert latency.quick_mode(), "unset: quick inside pytest (the chapters' kernels inherit this variable)"
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    assert not latency.quick_mode()
    monkeypatch.setenv(latency.ENV, "fast")
    with pytest.raises(ValueError, match="MNV3LIB_QUICK: got 'fast'"):
        latency.quick_mode()
    assert latency.QUICK.repeats < latency.FULL.repeats and latency.QUICK.threads == latency.FULL.threads == 1


@pytest.mark.parametrize("kwargs, message", [
    (dict(input_size=0), "input_size: got 0"),
    (dict(input_size=(3, 8)), r"input_size: got \(3, 8\)"),
    (dict(repeats=0), "repeats: got 0"),
    (dict(warmup=-1), "warmup: got -1"),
    (dict(threads=0), "threads: got 0"),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        measure(Spy(), **{"input_size": 8, **kwargs})


def test_bad_entries_are_named():
    with pytest.raises(ValueError, match="entry: got"):
        measure_many([(Spy(), 8)], ("ref", Spy(), 8))


def test_time_by_type_names_the_papers_layer_types_and_leaves_no_hooks():
    small = mnv3lib.mobilenet_v3_small()
    times = latency.time_by_type(small, 64, warmup=1, repeats=3)
    assert {"pointwise 1×1", "depthwise 3×3", "depthwise 5×5", "conv 3×3", "FC", "SE", "BatchNorm",
            "h-swish", "ReLU", "pool", "other"} == set(times)
    assert list(times.values()) == sorted(times.values(), reverse=True)
    assert all(t > 0 for k, t in times.items() if k != "other")
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in small.modules())
    # the same types as the MAdds breakdown, so time shares and MAdds shares line up
    madds_types = set(mnv3lib.cost_table(small, 64).by_type()) - {"BN & other"}
    assert madds_types <= set(times)
    v2 = latency.time_by_type(mnv3lib.mobilenet_v2(0.35), 64, warmup=0, repeats=2)
    assert "ReLU6" in v2 and "SE" not in v2 and "h-swish" not in v2
