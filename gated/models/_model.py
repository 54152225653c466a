"""``Model``: the functional model ``Model(inputs, outputs)`` and the base of ``Sequential`` and subclassed models.

A model is a ``Layer`` (so a ``torch.nn.Module``) that also trains: ``compile``, ``fit``, ``evaluate`` and
``predict`` follow Keras's signatures and return values; the loop itself lives in ``gated.training``.
"""

from __future__ import annotations

import inspect
from typing import Any, Sequence

import numpy as np
import torch

from .. import metrics as _metrics
from .. import training
from ..deploy import Streamer
from ..export import export as _export
from ..layers._base import Layer, unique_name
from ..layers._graph import Graph, graph_config, rebuild_graph
from ..layers._structure import Structure
from ..layers._symbolic import SymbolicTensor
from ..saving import save_model
from ..saving._weights import load_weights, save_weights
from ..training._batch import outputs_list, targets_and_weights
from ..training._resume import training_state as _training_progress
from ..training._step import CompileMetrics
from ..utils._arrays import string_array
from ..utils._data_tuples import unpack_x_y_sample_weight
from ..utils._tree import flatten_structure
from ._summary import summary_text


def _check_unique_names(layers: list[Layer]) -> None:
    """As Keras: two layers of one functional model may not share a name (their weights are stored by name)."""
    counts: dict[str, int] = {}
    for layer in layers:
        counts[layer.name] = counts.get(layer.name, 0) + 1
    for name, count in counts.items():
        if count > 1:
            raise ValueError(f'The name "{name}" is used {count} times in the model. All operation names should be '
                             "unique: give each layer (or nested model) its own name=.")


