"""One training step, several executors (gated/training/_step.py, _executors.py, _graphs.py): the eager and the
captured executor run the same TrainStep and end an epoch with the same weights; each layer says why it rules
capture out (capture_blocker); the optimizer's public split step; fit's arguments as a checked FitConfig."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import gated
from gated import optimizers
from gated.layers import (GRU, LSTM, RNN, Attention, Bidirectional, Dense, Dropout, Embedding, GRUCell, Masking,
                          MinGRU, TimeDistributed)
from gated.training import _executors, _graphs
from gated.training._batch import class_weights
from gated.training._loop import FitConfig
from gated.training._step import EagerExecutor, NonFiniteLoss, StepPath, StepResult, TrainStep


def _model(seed=0):
    torch.manual_seed(seed)
    return gated.Sequential([GRU(8, return_sequences=True, input_shape=(10, 1)), Dense(1, activation="sigmoid")])


def _batches(n=128, batch=32, seed=0):
    rng = np.random.default_rng(seed)
    x = torch.as_tensor(rng.random((n, 10, 1), dtype=np.float32))
    y = (x > 0.5).float()
    return [(x[i:i + batch], y[i:i + batch], None) for i in range(0, n, batch)]


def _compiled(optimizer, seed=0):
    model = _model(seed)
    model.compile(optimizer=optimizer(), loss="binary_crossentropy", metrics=["accuracy"], device="cpu")
    x, y, _ = _batches()[0]
    model.compiled.build([y], [model(x)])  # what fit's first batch does: losses, metrics, optimizer bound
    return model


# ------------------------------------------------------------------------- one step, two executors
EXECUTOR_OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(0.1),
    "sgd_nesterov_clipnorm": lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True, clipnorm=0.5),
    "rmsprop_centered": lambda: optimizers.RMSprop(0.01, centered=True),
    "adam": lambda: optimizers.Adam(0.01),
    "adamw_global_clipnorm": lambda: optimizers.AdamW(0.01, global_clipnorm=0.5),
    "adagrad": lambda: optimizers.Adagrad(0.05),
    "adamax": lambda: optimizers.Adamax(0.01),
    "adadelta": lambda: optimizers.Adadelta(1.0),
}


@pytest.mark.parametrize("name", sorted(EXECUTOR_OPTIMIZERS))
def test_eager_and_simulated_captured_executors_end_an_epoch_with_the_same_weights(simulated, name):
    eager_model, captured_model = _compiled(EXECUTOR_OPTIMIZERS[name]), _compiled(EXECUTOR_OPTIMIZERS[name])
    for a, b in zip(eager_model.parameters(), captured_model.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)  # the same start
    eager = EagerExecutor(TrainStep(eager_model, eager_model.compiled), "reference")
    captured = _executors.choose_executor(TrainStep(captured_model, captured_model.compiled))
    assert isinstance(captured, _graphs.CapturedExecutor)
    paths, eager_losses, captured_losses = [], [], []
    for model in (eager_model, captured_model):
        model.train()
    for epoch in range(2):  # epoch 1: 3 warm-up steps, the capture; epoch 2: replays only
        for batch in _batches(seed=epoch):
            eager_losses.append(float(eager(batch, None).loss))
            captured_losses.append(float(captured(batch, None).loss))
            paths.append(captured_model.last_step_path.name)
    assert paths == ["eager"] * 3 + ["captured"] * 5
    assert eager_model.last_step_path == StepPath("eager", "reference")
    np.testing.assert_allclose(captured_losses, eager_losses, rtol=1e-6, atol=1e-7)
    for a, b in zip(captured_model.get_weights(), eager_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert captured_model.optimizer.iterations == eager_model.optimizer.iterations == 8
    assert captured.step.steps_taken == eager.step.steps_taken == 8
    accuracy = [float(m.compiled.metrics[0][0].result()) for m in (captured_model, eager_model)]
    assert accuracy[0] == pytest.approx(accuracy[1], abs=1e-6)


def test_both_executors_run_the_parts_of_the_one_train_step(simulated, monkeypatch):
    calls = {"forward": 0, "loss": 0, "backward": 0, "update": 0, "finish": 0}

    def counted(name):
        real = getattr(TrainStep, name)

        def wrapper(self, *args, **kwargs):
            calls[name] += 1
            return real(self, *args, **kwargs)
        return wrapper

    for name in calls:
        monkeypatch.setattr(TrainStep, name, counted(name))
    model = _compiled(lambda: optimizers.Adam(0.01))
    model.train()
    captured = _executors.choose_executor(TrainStep(model, model.compiled))
    for batch in _batches():  # 3 eager warm-up steps, then the capture and its replay
        captured(batch, None)
    assert model.last_step_path.name == "captured"
    # every part once per step: three eager steps, then the simulated replay runs the recorded device part
    # (forward, loss, backward, update); finish runs on the host after each step, captured or not
    assert calls == {"forward": 4, "loss": 4, "backward": 4, "update": 4, "finish": 4}


def test_the_eager_executor_checks_the_targets_before_the_loss():
    model = _compiled(lambda: optimizers.Adam(0.01))
    x, y, _ = _batches()[0]
    with pytest.raises(ValueError, match=r"Targets of shape \(32, 10, 3\) do not match the model output "
                                         r"\(32, 10, 1\) for loss 'binary_crossentropy'"):
        EagerExecutor(TrainStep(model, model.compiled))((x, y.repeat(1, 1, 3), None), None)
    assert model.optimizer.iterations == 0


def test_a_non_finite_loss_stops_the_eager_step_before_the_update():
    model = _compiled(lambda: optimizers.Adam(0.01))
    before = model.get_weights()
    x, y, _ = _batches()[0]
    x[0, 0, 0] = float("nan")
    step = TrainStep(model, model.compiled)
    with pytest.raises(NonFiniteLoss):
        EagerExecutor(step)((x, y, None), None)
    assert step.steps_taken == 0 and model.optimizer.iterations == 0
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_on_the_cpu_the_chosen_executor_is_eager_with_the_reason():
    model = _compiled(lambda: optimizers.Adam(0.01))
    executor = _executors.choose_executor(TrainStep(model, model.compiled))
    assert isinstance(executor, EagerExecutor)
    result = executor(_batches()[0], None)
    assert isinstance(result, StepResult) and result.size == 32
    assert model.last_step_path == StepPath("eager", "the model runs on 'cpu', and CUDA graphs need a CUDA device")


def test_class_weights_of_an_empty_slice_are_empty():
    """Under torchrun a rank's slice of a short last global batch may hold no sample."""
    weights = class_weights({0: 1.0, 1: 3.0}, torch.zeros(0, 1))
    assert weights.shape == (0,)
    np.testing.assert_array_equal(class_weights({0: 1.0, 1: 3.0}, torch.tensor([[1.0], [0.0], [1.0]])),
                                  [3.0, 1.0, 3.0])


