"""Whole-step CUDA-graph capture for ``fit`` and ``predict`` (``compile(jit_compile="auto")``).

On CUDA the training step (forward, loss, backward, clipping, optimizer update) runs as one captured
``torch.cuda.CUDAGraph`` per batch signature (shapes and dtypes of x, y, sample weights), replayed after copying the
batch into static buffers; ``predict`` replays a captured forward. Per signature the first ``WARMUP_STEPS`` batches
run the eager step on the capture stream (lazy initialisation), the next is captured, then replayed: every batch
runs once. At most ``CACHE_SIZE`` signatures are kept (LRU); other shapes (a short last batch) run eagerly. The host
keeps its bookkeeping around each replay: optimizer counters, schedules and per-step scalars (copied into a device
buffer the graph reads), loss trackers and metrics (from the graph's static outputs). The graph backs up weights and
optimizer slots and computes ``isfinite(loss)``; on a NaN the host restores the backup (the eager contract).
The graph records ``TrainStep.device_part`` (``_step.py``), the same forward, loss, backward and update the eager
executor runs; the optimizer's ``host_step`` runs before each replay, ``device_step`` inside the graph.
Eager, with the reason in ``model.last_step_path``: CPU, ``jit_compile=False``, torchrun, a layer whose
``capture_blocker()`` names a reason (stateful, mask-making, Embedding, seeded dropout), constraints, an optimizer
whose ``capture_blocker()`` does (Nadam, torch optimizers), a failed capture (warned once). Limits: a graph keeps the
Python-side settings it saw (trainable flags, loss weights); replaced weight tensors are detected.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Any, Callable

import torch

from ..utils._tree import flatten_structure, map_structure
from . import _distributed
from ._step import EagerExecutor, NonFiniteLoss, StepInputs, StepOutputs, StepPath, StepResult, TrainStep

WARMUP_STEPS = 3  # eager steps per batch signature before capture (torch's whole-network example uses 3)
CACHE_SIZE = 4  # captured signatures kept per model and kind
MAX_CAPTURES = 16  # captures per cache; beyond it (shapes that keep changing) new signatures stay eager


def check_jit_compile(value: Any, device: torch.device) -> None:
    """Checks ``compile(jit_compile=...)`` against what compile knows: the value and the device."""
    if isinstance(value, str) and value == "auto" or value is True or value is False:
        if value is True and device.type != "cuda":
            raise ValueError(required_message([f"the model runs on '{device}', and CUDA graphs need a CUDA device"]))
        return
    raise ValueError(f"compile(jit_compile=...) takes 'auto', True or False; received {value!r}. 'auto' captures "
                     "each training and prediction step as a CUDA graph when it can, True requires it, False "
                     "never captures.")


def required_message(reasons: list[str]) -> str:
    return (f"compile(jit_compile=True) requires each step to run as a captured CUDA graph, but capture cannot run "
            f"here: {'; '.join(reasons)}. Compile with jit_compile='auto' (capture when possible, eager otherwise) "
            "or jit_compile=False, or remove what prevents capture.")


def _layer_blockers(model) -> list[str]:
    """What each layer of ``model`` says rules capture out (``Layer.capture_blocker()``), in module order."""
    reasons = []
    for module in model.modules():
        ask = getattr(module, "capture_blocker", None)
        reason = ask() if callable(ask) else None
        if reason:
            reasons.append(reason)
    return reasons


def blockers(model, device: torch.device, jit_compile: Any, optimizer=None, constraints: bool = False) -> list[str]:
    """Every reason why steps of ``model`` cannot be captured (empty: they can)."""
    if jit_compile is False:
        return ["jit_compile=False"]
    reasons = []
    if device.type != "cuda":
        reasons.append(f"the model runs on '{device}', and CUDA graphs need a CUDA device")
    if _distributed.active():
        reasons.append("training is distributed (torchrun), and the gradient all-reduce runs eagerly")
    reasons += _layer_blockers(model)
    if optimizer is not None:
        reason = optimizer.capture_blocker()
        if reason is not None:
            reasons.append(reason)
    if constraints:
        reasons.append("weight constraints are applied after each step on the host side")
    return reasons


def _signature(*structures: Any) -> tuple:
    return tuple(None if t is None else (tuple(t.shape), t.dtype) for s in structures for t in flatten_structure(s))


def _shapes(key: tuple) -> str:
    """The shapes of a cache key ``(signature, extra)``, for reasons."""
    return ", ".join("None" if k is None else str(k[0]) for k in key[0])


@torch.no_grad()
def _copy_(targets: list[torch.Tensor], sources: list[torch.Tensor]) -> None:
    if hasattr(torch, "_foreach_copy_"):
        torch._foreach_copy_(targets, sources)
    else:
        for target, source in zip(targets, sources):
            target.copy_(source)


class ScalarBuffer:
    """Per-step optimizer scalars (one dict per param group, as ``Optimizer.host_step`` returns them) in device
    tensors: ``views`` are 0-d tensors for ``Optimizer.device_step``; ``fill`` writes the host's values."""

    def __init__(self, template: list[dict[str, float]], dtypes: list[torch.dtype], device: torch.device):
        self.keys = [sorted(group) for group in template]
        pinned = device.type == "cuda"
        self.host = [torch.zeros(max(len(k), 1), dtype=d, pin_memory=pinned) for k, d in zip(self.keys, dtypes)]
        self.device = [torch.zeros(max(len(k), 1), dtype=d, device=device) for k, d in zip(self.keys, dtypes)]
        self.views = [{key: buffer[i] for i, key in enumerate(keys)} for keys, buffer in zip(self.keys, self.device)]
        self._copied = torch.cuda.Event() if pinned else None

    def fill(self, values: list[dict[str, float]]) -> None:
        if self._copied is not None:
            self._copied.synchronize()  # the previous copy has read the pinned buffer (done: a step syncs once)
        for keys, host, device, group in zip(self.keys, self.host, self.device, values):
            if keys:
                host.numpy()[:] = [group[k] for k in keys]
                device.copy_(host, non_blocking=True)
        if self._copied is not None:
            self._copied.record()


