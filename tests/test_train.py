"""mnv3lib.train: a short training reaches a stated accuracy, deterministically; bad input gets one line."""
import math

import pytest
import torch
from test_data import raises

import mnv3lib
from mnv3lib import configs, data, train

SIZE = 16  # chapter 6's input size


@pytest.fixture(scope="module")
def digits():
    return {s: data.digits(s, size=SIZE) for s in data.SPLITS}


@pytest.fixture(scope="module")
def trained(digits):
    """V3-Small at width 0.25, 3 epochs: the accuracy guard and the determinism check share it."""
    model = train.build("v3-small", 0.25, seed=0, input_size=SIZE)
    history = train.fit(model, digits["train"], digits["val"], epochs=3, seed=0)
    return model, history


def test_a_short_training_reaches_90_percent_on_the_test_split(trained, digits):
    model, history = trained
    assert set(history) == {"train_loss", "train_acc", "val_loss", "val_acc"}
    assert all(len(v) == 3 for v in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert train.evaluate(model, digits["test"])["acc"] >= 0.90


def test_training_is_deterministic(trained, digits):
    model = train.build("v3-small", 0.25, seed=0, input_size=SIZE)
    history = train.fit(model, digits["train"], digits["val"], epochs=3, seed=0)
    assert history == trained[1]
    for a, b in zip(model.state_dict().values(), trained[0].state_dict().values()):
        assert torch.equal(a, b)


def test_fit_restores_batchnorm_momentum_and_leaves_eval_mode(digits):
    model = train.build("v3-small", 0.25, seed=1, input_size=SIZE)
    sub = torch.utils.data.Subset(digits["train"], range(64))
    train.fit(model, sub, epochs=1, batch_size=32)
    assert not model.training
    assert {m.momentum for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)} == {0.01}


def test_recalibrated_statistics_are_the_exact_batch_averages(digits):
    model = train.build("v1", 0.25, seed=0, input_size=SIZE)
    x = digits["train"].tensors[0][:50]
    train.recalibrate_bn(model, torch.utils.data.TensorDataset(x, torch.zeros(50, dtype=torch.long)), 50)
    bn = model.stem.bn
    with torch.no_grad():
        y = model.stem.conv(x)
    assert torch.allclose(bn.running_mean, y.mean((0, 2, 3)), atol=1e-5)


def test_nan_loss_stops_with_epoch_and_step(digits):
    model = train.build("v3-small", 0.25, seed=0, input_size=SIZE)
    with torch.no_grad():
        model.classifier[-1].weight.fill_(math.nan)
    with raises(r"loss: got nan at epoch 1, step 1, expected a finite number", train.TrainingDiverged):
        train.fit(model, digits["val"], epochs=1)


@pytest.mark.parametrize("field, value", [("epochs", 0), ("epochs", 2.5), ("batch_size", -1),
                                          ("batch_size", "64"), ("epochs", True)])
def test_epochs_and_batch_size_must_be_positive_integers(digits, field, value):
    model = train.build("v3-small", 0.25, input_size=SIZE)
    with raises(rf"{field}: got {value!r}, expected a positive integer"):
        train.fit(model, digits["val"], **{field: value})


def test_class_count_must_match_the_data(digits):
    model = train.build("v3-small", 0.25, num_classes=5, input_size=SIZE)
    with raises(r"num_classes: the model has 5 outputs, train_ds has 10 classes"):
        train.fit(model, digits["val"], epochs=1)


def test_checkpoint_round_trip_with_weights_only(tmp_path, trained, digits):
    model, history = trained
    path = train.save_checkpoint(model, tmp_path / "m.pt", history=history)
    torch.load(path, weights_only=True)  # plain tensors and values only
    fresh = train.build("v3-small", 0.25, seed=5, input_size=SIZE)
    extra = train.load_checkpoint(fresh, path)
    assert extra["history"] == history and extra["width"] == 0.25
    x = digits["test"].tensors[0][:8]
    assert torch.equal(fresh.eval()(x), model.eval()(x))


@pytest.mark.parametrize("other", [lambda: train.build("v3-small", 0.5, input_size=SIZE),
                                   lambda: train.build("v2", 0.25, input_size=SIZE)])