# ------------------------------------------------------------------------- capture_blocker, per layer
@pytest.mark.parametrize("build, reason", [
    (lambda: GRU(4, stateful=True, name="s_gru"),
     "layer 's_gru' (GRU) is stateful (its states change between batches on the host)"),
    (lambda: LSTM(4, stateful=True, name="s_lstm"),
     "layer 's_lstm' (LSTM) is stateful (its states change between batches on the host)"),
    (lambda: MinGRU(4, stateful=True, name="s_min"),
     "layer 's_min' (MinGRU) is stateful (its states change between batches on the host)"),
    (lambda: RNN(GRUCell(4, dropout=0.2, seed=1, name="seeded_cell"), name="rnn_seeded"),
     "layer 'seeded_cell' (GRUCell) draws dropout masks from its own seeded generator"),
    (lambda: RNN([GRUCell(4, seed=1, name="c1"), GRUCell(4, name="c2"), GRUCell(4, seed=2, name="c3")]),
     "layer 'c1' (GRUCell) draws dropout masks from its own seeded generator; "
     "layer 'c3' (GRUCell) draws dropout masks from its own seeded generator"),
    (lambda: RNN(GRUCell(4, seed=1, name="both_cell"), stateful=True, name="both"),
     "layer 'both' (RNN) is stateful (its states change between batches on the host); "
     "layer 'both_cell' (GRUCell) draws dropout masks from its own seeded generator"),
    (lambda: Masking(name="masking_layer"),
     "layer 'masking_layer' (Masking) makes a mask (mask layouts are analysed on the host)"),
    (lambda: Embedding(10, 4, mask_zero=True, name="emb_masked"),
     "layer 'emb_masked' (Embedding) makes a mask (mask layouts are analysed on the host)"),
    (lambda: Embedding(10, 4, name="emb"), "layer 'emb' (Embedding) checks its indices on the host every batch"),
    (lambda: Dropout(0.5, seed=3, name="seeded_dropout"),
     "layer 'seeded_dropout' (Dropout) draws dropout masks from its own seeded generator"),
])
def test_each_layer_that_blocks_capture_gives_its_reason(build, reason):
    assert build().capture_blocker() == reason