class _Captured:
    """One captured step: the graph and the static tensors it reads and writes."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


class _Cache:
    """Captured steps by batch signature (LRU), the eager warm-up count of each signature, failures."""

    def __init__(self):
        self.entries: OrderedDict[tuple, _Captured] = OrderedDict()
        self.seen: dict[tuple, int] = {}
        self.failed: dict[tuple, str] = {}
        self.captures = 0
        self.warned = False
        self.blocked: str | None = None  # a reason found while running that rules out capture for this model
        self.stream = torch.cuda.Stream() if torch.cuda.is_available() else None

    def lookup(self, key: tuple) -> tuple[_Captured | None, str | None]:
        """(entry to replay, None), (None, None) to capture now, or (None, reason) to run eagerly."""
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key], None
        if key in self.failed:
            return None, self.failed[key]
        seen = self.seen.get(key, 0)
        if seen < WARMUP_STEPS:
            self.seen[key] = seen + 1
            other = f"; the captured batch shapes are ({_shapes(next(iter(self.entries)))})" if self.entries else ""
            return None, (f"warm-up: eager step {seen + 1} of {WARMUP_STEPS} for batch shapes ({_shapes(key)}), "
                          f"captured after that{other}")
        if self.captures >= MAX_CAPTURES:
            return None, (f"batch shapes ({_shapes(key)}) differ from the captured ones, and {MAX_CAPTURES} captures "
                          "were made already (batch shapes keep changing: pad batches to a fixed shape)")
        return None, None

    def store(self, key: tuple, entry: _Captured) -> None:
        self.captures += 1
        self.entries[key] = entry
        if len(self.entries) > CACHE_SIZE:
            self.entries.popitem(last=False)

    def fail(self, key: tuple, error: BaseException, where: str) -> str:
        if self.stream is not None:
            self.stream = torch.cuda.Stream()  # nothing of the failed capture stays attached to the next one
        reason = f"capture failed: {type(error).__name__}: {str(error).strip().splitlines()[0] if str(error) else ''}"
        self.failed[key] = reason
        if not self.warned:
            self.warned = True
            warnings.warn(f"The {where} step could not be captured as a CUDA graph ({reason}); it runs eagerly for "
                          "these batch shapes. To silence this, compile with jit_compile=False.", RuntimeWarning,
                          stacklevel=5)
        return reason

    def clear(self) -> None:
        self.entries.clear()

    def __deepcopy__(self, memo):  # a copied model starts without graphs
        return type(self)()

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.__init__()


def _on_side_stream(stream: torch.cuda.Stream | None, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on ``stream`` (warm-up on the capture stream, as torch's whole-network capture example does)."""
    if stream is None:
        return fn()
    current = torch.cuda.current_stream()
    stream.wait_stream(current)
    try:
        with torch.cuda.stream(stream):
            result = fn()
    finally:
        current.wait_stream(stream)
    for t in flatten_structure(result):
        if isinstance(t, torch.Tensor) and t.is_cuda:
            t.record_stream(current)  # made on the side stream, used and freed on this one
    return result