def test_a_checkpoint_of_another_architecture_or_width_is_refused(tmp_path, trained, other):
    path = train.save_checkpoint(trained[0], tmp_path / "m.pt")
    with raises(r"checkpoint: .* holds arch 'v3-small for 16×16 images', width 0.25, num_classes 10 "
                r"\(.*\), expected arch"):
        train.load_checkpoint(other(), path)
    with raises(r"checkpoint: got .*missing.pt', expected an existing file"):
        train.load_checkpoint(other(), tmp_path / "missing.pt")


def test_digits_model_is_cached_and_equals_the_experiment_that_saved_it(tmp_path, monkeypatch):
    from mnv3lib import experiments

    monkeypatch.setenv(train.CACHE_ENV, str(tmp_path))
    record = experiments.run(experiments.Run("v3-small", 0.25, epochs=1, size=SIZE, cache=True))
    assert len(list(tmp_path.glob("*.pt"))) == 1
    a = train.digits_model("v3-small", 0.25, epochs=1, size=SIZE)  # loaded from the cache
    assert a.history == record["history"] and a.input_size == SIZE and not a.training
    assert train.evaluate(a, data.digits("test", SIZE))["acc"] == record["test_acc"]
    b = train.digits_model("v3-small", 0.25, epochs=1, size=SIZE, cache=False)  # trained here: the same network
    assert b.history == a.history
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    with raises(r"arch: got 'v4', expected one of v1, v2, v3-small, v3-large"):
        train.digits_model("v4")


def test_small_image_rows_pass_their_own_shape_check():
    for arch in mnv3lib.models.ARCHS:
        rows = configs.for_small_images(mnv3lib.models.paper_rows(arch), 32)
        mnv3lib.check_table(rows, 32)  # raises ShapeError on any wrong Input
        strides = [r.s if isinstance(r, configs.V2Row) else r.stride for r in rows]
        paper = [r.s if isinstance(r, configs.V2Row) else r.stride for r in mnv3lib.models.paper_rows(arch)]
        assert sum(a != b for a, b in zip(strides, paper)) == 2  # the stem and the first stage only
        assert mnv3lib.models.small_image_model(arch, 0.25, input_size=32).total_stride == 8


def test_ablation_variants_change_only_what_they_name():
    from mnv3lib import experiments

    rows = mnv3lib.models.paper_rows("v3-small")
    relu = experiments.variant_rows("v3-small", "relu-only")
    assert [r.nl for r in relu if r.nl is not None and r.operator != "conv2d NBN"] == ["RE"] * 13
    assert [r.nl for r in relu if r.operator == "conv2d NBN"] == [r.nl for r in rows if r.operator == "conv2d NBN"]
    no_se = experiments.variant_rows("v3-small", "no-se")
    assert not any(r.se for r in no_se) and [r.exp for r in no_se] == [r.exp for r in rows]
    model = experiments.build_variant("v2", 0.25, "relu-projection")
    blocks = [b for b in model.modules() if isinstance(b, mnv3lib.blocks.InvertedResidual)]
    assert blocks and all(isinstance(b.project.act, torch.nn.ReLU6) for b in blocks)
    assert mnv3lib.count_params(model) == mnv3lib.count_params(experiments.build_variant("v2", 0.25))
    with raises(r"variant: got 'no-se' for 'v1', expected a v3 network"):
        experiments.build_variant("v1", 0.25, "no-se")
    with raises(r"variant: got 'swish', expected one of paper, relu-projection, relu-only, no-se"):
        experiments.Run("v3-small", 0.25, "swish")
    with raises(r"cache: got True for .*, expected only the paper's variant trained with train.RECIPE"):
        experiments.run(experiments.Run("v3-small", 0.25, "no-se", cache=True))


def test_curves_draw_records_and_refuse_unknown_metrics():
    import matplotlib

    matplotlib.use("Agg")
    from mnv3lib import curves

    record = {"arch": "v3-small", "width": 0.25, "variant": "no-se", "seed": 0,
              "history": {"train_acc": [0.5, 0.8], "val_acc": [0.6, 0.9], "train_loss": [1.0, 0.5],
                          "val_loss": [0.9, 0.4]}}
    assert curves.label(record) == "v3-small ×0.25, no-se"
    fig = curves.learning_curves([record], "loss")
    assert len(fig.axes[0].lines) == 2
    with raises(r"metric: got 'f1', expected 'acc' or 'loss'"):
        curves.learning_curves([record], "f1")
    with raises(r"cost: got 'latency', expected 'madds' or 'params'"):
        curves.accuracy_vs_cost({}, [], "latency")
