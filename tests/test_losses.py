"""Losses against real Keras (torch backend): values and gradients, shapes (B, C) and (B, T, C), weights, masks."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

from gated import losses

B, T, C = 4, 5, 3

# name -> (gated class, keras class name, kwargs, kind of data)
CASES = {
    "mse": (losses.MeanSquaredError, "MeanSquaredError", {}, "regression"),
    "mae": (losses.MeanAbsoluteError, "MeanAbsoluteError", {}, "regression"),
    "mape": (losses.MeanAbsolutePercentageError, "MeanAbsolutePercentageError", {}, "regression"),
    "msle": (losses.MeanSquaredLogarithmicError, "MeanSquaredLogarithmicError", {}, "regression"),
    "huber": (losses.Huber, "Huber", {"delta": 0.7}, "regression"),
    "log_cosh": (losses.LogCosh, "LogCosh", {}, "regression"),
    "cosine_similarity": (losses.CosineSimilarity, "CosineSimilarity", {}, "regression"),
    "kld": (losses.KLDivergence, "KLDivergence", {}, "distribution"),
    "poisson": (losses.Poisson, "Poisson", {}, "distribution"),
    "hinge": (losses.Hinge, "Hinge", {}, "binary_logits"),
    "squared_hinge": (losses.SquaredHinge, "SquaredHinge", {}, "binary_logits"),
    "hinge_pm1": (losses.Hinge, "Hinge", {}, "signed_logits"),
    "categorical_hinge": (losses.CategoricalHinge, "CategoricalHinge", {}, "onehot_logits"),
    "bce": (losses.BinaryCrossentropy, "BinaryCrossentropy", {}, "binary_probs"),
    "bce_logits": (losses.BinaryCrossentropy, "BinaryCrossentropy", {"from_logits": True}, "binary_logits"),
    "bce_smooth": (losses.BinaryCrossentropy, "BinaryCrossentropy", {"label_smoothing": 0.2}, "binary_probs"),
    "bce_logits_smooth": (losses.BinaryCrossentropy, "BinaryCrossentropy",
                          {"from_logits": True, "label_smoothing": 0.1}, "binary_logits"),
    "cce": (losses.CategoricalCrossentropy, "CategoricalCrossentropy", {}, "onehot_probs"),
    "cce_logits": (losses.CategoricalCrossentropy, "CategoricalCrossentropy", {"from_logits": True}, "onehot_logits"),
    "cce_smooth": (losses.CategoricalCrossentropy, "CategoricalCrossentropy", {"label_smoothing": 0.1},
                   "onehot_probs"),
    "cce_logits_smooth": (losses.CategoricalCrossentropy, "CategoricalCrossentropy",
                          {"from_logits": True, "label_smoothing": 0.3}, "onehot_logits"),
    "scce": (losses.SparseCategoricalCrossentropy, "SparseCategoricalCrossentropy", {}, "sparse_probs"),
    "scce_logits": (losses.SparseCategoricalCrossentropy, "SparseCategoricalCrossentropy", {"from_logits": True},
                    "sparse_logits"),
}


def make_data(kind: str, shape: tuple[int, ...], rng: np.random.Generator, dtype=np.float32):
    """(y_true, y_pred) numpy arrays of ``shape`` (predictions) for one kind of loss."""
    pred = rng.normal(size=shape)
    if kind == "regression":
        y_true = rng.normal(size=shape)
        y_true.flat[0] = 0.0  # exercises MAPE's and MSLE's clipping
        return y_true.astype(dtype), pred.astype(dtype)
    if kind == "distribution":
        y_true = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
        y_pred = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
        y_pred.flat[0] = 0.0  # clipped to 1e-7
        return y_true.astype(dtype), y_pred.astype(dtype)
    if kind.startswith("binary"):
        y_true = (rng.random(shape) > 0.5).astype(dtype)
        y_pred = 1 / (1 + np.exp(-3 * pred)) if kind == "binary_probs" else pred
        if kind == "binary_probs":
            y_pred.flat[0] = 1.0  # clipped to 1 - 1e-7
        return y_true, y_pred.astype(dtype)
    if kind == "signed_logits":
        return np.where(rng.random(shape) > 0.5, 1.0, -1.0).astype(dtype), pred.astype(dtype)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    probs = np.exp(2 * pred) / np.exp(2 * pred).sum(-1, keepdims=True)
    y_pred = probs if kind.endswith("probs") else pred
    if kind.startswith("sparse"):
        return labels.astype(dtype), y_pred.astype(dtype)
    return np.eye(shape[-1])[labels].astype(dtype), y_pred.astype(dtype)


def keras_loss(keras, keras_name, kwargs, y_true, y_pred, sample_weight=None, mask=None, dtype=None, backward=True,
               **extra):
    """The Keras value and the gradient w.r.t. ``y_pred``."""
    from keras.src import backend

    pred = torch.tensor(y_pred, requires_grad=True)
    p = pred * 1.0  # a fresh tensor to carry the Keras mask
    if mask is not None:
        backend.set_keras_mask(p, torch.tensor(mask))
    loss = getattr(keras.losses, keras_name)(**kwargs, **extra, dtype=dtype)
    sw = None if sample_weight is None else torch.tensor(sample_weight)
    value = loss(torch.tensor(y_true), p, sample_weight=sw)
    if not backward:
        return value.detach().numpy(), None
    value.backward()
    return value.detach().numpy(), pred.grad.numpy()


def gated_loss(cls, kwargs, y_true, y_pred, sample_weight=None, mask=None, **extra):
    pred = torch.tensor(y_pred, requires_grad=True)
    value = cls(**kwargs, **extra)(y_true, pred, sample_weight=sample_weight, mask=mask)
    value.backward()
    return value.detach().numpy(), pred.grad.numpy()


def assert_close(ours, theirs):
    """Values and gradients agree to 1e-6. Float64 is no tighter: Keras on torch averages float64 in float32
    (``ops.mean`` casts to ``result_type(x.dtype, 'float32')``) and divides the reduction in float32
    (``divide_no_nan`` promotes with a weak Python float)."""
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", [(B, C), (B, T, C)], ids=["BC", "BTC"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_matches_keras_values_and_gradients(keras, case, shape, dtype):
    cls, keras_name, kwargs, kind = CASES[case]
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    y_true, y_pred = make_data(kind, shape, rng, dtype)
    kdtype = "float64" if dtype == np.float64 else None
    assert_close(gated_loss(cls, kwargs, y_true, y_pred),
                 keras_loss(keras, keras_name, kwargs, y_true, y_pred, dtype=kdtype))
    # sample weights: (B,) everywhere (Keras needs (B, 1) for (B, T) values) and (B, T) for sequences
    weights = rng.random(shape[:1]).astype(dtype)
    keras_weights = weights if len(shape) == 2 else weights[:, None]
    assert_close(gated_loss(cls, kwargs, y_true, y_pred, sample_weight=weights),
                 keras_loss(keras, keras_name, kwargs, y_true, y_pred, sample_weight=keras_weights, dtype=kdtype))
    if len(shape) == 3:
        weights = rng.random(shape[:2]).astype(dtype)
        assert_close(gated_loss(cls, kwargs, y_true, y_pred, sample_weight=weights),
                     keras_loss(keras, keras_name, kwargs, y_true, y_pred, sample_weight=weights, dtype=kdtype))


@pytest.mark.parametrize("shape", [(B, C), (B, T, C)], ids=["BC", "BTC"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_unreduced_values_match_keras_per_sample(keras, case, shape):
    cls, keras_name, kwargs, kind = CASES[case]
    y_true, y_pred = make_data(kind, shape, np.random.default_rng(zlib.crc32(case.encode())))
    ours = cls(**kwargs, reduction=None)(y_true, torch.tensor(y_pred))
    theirs = getattr(keras.losses, keras_name)(**kwargs, reduction=None)(y_true, y_pred)
    assert ours.shape == shape[:-1] and ours.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"])
@pytest.mark.parametrize("case", ["mse", "bce", "cce_logits", "scce"])
def test_loss_mask_and_reduction_match_keras(keras, case, reduction):
    """A (B, T) mask merges into the weights as Keras merges an output's ``_keras_mask``."""
    cls, keras_name, kwargs, kind = CASES[case]
    rng = np.random.default_rng(1)
    y_true, y_pred = make_data(kind, (B, T, C), rng)
    mask = rng.random((B, T)) > 0.4
    for sw in (None, rng.random((B, T)).astype(np.float32)):
        if reduction == "none":
            ours = cls(**kwargs, reduction=None)(y_true, torch.tensor(y_pred), sample_weight=sw, mask=mask)
            theirs = keras_loss(keras, keras_name, kwargs, y_true, y_pred, sw, mask, reduction=None, backward=False)
            np.testing.assert_allclose(ours.numpy(), theirs[0], rtol=1e-6, atol=1e-7)
        else:
            assert_close(gated_loss(cls, kwargs, y_true, y_pred, sw, mask, reduction=reduction),
                         keras_loss(keras, keras_name, kwargs, y_true, y_pred, sw, mask, reduction=reduction))


