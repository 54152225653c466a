"""training_mode (gated/utils/_modes.py) and the calls that use it: the caller's mode comes back, also after an
error."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gated
from gated.layers import GRU, Dense
from gated.utils._modes import training_mode


def _module():
    return torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))


@pytest.mark.parametrize("start", [False, True])
@pytest.mark.parametrize("mode", [False, True, None])
def test_the_mode_holds_inside_and_the_previous_one_comes_back(start, mode):
    module = _module().train(start)
    with training_mode(module, mode) as inside:
        assert inside is module
        expected = start if mode is None else mode
        assert module.training is expected and all(m.training is expected for m in module.modules())
    assert module.training is start and all(m.training is start for m in module.modules())


@pytest.mark.parametrize("mode", [False, True, None])
def test_the_previous_mode_comes_back_when_the_block_raises(mode):
    module = _module().train(True)
    with pytest.raises(RuntimeError, match="inside"):
        with training_mode(module, mode):
            module.eval()  # the block may switch modes itself
            raise RuntimeError("inside")
    assert module.training and all(m.training for m in module.modules())


def test_a_mode_that_is_not_a_bool_is_refused():
    with pytest.raises(TypeError, match=r"training_mode takes mode=True \(training\), False \(inference\) or None "
                                        r"\(keep the current mode\); received int 1\."):
        with training_mode(_module(), 1):
            pass


def _compiled_model():
    model = gated.Sequential([GRU(4, input_shape=(10, 1)), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", device="cpu")
    return model


class _Raise(gated.callbacks.Callback):
    def __init__(self, hook):
        super().__init__()
        setattr(self, hook, self._raise)

    def _raise(self, *args, **kwargs):
        raise RuntimeError(f"raised while the model was in {'training' if self.model.training else 'inference'}")


X = np.random.default_rng(0).random((16, 10, 1), dtype=np.float32)
Y = (X[:, -1] > 0.5).astype(np.float32)


@pytest.mark.parametrize("start", [False, True])
@pytest.mark.parametrize("call, hook, mode_inside", [
    (lambda m, cb: m.fit(X, Y, epochs=1, verbose=0, callbacks=[cb]), "on_train_batch_end", "training"),
    (lambda m, cb: m.evaluate(X, Y, verbose=0, callbacks=[cb]), "on_test_batch_end", "inference"),
    (lambda m, cb: m.predict(X, verbose=0, callbacks=[cb]), "on_predict_batch_end", "inference"),
])
def test_fit_evaluate_and_predict_put_the_mode_back_after_an_error(start, call, hook, mode_inside):
    model = _compiled_model()
    model.fit(X, Y, epochs=1, verbose=0)
    model.train(start)
    with pytest.raises(RuntimeError, match=f"raised while the model was in {mode_inside}"):
        call(model, _Raise(hook))
    assert model.training is start and all(m.training is start for m in model.modules())


def test_a_failed_first_build_in_fit_puts_the_mode_back():
    """The first batch runs in inference mode to build the losses and metrics; a bad input there used to leave the
    model in inference mode."""
    model = _compiled_model()
    model.train()
    with pytest.raises(ValueError, match="features=1"):
        model.fit(np.zeros((16, 10, 3), np.float32), Y, epochs=1, verbose=0)
    assert model.training and all(m.training for m in model.modules())


def test_train_on_batch_trains_and_then_puts_inference_mode_back():
    model = _compiled_model()
    seen = []
    dense = model.layers[-1]
    handle = dense.register_forward_hook(lambda module, args, out: seen.append(module.training))
    model.train_on_batch(X, Y)
    handle.remove()
    assert seen == [False, True] and not model.training  # the first build in inference mode, then the step