_SIMULATE = False  # test hook: run the body eagerly at each "replay" instead of capturing (CPU tests)


def _capture_graph(body: Callable[[], None], stream) -> tuple[Any, Any]:
    """(replay, graph) for ``body`` captured on ``stream``; (error, None) when capture raised; (body, None) when
    simulated. Capture runs no kernel, so a failed capture changes no weight."""
    if _SIMULATE:
        return body, None
    graph = torch.cuda.CUDAGraph()
    current = torch.cuda.current_stream()
    stream.wait_stream(current)
    try:
        with torch.cuda.graph(graph, stream=stream, capture_error_mode="thread_local"):
            body()
    except Exception as error:  # noqa: BLE001 - reported in last_step_path and warned once, never hidden
        # torch.cuda.graph's exit ends the capture before it restores the stream: when ending raised (the usual
        # consequence of an error inside the body), the capture stream is still current. The body's own error,
        # if any, is the context of the one that ending the capture raised.
        torch.cuda.set_stream(current)
        return (error.__context__ if isinstance(error.__context__, Exception) else error), None
    finally:
        current.wait_stream(stream)
    return graph.replay, graph


def _pointers(tensors: list[torch.Tensor]) -> list[int]:
    return [t.data_ptr() for t in tensors]


# --------------------------------------------------------------------------------------------------------- training
class CapturedExecutor:
    """Runs a ``TrainStep``: its device part replayed as a CUDA graph per batch signature, the host parts around
    the replay; eagerly (``EagerExecutor.run``) for warm-up, empty or uncaptured batches. Reports in
    ``model.last_step_path``."""

    def __init__(self, step: TrainStep):
        self.step = step
        self.model, self.compiled = step.model, step.compiled
        self.eager = EagerExecutor(step)
        self.required = getattr(self.compiled, "jit_compile", "auto") is True
        self.cache = _train_cache(self.compiled)
        self._captured_path = StepPath("captured", "static batch shapes on CUDA: the whole step replays one graph")

    def __call__(self, batch: tuple, class_weight: dict | None) -> StepResult:
        model, step = self.model, self.step
        if self.cache.blocked:
            model.last_step_path = StepPath("eager", self.cache.blocked)
            return self.eager.run(step.inputs(batch, class_weight))
        x, y, _ = batch
        if y is None or int(flatten_structure(x)[0].shape[0]) == 0:
            model.last_step_path = StepPath("eager", "an empty batch")
            return self.eager.run(step.inputs(batch, class_weight))
        inputs = step.inputs(batch, class_weight)  # class weights on the host, as the eager step (it reads labels)
        key = (_signature(inputs.x, inputs.y_true, inputs.weights), model.training)
        entry, reason = self.cache.lookup(key)
        if entry is not None and entry.pointers != _pointers(entry.state):
            self.cache.clear()  # weights or optimizer slots were replaced (not copied into): capture again
            entry, reason = None, ("the weights or optimizer slots were replaced since the capture (not copied into): "
                                   "this batch runs eagerly, the next one is captured again")
        if entry is None and reason is None:
            entry, reason = self._capture(key, inputs)
            if entry is None and self.required:
                raise ValueError(required_message([reason]))
        if entry is None:
            model.last_step_path = StepPath("eager", reason)
            result = _on_side_stream(self.cache.stream, lambda: self.eager.run(inputs))
            if step.outputs_masked:  # a mask from a layer that did not say it makes one
                self.cache.blocked = "the model's outputs carry a mask (mask layouts are analysed on the host)"
            return result
        model.last_step_path = self._captured_path
        return self._replay(entry, inputs)

    def _capture(self, key: tuple, inputs: StepInputs) -> tuple[_Captured | None, str | None]:
        step, optimizer = self.step, self.compiled.optimizer
        missing = optimizer.missing_slot()
        if missing is not None:
            return None, f"the optimizer has no slot {missing!r} for some weight (a weight without a gradient)"
        state = optimizer.state_tensors()
        sources = flatten_structure(inputs.x) + inputs.y_true + inputs.weights
        statics = [None if t is None else t.clone() for t in sources]
        it = iter(statics)
        static = StepInputs(map_structure(lambda _: next(it), inputs.x), [next(it) for _ in inputs.y_true],
                            [next(it) for _ in inputs.weights], inputs.size)
        backup = [torch.empty_like(t) for t in state]
        host = optimizer.host_state()
        template = optimizer.host_step()
        optimizer.restore_host_state(host)
        dtypes = [torch.float64 if group["params"][0].dtype == torch.float64 else torch.float32
                  for group in optimizer.torch_optimizer.param_groups]
        scalars = ScalarBuffer(template, dtypes, self.compiled.device)
        recorded: dict[str, Any] = {}

        def body() -> None:  # what the graph holds: device work only, no host sync, no Python state change
            _copy_(backup, state)  # the weights and slots before the update, restored on a non-finite loss
            outputs = step.device_part(static, scalars.views)
            recorded.update(outputs=outputs, finite=torch.isfinite(outputs.loss))

        replay, graph = _capture_graph(body, self.cache.stream)
        if isinstance(replay, BaseException):
            step.zero_grad()
            return None, self.cache.fail(key, replay, "training")
        entry = _Captured(replay=replay, graph=graph, statics=[t for t in statics if t is not None], state=state,
                          pointers=_pointers(state), backup=backup, scalars=scalars, inputs=static, recorded=recorded)
        self.cache.store(key, entry)
        return entry, None

    def _replay(self, entry: _Captured, inputs: StepInputs) -> StepResult:
        optimizer = self.compiled.optimizer
        sources = [t for t in flatten_structure(inputs.x) + inputs.y_true + inputs.weights if t is not None]
        _copy_(entry.statics, sources)
        host = optimizer.host_state()
        entry.scalars.fill(optimizer.host_step())
        entry.replay()
        outputs: StepOutputs = entry.recorded["outputs"]
        if not bool(entry.recorded["finite"]):  # one host sync per batch, as the eager step's check
            _copy_(entry.state, entry.backup)  # the weights and slots of before this batch
            optimizer.restore_host_state(host)
            raise NonFiniteLoss(float(outputs.loss.detach()))
        # outside the graph: trackers and metrics rebind tensors
        return self.step.finish(entry.inputs, StepOutputs([p.detach() for p in outputs.y_pred], outputs.loss,
                                                          outputs.per_output))