def test_loss_mask_with_per_sample_weights_broadcasts_over_time(keras):
    """Keras raises for (B,) or (B, 1) weights with a (B, T) mask; gated aligns the batch axis, which equals
    Keras given the weights repeated over time."""
    rng = np.random.default_rng(2)
    y_true, y_pred = make_data("regression", (B, T, C), rng, np.float64)
    mask, weights = rng.random((B, T)) > 0.3, rng.random(B)
    ours = gated_loss(losses.MeanSquaredError, {}, y_true, y_pred, sample_weight=weights, mask=mask)
    theirs = keras_loss(keras, "MeanSquaredError", {}, y_true, y_pred, sample_weight=np.repeat(weights[:, None], T, 1),
                        mask=mask, dtype="float64")
    assert_close(ours, theirs)


def test_fully_masked_batch_gives_zero_loss():
    y = torch.ones(2, 3, 1)
    value = losses.MeanSquaredError()(y, y * 2, mask=torch.zeros(2, 3, dtype=torch.bool))
    assert value.item() == 0.0


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_ignore_class_matches_keras(keras, from_logits):
    rng = np.random.default_rng(3)
    y_true, y_pred = make_data("sparse_logits" if from_logits else "sparse_probs", (B, T, C), rng, np.float64)
    y_true[0, :3] = -1
    y_true[2, 1] = -1
    mask = rng.random((B, T)) > 0.3
    kwargs = {"from_logits": from_logits, "ignore_class": -1}
    for m in (None, mask):
        ours = gated_loss(losses.SparseCategoricalCrossentropy, kwargs, y_true, y_pred, mask=m)
        theirs = keras_loss(keras, "SparseCategoricalCrossentropy", kwargs, y_true, y_pred, mask=m, dtype="float64")
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
        # Keras's own gradient is NaN for ignored rows of probabilities (0 / 0); ours is 0 there
        finite = np.isfinite(theirs[1])
        np.testing.assert_allclose(ours[1][finite], theirs[1][finite], rtol=1e-6, atol=1e-9)
        assert np.isfinite(ours[1]).all()