@pytest.mark.parametrize("build", [
    lambda: GRU(4), lambda: LSTM(4, dropout=0.2, recurrent_dropout=0.2), lambda: Dense(3), lambda: Dropout(0.5),
    lambda: MinGRU(4), lambda: Attention(dropout=0.1, seed=3), lambda: TimeDistributed(Dense(2)),
    lambda: RNN([GRUCell(4), GRUCell(4)]),
], ids=["gru", "lstm_dropout", "dense", "dropout", "min_gru", "attention", "time_distributed", "stacked_cells"])
def test_layers_without_host_work_do_not_block_capture(build):
    assert build().capture_blocker() is None


def test_a_model_gathers_the_reasons_of_every_layer_in_module_order():
    model = gated.Sequential([Embedding(10, 4, mask_zero=True, input_shape=(6,), name="e"),
                              Bidirectional(GRU(4, seed=1, return_sequences=True, name="g")),
                              TimeDistributed(Dropout(0.5, seed=2, name="d"))])
    reasons = _graphs._layer_blockers(model)
    forward, backward = model.layers[1].forward_layer, model.layers[1].backward_layer
    assert reasons == [
        "layer 'e' (Embedding) makes a mask (mask layouts are analysed on the host)",
        f"layer '{forward.cell.name}' (GRUCell) draws dropout masks from its own seeded generator",
        f"layer '{backward.cell.name}' (GRUCell) draws dropout masks from its own seeded generator",
        "layer 'd' (Dropout) draws dropout masks from its own seeded generator",
    ]
    assert _graphs._layer_blockers(_model()) == []


def test_a_custom_layer_rules_capture_out_by_overriding_capture_blocker():
    class HostCheck(gated.layers.Layer):
        def forward(self, inputs):
            return inputs

        def capture_blocker(self):
            return f"layer '{self.name}' (HostCheck) reads its inputs on the host"

    model = gated.Sequential([GRU(4, input_shape=(10, 1)), HostCheck(name="check"), Dense(1)])
    assert _graphs.blockers(model, torch.device("cuda"), "auto") == ["layer 'check' (HostCheck) reads its inputs on "
                                                                     "the host"]


# ------------------------------------------------------------------------- the optimizer's public split step
def test_state_tensors_are_the_parameters_then_their_slots_and_missing_slots_are_named():
    params = [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))]
    opt = optimizers.Adam(0.1).build(params)
    assert opt.missing_slot() == "momentum"  # no update yet: the slots do not exist
    params[0].grad = torch.ones(3)
    opt.step()
    assert opt.missing_slot() == "momentum"  # the second weight has had no gradient
    params[1].grad = torch.ones(2)
    opt.step()
    assert opt.missing_slot() is None
    state = opt.state_tensors()
    assert state[0] is params[0] and state[1] is params[1] and len(state) == 2 + 2 * 2
    assert state[2] is opt.torch_optimizer.state[params[0]]["momentum"]