def _train_cache(compiled) -> _Cache:
    cache = getattr(compiled, "_step_graphs", None)
    if cache is None:
        cache = compiled._step_graphs = _Cache()
    return cache


# --------------------------------------------------------------------------------------------------------- predict
def jit_required(model) -> bool:
    return model.compiled is not None and getattr(model.compiled, "jit_compile", "auto") is True


class PredictSteps:
    """``model(x, training=False)`` per batch, captured per input signature when it can."""

    def __init__(self, model, device: torch.device):
        compiled = model.compiled
        jit = getattr(compiled, "jit_compile", "auto") if compiled is not None else "auto"
        reasons = blockers(model, device, jit)
        if reasons and jit is True:
            raise ValueError(required_message(reasons))
        self.model = model
        self.eager_path = StepPath("eager", "; ".join(reasons))
        self.cache = None
        if not reasons:
            self.cache = getattr(model, "_predict_graphs", None)
            if self.cache is None:
                self.cache = _Cache()
                object.__setattr__(model, "_predict_graphs", self.cache)
        self._captured_path = StepPath("captured", "static input shapes on CUDA: the forward replays one graph")

    def __call__(self, x: Any) -> Any:
        model = self.model
        if self.cache is None:
            model.last_step_path = self.eager_path
            return model(x, training=False)
        key = (_signature(x), tuple(_pointers(list(model.parameters()))))
        entry, reason = self.cache.lookup(key)
        if entry is None and reason is None:
            entry, reason = self._capture(key, x)
            if entry is None and jit_required(model):
                raise ValueError(required_message([reason]))
        if entry is None:
            model.last_step_path = StepPath("eager", reason)
            return _on_side_stream(self.cache.stream, lambda: model(x, training=False))
        model.last_step_path = self._captured_path
        _copy_(entry.statics, flatten_structure(x))
        entry.replay()
        return entry.outputs["out"]

    def _capture(self, key, x) -> tuple[_Captured | None, str | None]:
        model = self.model
        statics = [t.clone() for t in flatten_structure(x)]
        it = iter(statics)
        static_x = map_structure(lambda _: next(it), x)
        outputs: dict[str, Any] = {}

        def body() -> None:
            outputs["out"] = model(static_x, training=False)

        replay, graph = _capture_graph(body, self.cache.stream)
        if isinstance(replay, BaseException):
            return None, self.cache.fail(key, replay, "prediction")
        entry = _Captured(replay=replay, graph=graph, statics=statics, outputs=outputs)
        self.cache.store(key, entry)
        return entry, None
