"""``Streamer``: a trained model run one timestep per call, its recurrent states carried between calls.

``streamer.step(x_t)`` returns what the full model returns for the sequence seen so far: for a model whose
output is a sequence, ``model(x[:, :t + 1])[:, -1]``; for a model that reduces the sequence
(``return_sequences=False``), ``model(x[:, :t + 1])``. Each step costs one step of every recurrent layer, not a
pass over the whole prefix.

How a model is run (``streamer.paths`` lists the choice made for every layer, and why):

* values that change every timestep ("step" values, (B, ...)) and per-sequence vectors after a recurrent layer
  with ``return_sequences=False`` ("vector" values, (B, H)) live in preallocated numpy buffers;
* GRU / LSTM / SimpleRNN layers with the standard activations run as fast numpy kernels (gated's C++ step for
  the GRU), chosen by ``gated.kernels._dispatch.decide_step``, the module that decides the layers' own kernels;
  Dense, Embedding, Activation, Concatenate and Add run as numpy kernels (``_stream_kernels``); other recurrent
  cells (MinGRU, custom cells) run their own torch step (``fast=False`` forces torch code everywhere, the reference
  the fast kernels are tested against);
* whatever follows a reduced sequence and is not a Dense-like layer (``RepeatVector`` and a decoder, say) is
  called as the model would call it, once per step, in ``torch.inference_mode``.

Layers that need timesteps the stream has not delivered yet, or that mix timesteps, raise ``ValueError`` when the
streamer is created: ``Bidirectional``, ``go_backwards=True``, masks (``Masking``, ``Embedding(mask_zero=True)``),
``Flatten``/``Reshape``/``Lambda`` over time, and any layer this module does not know to act per timestep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from ..kernels import _dispatch, _step
from ..kernels._dispatch import Kernel
from ..layers._base import Layer
from ..layers._bidirectional import Bidirectional
from ..layers._core import Activation, Add, Concatenate, Dense, Dropout, Embedding, Masking
from ..layers._recurrent import RNN
from ..layers._symbolic import SymbolicTensor
from ..layers._wrappers import TimeDistributed
from ..utils._tree import flatten_structure, map_structure
from . import _stream_kernels as K
from ._trace import Call, Program, trace

State = list[np.ndarray]


@dataclass(frozen=True)
class KernelChoice:
    """What runs one layer call in a ``Streamer`` (``kernel``, an enum; ``detail``, in words), and why."""

    layer: str
    kernel: Kernel
    detail: str
    reason: str

    def __str__(self) -> str:
        return f"{self.layer}: {self.detail} ({self.reason})"


@dataclass(eq=False)
class _Value:
    kind: str  # 'step' | 'vector' | 'eager'
    buf: np.ndarray | None = None  # step / vector values
    with_one: np.ndarray | None = None  # [buf, 1], when the producer keeps one
    slot: int = -1  # eager values: index into the engine's slots
    pending_input: bool = False  # a model input whose buffer is not placed yet


_NOT_PER_STEP = ("its output at one timestep depends on other timesteps (or on the whole sequence), so it cannot "
                 "run one timestep at a time")
# The layers that compute a timestep from that timestep alone (looked up along a layer class's MRO): the planner,
# and whether it also runs on the per-sequence vectors that follow a reduced sequence.
_STEP_PLANS: dict[type, tuple[str, bool]] = {
    Dropout: ("_plan_dropout", True), Dense: ("_plan_dense", True), Activation: ("_plan_activation", True),
    Concatenate: ("_plan_merge", True), Add: ("_plan_merge", True), Embedding: ("_plan_embedding", False),
    RNN: ("_plan_recurrent", False),
}
_TIME_DISTRIBUTABLE = (Dense, Dropout, Activation, Embedding)


def _step_plan(layer_class: type) -> tuple[str, bool] | None:
    return next((_STEP_PLANS[c] for c in layer_class.__mro__ if c in _STEP_PLANS), None)


class _Engine:
    """Buffers and kernels for one batch size; ``run`` performs one timestep."""

    def __init__(self, program: Program, batch: int, fast: bool):
        self.batch = batch
        self.fast = fast
        self.kernels: list[K.Run] = []
        self.paths: list[KernelChoice] = []
        self.slots: list[Any] = []
        self.recurrent: list[tuple[Layer, list[np.ndarray]]] = []
        self.uses_torch = False
        self._values: dict[int, _Value] = {}
        self._consumers = program.consumers()
        self.input_shapes: list[tuple[int, ...]] = []
        for t in program.inputs:
            self._values[id(t)] = _Value("step", pending_input=True)
            self.input_shapes.append((batch,) + _step_shape(t))
        self._inputs = list(program.inputs)
        for call in program.calls:
            self._plan(call)
        self.input_bufs = [self._buffer_of(t) for t in program.inputs]
        self.output_getters = [self._getter(t) for t in program.output_list]
        self.run1 = self._single_lane() if len(self.input_bufs) == len(self.output_getters) == 1 else None

    # ------------------------------------------------------------------ running
    def run(self, xs: list[np.ndarray]) -> list[np.ndarray]:
        for buf, x in zip(self.input_bufs, xs):
            buf[...] = x  # shapes were checked; numeric dtypes cast like numpy's unsafe casting
        if self.uses_torch:
            with torch.inference_mode():
                for kernel in self.kernels:
                    kernel()
        else:
            for kernel in self.kernels:
                kernel()
        return [get() for get in self.output_getters]

    def _single_lane(self) -> Callable[[np.ndarray], np.ndarray]:
        """``run`` for one input and one output, with everything bound to locals (the batch-1 hot path)."""
        buf, get, kernels = self.input_bufs[0], self.output_getters[0], tuple(self.kernels)
        if self.uses_torch:
            def run_torch(x: np.ndarray) -> np.ndarray:
                buf[...] = x
                with torch.inference_mode():
                    for kernel in kernels:
                        kernel()
                return get()

            return run_torch
        if len(kernels) == 1:
            only = kernels[0]

            def run_one(x: np.ndarray) -> np.ndarray:
                buf[...] = x
                only()
                return get()

            return run_one

        def run_numpy(x: np.ndarray) -> np.ndarray:
            buf[...] = x
            for kernel in kernels:
                kernel()
            return get()

        return run_numpy

    def reset(self) -> None:
        for _, states in self.recurrent:
            for s in states:
                s.fill(0)

    def get_state(self) -> State:
        return [s.copy() for _, states in self.recurrent for s in states]

    def set_state(self, state: State) -> None:
        flat = [s for _, states in self.recurrent for s in states]
        for dst, src in zip(flat, state):
            np.copyto(dst, src, casting="unsafe")

    def state_spec(self) -> list[tuple[str, tuple[int, ...]]]:
        return [(layer.name, s.shape[1:]) for layer, states in self.recurrent for s in states]

    # ------------------------------------------------------------------ buffers
    def _buffer_of(self, t: SymbolicTensor) -> np.ndarray:
        value = self._values[id(t)]
        if value.pending_input:
            index = next(i for i, x in enumerate(self._inputs) if x is t)
            value.buf = np.zeros(self.input_shapes[index], K.np_dtype(t.dtype))
            value.pending_input = False
        return value.buf

    def _new(self, shape: tuple[int, ...], dtype: torch.dtype) -> np.ndarray:
        return np.zeros((self.batch,) + tuple(shape), K.np_dtype(dtype))

    def _src(self, t: SymbolicTensor, dtype: torch.dtype) -> np.ndarray:
        """The buffer holding ``t`` in ``dtype`` (a cast copy is added when a layer computes in another dtype)."""
        buf = self._buffer_of(t)
        want = K.np_dtype(dtype)
        if buf.dtype == want:
            return buf
        cast = np.zeros(buf.shape, want)
        self.kernels.append(lambda: np.copyto(cast, buf, casting="unsafe"))
        return cast

    def _getter(self, t: SymbolicTensor) -> Callable[[], np.ndarray]:
        value = self._values[id(t)]
        if value.kind == "eager":
            slots, slot = self.slots, value.slot
            return lambda: slots[slot].detach().cpu().numpy().copy()
        buf = self._buffer_of(t)
        return buf.copy

    # ------------------------------------------------------------------ planning
    def _plan(self, call: Call) -> None:
        layer = call.layer
        inputs = call.tensor_args()
        kinds = {self._values[id(t)].kind for t in inputs}
        per_step = "step" in kinds
        if per_step:
            _check_streamable(layer, call, kinds)
        distributed = isinstance(layer, TimeDistributed)
        inner = layer.layer if distributed else layer
        if per_step and distributed and not isinstance(inner, _TIME_DISTRIBUTABLE):
            raise _error(layer, "TimeDistributed streams Dense, Dropout, Activation and Embedding layers only; "
                                f"it wraps {type(inner).__name__}")
        vector_ok = kinds == {"vector"} and not distributed
        if per_step or vector_ok:
            plan = _step_plan(type(inner))
            on_vectors = plan is not None and plan[1] and (not isinstance(inner, Dense) or len(inputs[0].shape) == 2)
            if plan is not None and (per_step or on_vectors):
                return getattr(self, plan[0])(call, inner, "step" if per_step else "vector")
            if per_step:
                raise _error(layer, _NOT_PER_STEP)
        self._plan_eager(call)

    def _plan_dropout(self, call: Call, layer: Dropout, kind: str) -> None:
        self._values[id(call.outputs[0])] = self._values[id(call.tensor_args()[0])]
        self.paths.append(KernelChoice(call.layer.name, Kernel.IDENTITY, "identity", "dropout is off at inference"))

    def _plan_dense(self, call: Call, layer: Dense, kind: str) -> None:
        t = call.tensor_args()[0]
        value = self._values[id(t)]
        dtype = layer.compute_dtype
        src = self._src(t, dtype)
        with_one = value.with_one if value.with_one is not None and value.buf is src else None
        out = np.zeros(src.shape[:-1] + (layer.units,), K.np_dtype(dtype))
        if self.fast:
            self.kernels.append(K.dense_kernel(layer, src, with_one, out))
            how = "numpy: one np.dot" + (" with the bias folded in" if with_one is not None else " + bias")
            if K.numpy_activation(layer.activation) is None:
                how += ", activation through torch"
            self.paths.append(KernelChoice(call.layer.name, Kernel.NUMPY, how, "Dense"))
        else:
            self._reference(call.layer, [src], out, K.dense_reference(layer))
        self._values[id(call.outputs[0])] = _Value(kind, out)

    def _plan_activation(self, call: Call, layer: Activation, kind: str) -> None:
        t = call.tensor_args()[0]
        src = self._buffer_of(t)
        out = np.zeros_like(src)
        act = K.numpy_activation(layer.activation) if self.fast else None
        if act is None:
            self._reference(call.layer, [src], out, layer.activation)
        else:
            self.kernels.append(lambda: act(src, out))
            self.paths.append(KernelChoice(call.layer.name, Kernel.NUMPY, "numpy", "built-in activation"))
        self._values[id(call.outputs[0])] = _Value(kind, out)

    def _plan_merge(self, call: Call, layer: Layer, kind: str) -> None:
        inputs = call.tensor_args()
        srcs = [self._buffer_of(t) for t in inputs]
        if isinstance(layer, Concatenate):
            rank = len(inputs[0].shape)
            axis = layer.axis % rank
            time_axis = 1 if kind == "step" else None
            if axis == 0 or axis == time_axis:
                raise _error(layer, f"it concatenates along axis {layer.axis} ({'time' if axis == 1 else 'batch'})"
                                    "; streaming can concatenate features only")
            axis = axis - 1 if kind == "step" else axis
            shape = list(srcs[0].shape)
            shape[axis] = sum(s.shape[axis] for s in srcs)
            out = np.zeros(shape, srcs[0].dtype)
            self.kernels.append(lambda: np.concatenate(srcs, axis=axis, out=out))
        else:
            out = np.zeros(np.broadcast_shapes(*(s.shape for s in srcs)), srcs[0].dtype)
            first, rest = srcs[0], srcs[1:]

            def add() -> None:
                np.add(first, rest[0], out=out)
                for s in rest[1:]:
                    np.add(out, s, out=out)

            self.kernels.append(add)
        self.paths.append(KernelChoice(layer.name, Kernel.NUMPY, "numpy", type(layer).__name__))
        self._values[id(call.outputs[0])] = _Value(kind, out)

    def _plan_embedding(self, call: Call, layer: Embedding, kind: str) -> None:
        t = call.tensor_args()[0]
        ids = self._src(t, torch.int64)
        out = np.zeros(ids.shape + (layer.output_dim,), K.np_dtype(layer.compute_dtype))
        self.kernels.append(K.embedding_kernel(layer, ids, out))
        self.paths.append(KernelChoice(call.layer.name, Kernel.NUMPY, "numpy: np.take", "Embedding"))
        self._values[id(call.outputs[0])] = _Value("step", out)

    def _plan_recurrent(self, call: Call, layer: RNN, kind: str) -> None:
        t = call.tensor_args()[0]
        cell = layer.cell
        dtype = layer.compute_dtype
        value = self._values[id(t)]
        choice = _dispatch.decide_step(layer, self.fast)
        features = int(t.shape[-1])
        if len(t.shape) != 3:
            raise _error(layer, f"it expects input of shape (batch, timesteps, features), received {t.shape}")
        if choice.kernel is Kernel.TORCH:
            src = self._src(t, dtype)
            states = [self._new((size,), dtype) for size in layer.state_size]
            out = self._new((layer._output_size(),), dtype)
            with_one = None
            self.kernels.append(choice.run(layer, src, out, states))
            self.uses_torch = True
        else:
            buffers = _step.RecurrentBuffers(self.batch, features, cell.units, K.np_dtype(dtype),
                                             extra_states=cell.spec.states - 1)
            alias = (value.pending_input and len(self._consumers.get(id(t), [])) == 1
                     and K.np_dtype(t.dtype) == buffers.v.dtype)
            if alias:  # the model input is copied straight into the layer's row buffer
                value.buf, value.pending_input = buffers.x, False
                src = None
            else:
                src = self._src(t, dtype)
            self.kernels.append(choice.run(cell, src, buffers))
            states = buffers.states
            out, with_one = buffers.h, buffers.h1
        self.paths.append(KernelChoice(layer.name, choice.kernel, choice.detail, choice.reason))
        self.recurrent.append((layer, states))
        kind = "step" if layer.return_sequences else "vector"
        self._values[id(call.outputs[0])] = _Value(kind, out, with_one)
        for extra, state in zip(call.outputs[1:], states):
            self._values[id(extra)] = _Value("vector", state)

    def _reference(self, layer: Layer, srcs: list[np.ndarray], out: np.ndarray, fn: Callable) -> None:
        self.kernels.append(K.reference_layer_kernel(layer, srcs, out, fn))
        self.uses_torch = True
        self.paths.append(KernelChoice(layer.name, Kernel.TORCH, "torch: the layer's own code",
                                       "fast=False" if not self.fast else "activation without a numpy kernel"))

    def _plan_eager(self, call: Call) -> None:
        layer = call.layer
        if isinstance(layer, RNN) and layer.stateful:
            raise _error(layer, "it is stateful and runs after the sequence was reduced, where it would carry "
                                "state from one step's prediction to the next")
        getters: dict[int, Callable[[], torch.Tensor]] = {}
        for t in flatten_structure((call.args, call.kwargs)):
            if isinstance(t, SymbolicTensor):
                getters[id(t)] = self._tensor_getter(t)

        def resolve(leaf: Any) -> Any:
            return getters[id(leaf)]() if isinstance(leaf, SymbolicTensor) else leaf

        first = len(self.slots)
        self.slots.extend([None] * len(call.outputs))
        slots = self.slots
        args, kwargs = call.args, call.kwargs

        def run() -> None:  # the engine runs torch kernels in inference mode
            result = layer(*map_structure(resolve, args), **map_structure(resolve, kwargs))
            outs = flatten_structure(result) if isinstance(result, (list, tuple)) else [result]
            slots[first:first + len(outs)] = outs

        self.kernels.append(run)
        self.uses_torch = True
        for i, t in enumerate(call.outputs):
            self._values[id(t)] = _Value("eager", slot=first + i)
        self.paths.append(KernelChoice(layer.name, Kernel.TORCH, "torch: the layer's own call",
                                       "runs once per step on the prediction so far"))

    def _tensor_getter(self, t: SymbolicTensor) -> Callable[[], torch.Tensor]:
        value = self._values[id(t)]
        if value.kind == "eager":
            slots, slot = self.slots, value.slot
            return lambda: slots[slot]
        view = torch.from_numpy(self._buffer_of(t))
        return lambda: view


def _step_shape(t: SymbolicTensor) -> tuple[int, ...]:
    if len(t.shape) < 2:
        raise ValueError(f"Streaming needs every model input to be a sequence (batch, timesteps, ...); input "
                         f"'{t.name}' has shape {t.shape}.")
    rest = t.shape[2:]
    if any(d is None for d in rest):
        raise ValueError(f"Streaming needs the feature sizes of input '{t.name}' (shape {t.shape}); build the model "
                         "with known feature sizes.")
    return tuple(int(d) for d in rest)


def _error(layer: Layer, why: str) -> ValueError:
    return ValueError(f"Streaming cannot run {layer._describe()}: {why}.")


def _check_streamable(layer: Layer, call: Call, kinds: set[str]) -> None:
    if kinds != {"step"}:
        raise _error(layer, "it combines per-timestep values with values that summarise the whole sequence so "
                            "far, which changes at every step")
    if isinstance(layer, Bidirectional):
        raise _error(layer, "a Bidirectional layer also reads the sequence backwards, so its output at step t "
                            "depends on steps that have not arrived yet. Stream a model with unidirectional "
                            "recurrent layers")
    if isinstance(layer, Masking):
        raise _error(layer, "masks are not supported when streaming; send only the real timesteps and remove "
                            "the Masking layer from the streamed model")
    inner = layer.layer if isinstance(layer, TimeDistributed) else layer
    if isinstance(inner, Embedding) and inner.mask_zero:
        raise _error(layer, "mask_zero=True makes id 0 a masked step, and masks are not supported when streaming;"
                            " send only the real timesteps")
    if isinstance(layer, RNN):
        if layer.go_backwards:
            raise _error(layer, "go_backwards=True processes the sequence from its last step, which a stream has "
                                "not seen yet")
        if call.tensor_kwargs():
            raise _error(layer, f"it takes {sorted(call.tensor_kwargs())} from other layers; a streamed recurrent "
                                "layer starts from zeros (set streamer.state to start elsewhere)")
    elif call.tensor_kwargs():
        raise _error(layer, f"it takes {sorted(call.tensor_kwargs())} from other layers")


class Streamer:
    """Online prediction: ``streamer.step(x_t)`` gives the model's output for everything streamed so far.

    ``Streamer(model, batch_size=1, fast=True)``; ``model`` is a trained ``Sequential`` or functional ``Model``.
    The weights are copied when the streamer is created: create a new one after changing them.

    * ``step(x_t)``: ``x_t`` is one timestep of every stream, ``x[:, t]`` of what the model takes: (B, F) for
      (B, T, F) inputs, (B,) integer ids for an ``Embedding`` front end. An input without the batch axis ((F,) or a
      scalar id) is one stream, and its output comes back without the batch axis too. Returns a new numpy array
      (or torch tensor, for a torch input) of the model's output shape without the time axis.
    * ``step(x_t, state)`` -> ``(y, new_state)``: the functional form, for serving many sessions. It uses and
      changes nothing inside the streamer; ``state`` is any batch size (stack sessions along axis 0).
    * ``state``: the current states, a list of (B, size) arrays, one per recurrent state in layer order (an LSTM
      has two: h, c); ``state_spec`` names them. Assign to set them; ``initial_state(batch_size)`` gives zeros.
    * ``reset(batch_size=None)``: back to zero states (and to a new number of streams if given).
    * ``paths``: what runs each layer and why (numpy fast kernels, or torch reference code).

    The recurrent states always start from zeros: a ``stateful`` layer's stored states are not used.
    """

    def __init__(self, model: Layer, batch_size: int = 1, fast: bool = True):
        self.model = model
        self.fast = bool(fast)
        self._program = trace(model, "streaming")
        self._structure = self._program.outputs
        self._engines: dict[int, _Engine] = {}  # functional form, by batch size
        self._engine = self._make_engine(_check_batch(batch_size))
        self._single_input = len(self._program.inputs) == 1
        self._plain_output = isinstance(self._structure, SymbolicTensor)

    def _make_engine(self, batch: int) -> _Engine:
        return _Engine(self._program, batch, self.fast)

    # ------------------------------------------------------------------ introspection
    @property
    def batch_size(self) -> int:
        return self._engine.batch

    @property
    def paths(self) -> list[KernelChoice]:
        return list(self._engine.paths)

    @property
    def state_spec(self) -> list[tuple[str, tuple[int, ...]]]:
        """``(layer name, per-stream shape)`` of each entry of ``state``, in order."""
        return self._engine.state_spec()

    # ------------------------------------------------------------------ state
    def reset(self, batch_size: int | None = None) -> None:
        """Zero every state; with ``batch_size``, also change the number of streams."""
        if batch_size is not None and _check_batch(batch_size) != self._engine.batch:
            self._engine = self._make_engine(batch_size)
        else:
            self._engine.reset()

    def initial_state(self, batch_size: int | None = None) -> State:
        batch = self._engine.batch if batch_size is None else _check_batch(batch_size)
        return [np.zeros((batch,) + shape, dtype=s.dtype)
                for (_, shape), s in zip(self.state_spec, self._engine.get_state())]

    @property
    def state(self) -> State:
        return self._engine.get_state()

    @state.setter
    def state(self, state: State) -> None:
        state = self._check_state(state)
        if state and state[0].shape[0] != self._engine.batch:  # a new number of streams
            self._engine = self._make_engine(state[0].shape[0])
        self._engine.set_state(state)

    def _check_state(self, state: Any) -> State:
        spec = self.state_spec
        if isinstance(state, (np.ndarray, torch.Tensor)):
            state = [state]
        if not isinstance(state, (list, tuple)):
            raise TypeError(f"A streamer state is a list of arrays (see streamer.state_spec); received "
                            f"{type(state).__name__}.")
        arrays = [s.detach().cpu().numpy() if isinstance(s, torch.Tensor) else np.asarray(s) for s in state]
        batch = arrays[0].shape[0] if arrays and arrays[0].ndim else None
        expected = [(batch,) + shape for _, shape in spec]
        received = [a.shape for a in arrays]
        if received != expected:
            names = ", ".join(f"{name} {(('B',) + shape)}" for name, shape in spec)
            raise ValueError(f"The state must be {len(spec)} array(s) with one batch size B: {names}; received "
                             f"{len(arrays)} of shape(s) {received}. Start from streamer.initial_state(B).")
        return arrays

    # ------------------------------------------------------------------ stepping
    def step(self, x_t: Any, state: State | None = None) -> Any:
        """One timestep; see the class docstring. With ``state``: returns ``(y, new_state)``."""
        if state is not None:
            return self._functional_step(x_t, state)
        engine = self._engine
        run1 = engine.run1
        if run1 is not None and type(x_t) is np.ndarray and x_t.shape == engine.input_shapes[0] \
                and x_t.dtype.kind in "fiub" and self._plain_output:  # the hot path: one batched numpy input
            return run1(x_t)
        xs, unbatched, as_torch = self._inputs(x_t, engine.batch)
        return self._pack(engine.run(xs), unbatched, as_torch)

    def _functional_step(self, x_t: Any, state: State) -> tuple[Any, State]:
        state = self._check_state(state)
        batch = state[0].shape[0] if state else None
        xs, unbatched, as_torch = self._inputs(x_t, batch)
        batch = xs[0].shape[0]
        engine = self._engines.get(batch)
        if engine is None:
            engine = self._engines[batch] = self._make_engine(batch)
        engine.set_state(state)
        ys = engine.run(xs)
        new_state = engine.get_state()
        if as_torch:
            new_state = [torch.from_numpy(s) for s in new_state]
        return self._pack(ys, unbatched, as_torch), new_state

    def _inputs(self, x_t: Any, batch: int | None) -> tuple[list[np.ndarray], bool, bool]:
        given = [x_t] if self._single_input else _as_list(x_t, self._program)
        as_torch = any(isinstance(x, torch.Tensor) for x in given)
        arrays = [x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x) for x in given]
        shapes = [s[1:] for s in self._engine.input_shapes]
        unbatched = all(a.shape == s for a, s in zip(arrays, shapes))
        if unbatched:
            arrays = [a[None] for a in arrays]
        for a, s, t in zip(arrays, shapes, self._program.inputs):
            if a.dtype.kind not in "fiub":
                raise TypeError(f"Streaming expects numeric input, received an array of dtype {a.dtype}.")
            if a.shape[1:] != s or (batch is not None and a.shape[0] != batch):
                want = f"({batch if batch is not None else 'B'}, {', '.join(map(str, s))})".replace(", )", ")")
                raise ValueError(
                    f"Streaming input '{t.name}' takes one timestep x[:, t] of shape {want} (or {s} for a single "
                    f"stream), but received shape {a.shape}."
                    + (f" This streamer runs {batch} stream(s); call reset(batch_size={a.shape[0]}) to change it, "
                       "or pass a state (step(x_t, state)) to run any number."
                       if batch is not None and a.shape[1:] == s else ""))
        return arrays, unbatched, as_torch

    def _pack(self, ys: list[np.ndarray], unbatched: bool, as_torch: bool) -> Any:
        if unbatched:
            ys = [y[0] for y in ys]
        if as_torch:
            ys = [torch.from_numpy(y) for y in ys]
        it = iter(ys)
        return map_structure(lambda _: next(it), self._structure)

    def __repr__(self) -> str:
        return f"<Streamer model='{self.model.name}' batch_size={self.batch_size} fast={self.fast}>"


def _check_batch(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size is the number of streams, a positive integer; received {batch_size!r}.")
    return batch_size


def _as_list(x_t: Any, program: Program) -> list[Any]:
    names = [t.name for t in program.inputs]
    if isinstance(x_t, dict):
        missing = [n for n in names if n not in x_t]
        if missing:
            raise ValueError(f"Streaming inputs are named {names}; missing {missing}.")
        return [x_t[n] for n in names]
    if not isinstance(x_t, (list, tuple)) or len(x_t) != len(names):
        raise ValueError(f"The model has {len(names)} inputs ({names}); pass one timestep of each, as a list in "
                         "that order or a dict by name.")
    return list(x_t)