class Model(Layer):
    """``Model(inputs, outputs, name=None)`` for the functional API, or a base class to subclass.

    Subclasses define their layers in ``__init__`` and the computation in ``call(inputs, training=None)`` (Keras's
    name) or ``forward`` (torch's); either works.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> "Model":
        # As in Keras, ``Model(inputs, outputs)`` makes a ``Functional`` (a Model whose class says it is a graph:
        # summaries, configs and ``type(layer).__name__`` name it so); subclasses stay what they are.
        if cls is Model and _functional_arguments(args, kwargs):
            cls = Functional
        return super().__new__(cls, *args, **kwargs)

    @property
    def _structure(self) -> Structure:
        return Structure.SUBCLASSED if self._graph is None else Structure.FUNCTIONAL

    def __init__(self, inputs: Any = None, outputs: Any = None, name: str | None = None, **kwargs: Any):
        if name is None and inputs is not None:
            name = unique_name("functional")  # Keras 3's default name for functional models
        super().__init__(name=name, **kwargs)
        self.stop_training = False
        self.history = None
        self.optimizer = None
        self.compiled = None  # a gated.training.CompiledModel after compile()
        self._loss_tracker: _metrics.Mean | None = None  # Keras's 'loss' entry of model.metrics, after compile()
        self._compile_metrics: CompileMetrics | None = None
        self._fit_progress = None  # a gated.training._resume.FitProgress while fit() runs
        self._graph: Graph | None = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("A functional Model needs both inputs= and outputs=.")
            self._graph = Graph(inputs, outputs)
            _check_unique_names(self._graph.all_layers)
            self._graph_layers = torch.nn.ModuleList(self._graph.called_layers)
            self.built = True

    # ------------------------------------------------------------------ structure
    @property
    def layers(self) -> list[Layer]:
        """The layers in Keras's order; a functional model lists its ``InputLayer``s too, as Keras 3 does."""
        if self._graph is not None:
            return list(self._graph.all_layers)
        return self.sublayers()

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Model '{self.name}' has {len(layers)} layers; index {index} is out of range.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No layer named '{name}' in model '{self.name}'. Layers: {[l.name for l in layers]}.")

    def sublayers(self) -> list[Layer]:
        if self._graph is not None:
            return list(self._graph.layers)
        return super().sublayers()

    @property
    def input_names(self) -> list[str]:
        if self._graph is None:
            return ["input"]
        return [t.node.layer.name for t in self._graph.input_tensors]

    @property
    def output_names(self) -> list[str]:
        if self._graph is None:
            return [self.layers[-1].name] if self.layers else ["output"]
        names = []
        for tensor in self._graph.output_tensors:
            name = tensor.node.layer.name
            names.append(name if name not in names else f"{name}_{tensor.index}")
        return names

    @property
    def inputs(self) -> list[SymbolicTensor] | None:
        return None if self._graph is None else list(self._graph.input_tensors)

    @property
    def outputs(self) -> list[SymbolicTensor] | None:
        return None if self._graph is None else list(self._graph.output_tensors)

    @property
    def input(self) -> Any:
        """The functional model's inputs as given to ``Model(inputs, ...)`` (one placeholder, a list or a dict)."""
        if self._graph is not None:
            return self._graph.inputs
        return Layer.input.fget(self)

    @property
    def output(self) -> Any:
        """The functional model's outputs as given to ``Model(..., outputs)``."""
        if self._graph is not None:
            return self._graph.outputs
        return Layer.output.fget(self)

    def output_layer(self, index: int = 0) -> Layer | None:
        """The layer producing output ``index`` (used to explain target/output mismatches)."""
        if self._graph is not None:
            return self._graph.output_tensors[index].node.layer
        layers = self.layers
        return layers[-1] if layers else None

    # ------------------------------------------------------------------ calling
    def forward(self, inputs: Any, *args: Any, training: bool | None = None, mask: Any = None, **kwargs: Any) -> Any:
        if self._graph is None:
            call = getattr(self, "call", None)
            if call is None:
                raise NotImplementedError(
                    f"{type(self).__name__} subclasses Model without a call() or forward(): define one, or build a "
                    "functional Model(inputs, outputs) or a Sequential."
                )
            if _accepts(call, "training"):  # passed only when call() takes them, as Keras does
                kwargs["training"] = training
            if mask is not None and _accepts(call, "mask"):
                kwargs["mask"] = mask
            return call(inputs, *args, **kwargs)
        structure = self._graph.inputs
        if isinstance(structure, dict):
            if not isinstance(inputs, dict):
                flat = inputs if isinstance(inputs, (list, tuple)) else [inputs]
            else:
                missing = [k for k in structure if k not in inputs]
                if missing:
                    raise ValueError(f"Model '{self.name}' expects inputs named {list(structure)}; "
                                     f"missing {missing}.")
                flat = [inputs[k] for k in structure]
        elif isinstance(inputs, dict) and len(self._graph.input_tensors) > 1:
            missing = [k for k in self.input_names if k not in inputs]  # Keras matches a dict by Input names
            if missing:
                raise ValueError(f"Model '{self.name}' expects inputs named {self.input_names}; missing {missing} "
                                 f"(received keys {sorted(inputs)}).")
            flat = [inputs[k] for k in self.input_names]
        else:
            flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self._graph.input_tensors):
            raise ValueError(
                f"Model '{self.name}' expects {len(self._graph.input_tensors)} input(s) "
                f"({', '.join(self.input_names)}), but received {len(flat)}. Pass a list in that order, or a dict "
                "keyed by the Input names."
            )
        outputs = self._graph.run(flat, training)
        structure = self._graph.outputs
        if isinstance(structure, SymbolicTensor):
            return outputs[0]
        if isinstance(structure, dict):
            return dict(zip(structure, outputs))
        if len(outputs) == 1:
            return outputs[0]  # Keras unpacks a one-element output list (outputs=[x] returns x)
        return outputs if isinstance(structure, list) else tuple(outputs)

    def _convert_inputs(self, x: Any) -> Any:
        if isinstance(x, dict):
            return {k: self._convert_one_input(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(self._convert_one_input(v) for v in x)
        return self._convert_one_input(x)

    def _convert_one_input(self, x: Any) -> Any:
        # Each layer converts its own inputs (dtypes differ: Embedding takes integers); only move arrays here.
        if isinstance(x, torch.Tensor):
            return x
        text = string_array(x)
        if text is not None:
            return text  # torch has no string tensors: the model's text layers read the numpy array
        array = np.asarray(x)
        if array.dtype == object or array.dtype.kind in "USV":
            return Layer._convert_one(self, x)  # raises the explanatory TypeError
        tensor = torch.as_tensor(array)
        device = self._param_device()
        return tensor if device is None else tensor.to(device)

    def validate_input(self, inputs: Any) -> None:
        pass

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._graph is not None:
            shapes = [t.shape for t in self._graph.output_tensors]
            return shapes[0] if len(shapes) == 1 else shapes
        if self._runs_call():  # a subclassed model: its call run on zeros, as Keras runs it on a symbolic input
            return Layer.compute_output_shape(self, input_shape)
        raise NotImplementedError(f"{type(self).__name__} cannot compute its output shape symbolically: define "
                                  "compute_output_shape(self, input_shape).")

    compute_output_shape.by_running_call = True

    def _output_dtype(self, inputs: Any) -> torch.dtype:
        return self.compute_dtype

    # ------------------------------------------------------------------ training API
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None, metrics: Any = None,
                weighted_metrics: Any = None, run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile: Any = "auto", auto_scale_loss: bool = True, device: Any = None) -> None:
        """Configure training, as ``keras.Model.compile``. ``device``: 'cpu', 'cuda', ... (default: CUDA when
        available, else CPU).

        ``jit_compile``: whether each training step (forward, loss, backward, optimizer update) and each
        prediction step runs as a captured CUDA graph, replayed per batch of the captured shapes (the other
        batches, such as a short last one, run eagerly). 'auto' (default) captures when it can: on CUDA, not
        under torchrun, no stateful, masking or Embedding layers, no weight constraints, an optimizer among SGD,
        RMSprop, Adagrad, Adam, AdamW, Adamax and Adadelta. True requires capture and raises ValueError with the
        reasons when it cannot run; False never captures. ``model.last_step_path`` says how the last step ran
        and why. ``run_eagerly=True`` implies jit_compile=False, as in Keras.

        ``steps_per_execution``: only 1 (each step is its own call; on CUDA the captured step already removes the
        per-step launch cost that Keras amortises with it). ``auto_scale_loss``: Keras scales the loss only under
        a ``mixed_float16`` policy; gated models compute in one dtype, so it changes nothing for float32, bfloat16
        and float64 weights, and a float16 model is refused (no loss scaling here: train it in float32 or
        bfloat16)."""
        _check_steps_per_execution(steps_per_execution)
        if not isinstance(auto_scale_loss, bool):
            raise TypeError(f"compile(auto_scale_loss=...) takes True or False; received {auto_scale_loss!r}.")
        if auto_scale_loss and self.built and any(p.dtype == torch.float16 for p in self.parameters()):
            raise NotImplementedError(
                f"Model '{self.name}' has float16 weights, and compile(auto_scale_loss=True) would need dynamic loss "
                "scaling, which gated does not implement. Train in float32 or bfloat16 (no scaling needed), or pass "
                "auto_scale_loss=False to train float16 weights without scaling.")
        if run_eagerly is True:
            jit_compile = False
        self.compiled = training.CompiledModel(self, optimizer=optimizer, loss=loss, loss_weights=loss_weights,
                                      metrics=metrics, weighted_metrics=weighted_metrics, device=device,
                                      jit_compile=jit_compile)
        self._loss_tracker = _metrics.Mean(name="loss")
        has_metrics = metrics is not None or weighted_metrics is not None
        self._compile_metrics = CompileMetrics(self, self.compiled) if has_metrics else None

    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: Sequence[Any] | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: dict | None = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1, resume_from: str | None = None, check_finite: bool = True):
        """Train, as ``keras.Model.fit``; returns a ``History`` whose ``.history`` has Keras's keys.

        Bad input (a NaN, a shape or label that cannot match the model) raises a ValueError or TypeError before
        any weight, the optimizer state or ``model.history`` changes. ``check_finite=False`` lets NaN and
        infinite values through (for a model or loss that handles them); by default the first one stops fit with
        its position.

        ``resume_from``: a checkpoint written by ``ModelCheckpoint(..., save_training_state=True)``; training
        continues from the batch after it, with the same data, callbacks and settings as the run that wrote it.
        """
        return training.fit(self, x=x, y=y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
                   validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
                   class_weight=class_weight, sample_weight=sample_weight, initial_epoch=initial_epoch,
                   steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                   validation_batch_size=validation_batch_size, validation_freq=validation_freq,
                   resume_from=resume_from, check_finite=check_finite)

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: Any = "auto",
                 sample_weight: Any = None, steps: int | None = None, callbacks: Sequence[Any] | None = None,
                 return_dict: bool = False, check_finite: bool = True):
        """Loss and metrics on data, as ``keras.Model.evaluate``; ``check_finite`` as in ``fit``."""
        return training.evaluate(self, x=x, y=y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight,
                        steps=steps, callbacks=callbacks, return_dict=return_dict, check_finite=check_finite)

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto", steps: int | None = None,
                callbacks: Sequence[Any] | None = None, check_finite: bool = True):
        """Outputs as numpy arrays, computed in batches in inference mode; ``check_finite`` as in ``fit``."""
        return training.predict(self, x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks,
                       check_finite=check_finite)

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: dict | None = None,
                       return_dict: bool = False):
        return training.train_on_batch(self, x, y, sample_weight=sample_weight, class_weight=class_weight,
                              return_dict=return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False):
        return self.evaluate(x, y, batch_size=_batch_len(x), sample_weight=sample_weight, verbose=0,
                             return_dict=return_dict)

    def predict_on_batch(self, x: Any):
        return self.predict(x, batch_size=_batch_len(x), verbose=0)

    # ------------------------------------------------------------------ Keras's training step, for subclasses
    def train_step(self, data: Any) -> dict[str, Any]:
        """One training step on ``data`` (``(x, y)``, ``(x, y, sample_weight)`` or ``(x,)``), Keras's torch-backend
        default: forward, ``compute_loss``, backward, ``optimizer.apply``, ``compute_metrics``. ``fit`` runs
        gated's own (faster, captured) step unless a subclass writes this method; a subclass may call
        ``super().train_step(data)``."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        self.zero_grad()
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        self._loss_tracker.update_state(loss.detach(), sample_weight=_batch_len(x))
        weights = self.trainable_weights
        if weights:
            loss.backward()
            with torch.no_grad():
                self.optimizer.apply([w.value.grad for w in weights], weights)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    train_step.keras_default = True

    def test_step(self, data: Any) -> dict[str, Any]:
        """One evaluation step on ``data``, Keras's default: forward, ``compute_loss``, ``compute_metrics``."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        self._loss_tracker.update_state(loss.detach(), sample_weight=_batch_len(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    test_step.keras_default = True

    def predict_step(self, data: Any) -> Any:
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None,
                     training: bool = True) -> torch.Tensor:
        """The total loss, as Keras computes it: the compiled loss of ``y`` and ``y_pred`` (weighted by
        ``sample_weight``), plus every loss in ``self.losses`` (``add_loss``, regularization)."""
        compiled = self._compiled_for("compute_loss")
        has_loss = any(spec is not None for spec in flatten_structure(compiled.loss_spec)) \
            if isinstance(compiled.loss_spec, (list, tuple, dict)) else compiled.loss_spec is not None
        total = None
        if has_loss:
            if y is None:
                raise ValueError(f"Model '{self.name}' was compiled with a loss, so compute_loss() needs the targets: "
                                 "compute_loss(x=x, y=y, y_pred=y_pred).")
            targets, weights = targets_and_weights(self, y, sample_weight)
            outputs = outputs_list(y_pred)
            if not compiled.built:
                compiled.build(targets, outputs)
            total, _ = compiled.compute_loss(targets, outputs, weights)  # adds self.losses
        elif self.losses:
            total = torch.stack([value.sum().float() for value in self.losses]).sum()
        if total is None:
            raise ValueError(f"No loss to compute for model '{self.name}': it was compiled without a loss and added "
                             "none with add_loss(). Pass loss= to compile(), or compute the loss in train_step.")
        return total

    compute_loss.keras_default = True

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> dict[str, Any]:
        """Update the compiled metrics with ``y`` and ``y_pred``; returns ``get_metrics_result()``."""
        self._compiled_for("compute_metrics")
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict[str, Any]:
        """``{name: result}`` for every metric of ``self.metrics`` (a dict result is merged in)."""
        results: dict[str, Any] = {}
        for metric in self.metrics:
            value = metric.result()
            if isinstance(value, dict):
                results.update(value)
            else:
                results[metric.name] = value
        return results

    @property
    def metrics(self) -> list[Any]:
        """Keras's order: after compile the loss tracker and the compiled metrics (``compile_metrics``), then the
        metrics held as attributes of this model (``self.loss_tracker = Mean(name='loss')``), then those of its
        layers."""
        found = []
        if self._loss_tracker is not None:
            found.append(self._loss_tracker)
        if self._compile_metrics is not None:
            found.append(self._compile_metrics)
        found.extend(_attribute_metrics(self))
        for layer in self.modules():
            if layer is not self and isinstance(layer, Layer) and not isinstance(layer, Model):
                found.extend(_attribute_metrics(layer))
        return found

    @property
    def metrics_names(self) -> list[str]:
        return [metric.name for metric in self.metrics]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def _compiled_for(self, what: str):
        if self.compiled is None:
            raise ValueError(f"Model '{self.name}' must be compiled before {what}(): call "
                             "model.compile(optimizer=..., loss=...) first.")
        return self.compiled

    # ------------------------------------------------------------------ reporting and weights files
    def summary(self, line_length: int | None = None, positions: Any = None, print_fn: Any = None,
                expand_nested: bool = False, show_trainable: bool = False, layer_range: Any = None) -> None:
        """Print a Keras-style table: layer (type), output shape, parameters, and the totals.

        As in Keras: ``line_length`` (characters), ``positions`` (the right end of each column, as fractions of the
        line length or in characters), ``expand_nested`` (nested models' layers, indented, under their row),
        ``show_trainable`` (a column with Y/N), ``layer_range=[first, last]`` (names or regular expressions; the
        rows from the first match to the last match)."""
        text = summary_text(self, line_length=line_length, positions=positions, expand_nested=expand_nested,
                            show_trainable=show_trainable, layer_range=layer_range)
        (print_fn or print)(text)

    def save(self, filepath: str, overwrite: bool = True, include_optimizer: bool = True,
             training_state: bool = False) -> None:
        """Write the whole model - architecture, weights, compile settings, optimizer state - to one file
        (any name; ``.gated`` suggested). Load it with ``gated.load_model(path)``. ``training_state`` (during fit)
        also records the training progress for ``fit(..., resume_from=path)``."""
        extra = _training_progress(self) if training_state else None
        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer, extra_state=extra)

    def save_weights(self, filepath: str, overwrite: bool = True) -> None:
        """Write the weights (Keras layout and names) to a safetensors file."""
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str, skip_mismatch: bool = False) -> None:
        """Read weights written by ``save_weights``; every mismatch is listed before anything changes.
        ``skip_mismatch=True`` (Keras's option) loads the layers whose weights fit and leaves the others as they are,
        with a warning naming each skipped weight."""
        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def export(self, filepath: str, format: str = "onnx", verbose: Any = None, **kwargs: Any) -> None:
        """Write the model for deployment, as ``keras.Model.export``; ``format="onnx"`` (see gated.export).
        ``verbose`` (default True, as in Keras) prints what was written: the file, its inputs and outputs."""
        _export(self, filepath, format=format, verbose=True if verbose is None else verbose, **kwargs)

    def stream(self, batch_size: int = 1) -> Any:
        """A ``gated.deploy.Streamer`` for online prediction: ``step(x_t)`` per timestep, states carried."""
        return Streamer(self, batch_size=batch_size)

    def get_config(self) -> dict[str, Any]:
        config = {"name": self.name, "trainable": self.trainable}
        if self._graph is None:
            raise NotImplementedError(
                f"{type(self).__name__} is a subclassed model: its architecture is Python code, so it has no config "
                "to save. Save its weights with save_weights(), or build it as a Sequential or functional Model."
            )
        config.update(graph_config(self._graph))
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> "Model":
        if "calls" not in config:  # a subclassed model: its constructor's arguments, as Keras calls cls(**config)
            return cls(**config)
        inputs, outputs = rebuild_graph(config, custom_objects)
        model = cls(inputs, outputs, name=config.get("name"))
        model.trainable = config.get("trainable", True)
        return model