def test_sparse_labels_with_trailing_one_and_rank_one_predictions(keras):
    rng = np.random.default_rng(4)
    y_true, y_pred = make_data("sparse_probs", (B, C), rng, np.float64)
    ours = losses.SparseCategoricalCrossentropy()(y_true[:, None], torch.tensor(y_pred))
    theirs = keras.losses.SparseCategoricalCrossentropy(dtype="float64")(y_true[:, None], y_pred)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("case", ["mse", "bce", "bce_logits", "mae"])
def test_targets_of_rank_one_against_one_unit_outputs_match_keras(keras, case):
    """y_true (B,) against y_pred (B, 1), and (B, T) against (B, T, 1): Keras aligns the ranks first."""
    cls, keras_name, kwargs, kind = CASES[case]
    rng = np.random.default_rng(5)
    for shape in [(B, 1), (B, T, 1)]:
        y_true, y_pred = make_data(kind, shape, rng, np.float64)
        assert_close(gated_loss(cls, kwargs, y_true[..., 0], y_pred),
                     keras_loss(keras, keras_name, kwargs, y_true[..., 0], y_pred, dtype="float64"))


@pytest.mark.parametrize("name, function", [
    ("mean_squared_error", losses.mean_squared_error), ("mse", losses.mean_squared_error),
    ("kl_divergence", losses.kl_divergence), ("hinge", losses.hinge), ("huber", losses.huber),
    ("categorical_crossentropy", losses.categorical_crossentropy),
])
def test_loss_functions_match_keras_functions(keras, name, function):
    rng = np.random.default_rng(6)
    y_true = rng.dirichlet(np.ones(C), size=(B, T))
    y_pred = rng.dirichlet(np.ones(C), size=(B, T))
    ours = function(y_true, torch.tensor(y_pred))
    theirs = getattr(keras.losses, name if name != "mse" else "mean_squared_error")(y_true, y_pred)
    assert ours.shape == (B, T)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_get_resolves_names_like_keras():
    assert isinstance(losses.get("mse"), losses.MeanSquaredError) and losses.get("mse").name == "mse"
    assert losses.get("mean_squared_error").name == "mean_squared_error"
    assert losses.get("MeanSquaredError").name == "mean_squared_error"
    assert losses.get("MAE").name == "MAE"
    assert isinstance(losses.get("kld"), losses.KLDivergence)
    assert isinstance(losses.get("bce"), losses.BinaryCrossentropy)
    assert losses.get("huber").name == "huber" and losses.Huber().name == "huber_loss"
    assert losses.get(losses.Poisson).name == "poisson"
    loss = losses.BinaryCrossentropy(from_logits=True)
    assert losses.get(loss) is loss
    assert losses.get(None) is None
    config = losses.serialize(losses.CategoricalCrossentropy(label_smoothing=0.1))
    assert losses.get(config).label_smoothing == 0.1