def test_host_step_then_device_step_equals_step():
    grads = [torch.tensor([0.5, -1.0]), torch.tensor([2.0])]
    eager_params = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(1))]
    split_params = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(1))]
    eager = optimizers.Adam(0.1, clipvalue=0.8).build(eager_params)
    split = optimizers.Adam(0.1, clipvalue=0.8).build(split_params)
    for _ in range(3):
        for p, q, g in zip(eager_params, split_params, grads):
            p.grad, q.grad = g.clone(), g.clone()
        eager.step()
        split.device_step(split.host_step())  # Python numbers: the same arithmetic as step()
    for p, q in zip(eager_params, split_params):
        torch.testing.assert_close(q, p, rtol=0, atol=0)
    assert split.host_state() == (3, [{k: v for k, v in g.items() if k != "params"}
                                      for g in eager.torch_optimizer.param_groups])


def test_a_torch_optimizer_refuses_the_split_step_and_says_to_call_step():
    opt = optimizers.TorchOptimizer(torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1))
    assert "wraps a torch optimizer (SGD)" in opt.capture_blocker()
    for method in (opt.host_step, lambda: opt.device_step([{}]), opt.state_tensors, opt.missing_slot):
        with pytest.raises(TypeError, match=r"Optimizer 'sgd' wraps a torch optimizer \(SGD\), whose step cannot "
                                            r"be split into host_step\(\) and device_step\(\), so it has no .*\(\)\. "
                                            r"Call step\(\), which runs the whole update\."):
            method()


def test_the_split_step_of_an_unbuilt_optimizer_says_to_build_it():
    with pytest.raises(ValueError, match=r"Optimizer 'adam' is not built yet, so it has no host_step\(\)\. Call "
                                         r"optimizer\.build\(model\.parameters\(\)\) first"):
        optimizers.Adam().host_step()
    assert optimizers.Adam().capture_blocker() == "optimizer 'adam' is not built"


# ------------------------------------------------------------------------- FitConfig
@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, r"batch_size must be a positive integer, received 0\. The usual choices are 16 to 256; the "
                        r"default is 32\."),
    ({"batch_size": 2.5}, r"batch_size must be a positive integer, received 2\.5\."),
    ({"epochs": -1}, r"epochs must be a non-negative integer, received -1\."),
    ({"epochs": True}, r"epochs must be a non-negative integer, received True\."),
    ({"validation_split": 1.0}, r"validation_split must be a fraction in \[0, 1\), received 1\.0\. For example "
                                r"validation_split=0\.2 keeps the last 20% of the samples for validation\."),
    ({"validation_split": "0.2"}, r"validation_split must be a fraction in \[0, 1\), received '0\.2'\."),
    ({"verbose": 3}, r"verbose must be 'auto', 0 \(silent\), 1 \(progress bar\) or 2 \(one line per epoch\); "
                     r"received 3\."),
])
def test_fit_config_refuses_bad_values_with_the_messages_fit_gives(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FitConfig(**kwargs)
    model = _model()
    model.compile(optimizer="adam", loss="binary_crossentropy", device="cpu")
    x, y, _ = _batches()[0]
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.fit(x.numpy(), y.numpy(), **{"verbose": 0, **kwargs})
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fit_config_holds_the_resolved_values_and_is_frozen():
    config = FitConfig(verbose=0)
    assert config.batch_size == 32 and config.verbose == 0 and config.epochs == 1 and config.validation_freq == 1
    assert FitConfig(verbose="auto").verbose in (1, 2)
    assert "x=" not in repr(FitConfig(x=np.zeros((1000, 10, 1)), verbose=0))  # data is not printed
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epochs = 3