class Functional(Model):
    """The class of ``Model(inputs, outputs)``: a model defined by the graph from its inputs to its outputs."""


def _functional_arguments(args: tuple, kwargs: dict) -> bool:
    return len(args) >= 2 or (len(args) == 1 and "outputs" in kwargs) or ("inputs" in kwargs and "outputs" in kwargs)


def _check_steps_per_execution(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"compile(steps_per_execution=...) takes a positive integer; received {value!r}.")
    if value != 1:
        raise NotImplementedError(
            f"compile(steps_per_execution={value}) is not supported: gated runs every training step as its own call "
            "(on CUDA as a captured graph, which already removes the per-step launch cost Keras amortises with it). "
            "Leave steps_per_execution at 1; the training result is the same.")


def _accepts(fn: Any, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _batch_len(x: Any) -> int:
    first = flatten_structure(x)[0]
    return int(first.shape[0]) if hasattr(first, "shape") else len(first)


Model.forward.runs_call = True  # a subclass that writes call() is a Keras-style layer


def _attribute_metrics(layer: Layer) -> list[Any]:
    """The metrics a layer holds as attributes, in the order they were set."""
    return [value for key, value in vars(layer).items()
            if isinstance(value, (_metrics.Metric, CompileMetrics)) and key not in ("_loss_tracker", "_compile_metrics")]