def test_get_crossentropy_picks_by_shapes_like_keras():
    assert isinstance(losses.get("crossentropy", (8, 1), (8, 1)), losses.BinaryCrossentropy)
    assert isinstance(losses.get("ce", (8,), (8, 5)), losses.SparseCategoricalCrossentropy)
    assert isinstance(losses.get("crossentropy", (8, 10, 1), (8, 10, 5)), losses.SparseCategoricalCrossentropy)
    assert isinstance(losses.get("crossentropy", (8, 5), (8, 5)), losses.CategoricalCrossentropy)
    with pytest.raises(ValueError, match="resolved from the shapes"):
        losses.get("crossentropy")


def test_get_wraps_functions_and_torch_modules():
    y_true, y_pred = torch.randn(4, 3), torch.randn(4, 3)

    def my_loss(y_true, y_pred):
        return torch.mean(torch.abs(y_true - y_pred), dim=-1)

    wrapped = losses.get(my_loss)
    assert wrapped.name == "my_loss"
    torch.testing.assert_close(wrapped(y_true, y_pred), losses.get("mae")(y_true, y_pred))
    module = losses.get(torch.nn.MSELoss())
    torch.testing.assert_close(module(y_true, y_pred), losses.get("mse")(y_true, y_pred))
    assert module.name == "mse_loss"


def test_unknown_loss_name_suggests_the_closest():
    with pytest.raises(ValueError, match=r"Unknown loss 'mean_sqared_error'\. Did you mean 'mean_squared_error'\?"):
        losses.get("mean_sqared_error")
    with pytest.raises(ValueError, match=r"Did you mean 'BinaryCrossentropy'\?"):
        losses.get("BinaryCrossEntropy")
    with pytest.raises(TypeError, match="A loss must be a name"):
        losses.get(3)
    with pytest.raises(ValueError, match="Invalid loss reduction 'avg'"):
        losses.MeanSquaredError(reduction="avg")


def test_crossentropy_shape_mismatch_messages_say_how_to_fix():
    with pytest.raises(ValueError, match=r"Targets of shape \(32, 10, 2\) do not match the predictions \(32, 10, 1\) "
                                         r"for loss 'binary_crossentropy'\. The targets look one-hot encoded"):
        losses.BinaryCrossentropy()(torch.zeros(32, 10, 2), torch.full((32, 10, 1), 0.5))
    with pytest.raises(ValueError, match="look like integer class labels; use loss='sparse_categorical_crossentropy'"):
        losses.CategoricalCrossentropy()(torch.zeros(8, dtype=torch.long), torch.full((8, 4), 0.25))
    with pytest.raises(ValueError, match="look one-hot encoded; use loss='categorical_crossentropy'"):
        losses.SparseCategoricalCrossentropy()(torch.zeros(8, 4), torch.full((8, 4), 0.25))
    with pytest.raises(ValueError, match=r"received the integer label 4, but the predictions have 4 classes"):
        losses.SparseCategoricalCrossentropy()(torch.tensor([0, 4]), torch.full((2, 4), 0.25))


def test_categorical_crossentropy_on_one_class_warns():
    with pytest.warns(UserWarning, match="single class, so the loss is always 0"):
        losses.CategoricalCrossentropy()(torch.ones(4, 1), torch.ones(4, 1))


def test_half_precision_predictions_are_computed_in_float32():
    value = losses.MeanSquaredError()(torch.ones(4, 2), torch.zeros(4, 2, dtype=torch.bfloat16))
    assert value.dtype == torch.float32 and value.item() == 1.0


@pytest.mark.gpu
@pytest.mark.filterwarnings("ignore:Synchronization debug mode is a prototype:UserWarning")
def test_losses_on_cuda_match_cpu_under_autocast_without_host_syncs():
    """Every loss runs on CUDA inside autocast (float16 outputs are raised to float32) and never syncs the host."""
    device = torch.device("cuda")
    rng = np.random.default_rng(9)
    mask = torch.tensor(rng.random((B, T)) > 0.3)
    weights = torch.tensor(rng.random(B), dtype=torch.float32)
    for case in sorted(CASES):
        cls, _, kwargs, kind = CASES[case]
        y_true, y_pred = (torch.tensor(a) for a in make_data(kind, (B, T, C), rng))
        expected = cls(**kwargs)(y_true, y_pred, sample_weight=weights, mask=mask)
        args = [t.to(device) for t in (y_true, y_pred, weights, mask)]
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            with torch.autocast("cuda", dtype=torch.float16):
                value = cls(**kwargs)(args[0], args[1].half(), sample_weight=args[2], mask=args[3])
        finally:
            torch.cuda.set_sync_debug_mode("default")
        assert value.dtype == torch.float32, case
        np.testing.assert_allclose(value.cpu().numpy(), expected.numpy(), rtol=2e-3, atol=2e-3, err_msg=case)
