"""Export fitted detectors to ONNX, to score where only onnxruntime is installed.

:func:`export_onnx` writes one ``.onnx`` file whose graph computes, from a
float32 batch of any size, what the detector's ``score_samples``,
``decision_function`` and ``predict`` return. The detector's own scaler
(``preprocessing``) and the scaling steps of a :class:`~sklearn.pipeline.Pipeline`
ending in the detector are part of the graph, so the service feeds raw rows.

Needs the optional packages ``onnx`` and ``onnxscript`` (torch's exporter)
to export, and ``onnxruntime`` to run the file: ``pip install
sklearn-ganad[onnx]``. Scoring the file needs ``onnxruntime`` and numpy
only.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler
from torch import nn

from ._version import __version__
from .base import split_fitted_detector

__all__ = ["export_onnx", "ONNX_OUTPUTS"]

#: Names of the outputs of an exported scoring graph, in order.
ONNX_OUTPUTS = ("score_samples", "decision_function", "predict")

_PARTS = ("score", "generator", "discriminator")

# torch.onnx.export(dynamo=True) with dynamic_shapes and external_data.
_MIN_TORCH = (2, 6)


def export_onnx(estimator, path, *, part="score", opset_version=None):
    """Write a fitted detector (or a Pipeline ending in one) as an ONNX graph.

    With ``part="score"`` the graph has one input, ``"X"``, float32 with a
    dynamic batch axis: of shape (batch, C, H, W) for a detector fitted on
    image arrays, and (batch, n_features) otherwise (a table, rows of pixels
    with ``image_shape``, a Pipeline). Its outputs are ``"score_samples"``
    and ``"decision_function"`` (float32, shape (batch,)) and ``"predict"``
    (int64, +1 inlier / -1 outlier), as the estimator's methods of those
    names, computed in float32, as scikit-learn scales float32 rows: they match the
    estimator's to about 1e-6 relative (its CPU scores of tables are
    computed in float64). A detector trained with ``precision="bf16"`` or
    ``"16"`` scores at that precision, so its graph, in float32, differs
    from its ``score_samples`` by that precision's rounding.

    The graph does not validate its input as ``score_samples`` does: a row
    with NaN or infinity gets a NaN score and ``predict`` -1.

    What goes into the graph:

    - the detector's scaler (``preprocessing``, ``scaler_``) and its
      clipping of the scaled features (``feature_clip_``);
    - for a Pipeline, every step before the detector, if it is a
      :class:`~sklearn.preprocessing.StandardScaler`,
      :class:`~sklearn.preprocessing.MinMaxScaler`,
      :class:`~sklearn.preprocessing.MaxAbsScaler`,
      :class:`~sklearn.preprocessing.RobustScaler` or ``"passthrough"``:
      each is a per-feature affine map, written as such. Any other step is
      refused with a ValueError naming it (convert it separately, e.g. with
      skl2onnx, and feed its output to this graph);
    - the networks in evaluation mode (batch-norm statistics and spectral
      normalisation's stored estimates, as ``score_samples`` uses them),
      on the CPU whatever device they were trained on.

    AnoGAN's score is a latent search (Adam steps on z for every row), not
    one forward pass, so it has no ``"score"`` graph: the search needs the
    networks' gradients, which onnxruntime's inference sessions do not
    give. Its two networks can be exported on their own, to generate from
    codes or to evaluate the discriminator elsewhere: ``part="generator"``
    maps codes ``"z"`` (batch, latent_dim) to ``"generated"``, and
    ``part="discriminator"`` maps ``"X"`` to ``"logit"`` and ``"features"``
    (the layer its "fm" score matches), both in the units the networks
    see: the detector's scaled and clipped features (``scaler_`` and
    ``feature_clip_`` are not folded into those two graphs).

    The file's metadata (``metadata_props``) records the package version,
    the method, the part, ``offset_``, ``contamination``, the number of
    input features, the image shape, the feature names, the Pipeline's
    steps and the training precision.

    Parameters
    ----------
    estimator : fitted detector of this package, or fitted Pipeline ending in one
    path : str or path-like
        File to write (overwritten if it exists).
    part : {"score", "generator", "discriminator"}, default="score"
        "generator" and "discriminator" are for AnoGAN only.
    opset_version : int, default=None
        ONNX operator set; None lets torch choose (its default).

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        For an unsupported Pipeline step, ``part``, or AnoGAN's score.
    ImportError
        When ``onnx`` or ``onnxscript`` is not installed, or torch is older
        than 2.6.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort  # doctest: +SKIP
    >>> from sklearn_ganad import GANomaly
    >>> from sklearn_ganad.export import export_onnx
    >>> X = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32)
    >>> detector = GANomaly(max_epochs=2, random_state=0).fit(X)
    >>> export_onnx(detector, "ganomaly.onnx")  # doctest: +SKIP
    >>> session = ort.InferenceSession("ganomaly.onnx")  # doctest: +SKIP
    >>> scores, decision, labels = session.run(None, {"X": X})  # doctest: +SKIP
    """
    if part not in _PARTS:
        raise ValueError(f"part must be one of {_PARTS}; got {part!r}.")
    head, detector = split_fitted_detector(estimator, "export_onnx")
    steps = [] if head is None else list(head.steps)
    _require_exporter()
    if part == "score" and not detector._score_is_one_pass:
        raise ValueError(
            f"{type(detector).__name__}'s score is a latent search (Adam steps on a code per "
            "row), not one forward pass, so it has no single scoring graph. Export its "
            "networks with part='generator' and part='discriminator'."
        )
    if part != "score" and detector._score_is_one_pass:
        raise ValueError(
            f"part={part!r} is for a detector whose score is a search (AnoGAN); "
            f"{type(detector).__name__} scores in one forward pass: export it with part='score'."
        )
    if part != "score" and detector.ensemble_size > 1:
        raise ValueError(
            f"part={part!r} exports one network, but this detector trained "
            f"ensemble_size={detector.ensemble_size} coupled GANs, each with its own; "
            "export a detector fitted with ensemble_size=1."
        )
    model = _inference_copy(detector.net_.module_)
    if part == "score":
        affine = [op for step in steps for op in _affine_ops(*step)]
        affine += _affine_ops("the detector's scaler_", detector.scaler_)
        n_features = detector.n_features_in_
        affine += _clip_ops(detector.feature_clip_, n_features)
        # Images in, as (batch, C, H, W), where the detector was fitted on
        # image arrays; rows of pixels where it was fitted on rows (its
        # image_shape parameter) or is a Pipeline's last step.
        fitted_on_images = detector.image_shape_ is not None and detector.image_shape is None
        image_shape = detector.image_shape_ if fitted_on_images and not steps else None
        graph = _ScoringGraph(model, affine, detector.offset_, n_features)
        example_shape = (n_features,) if image_shape is None else tuple(image_shape)
        inputs, outputs = ("X",), ONNX_OUTPUTS
    elif part == "generator":
        graph = _Generator(model)
        example_shape = (int(detector.latent_dim_),)
        inputs, outputs = ("z",), ("generated",)
    else:
        graph = _Discriminator(model)
        example_shape = (detector.n_features_in_,)
        inputs, outputs = ("X",), ("logit", "features")
    # Two rows, not one: an example of one row would let the exporter
    # specialise the batch axis away.
    example = torch.zeros((2, *example_shape), dtype=torch.float32)
    path = Path(path)
    batch = torch.export.Dim("batch")
    with warnings.catch_warnings(), _quiet_exporter_logs():
        # The exporter reports its own progress, deprecations and optional
        # packages it skips (torchvision's operators); none concerns these graphs.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            (example,),
            str(path),
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_shapes=({0: batch},),
            opset_version=opset_version,
            external_data=False,
            dynamo=True,
            verbose=False,
        )
    _write_metadata(path, estimator, detector, part, steps)
    return path


@contextlib.contextmanager
def _quiet_exporter_logs():
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _require_exporter():
    version = tuple(int(part) for part in torch.__version__.split("+")[0].split(".")[:2])
    if version < _MIN_TORCH:
        raise ImportError(
            f"export_onnx needs torch {'.'.join(map(str, _MIN_TORCH))} or newer (its "
            f"dynamo-based exporter); this is torch {torch.__version__}."
        )
    missing = []
    for module in ("onnx", "onnxscript"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ImportError(
            f"export_onnx needs {' and '.join(missing)} (torch's ONNX exporter); install "
            "them with `pip install sklearn-ganad[onnx]`."
        )


def _clip_ops(bound, n_features):
    """``feature_clip_`` as ``(operation, float32 vector)`` pairs (none without it)."""
    if bound is None:
        return []
    limit = np.full(n_features, bound, dtype=np.float32)
    return [("max", -limit), ("min", limit)]


def _affine_ops(name, transformer):
    """A fitted scaler as a list of ``(operation, float32 vector)`` pairs, in order."""
    if transformer is None or transformer == "passthrough":
        return []
    ops = []
    if isinstance(transformer, StandardScaler):
        if transformer.with_mean and transformer.mean_ is not None:
            ops.append(("sub", transformer.mean_))
        if transformer.with_std and transformer.scale_ is not None:
            ops.append(("div", transformer.scale_))
    elif isinstance(transformer, RobustScaler):
        if transformer.with_centering and transformer.center_ is not None:
            ops.append(("sub", transformer.center_))
        if transformer.with_scaling and transformer.scale_ is not None:
            ops.append(("div", transformer.scale_))
    elif isinstance(transformer, MaxAbsScaler):
        ops.append(("div", transformer.scale_))
    elif isinstance(transformer, MinMaxScaler):
        ops += [("mul", transformer.scale_), ("add", transformer.min_)]
        if transformer.clip:
            low, high = transformer.feature_range
            ops += [("max", np.full_like(transformer.min_, low)),
                    ("min", np.full_like(transformer.min_, high))]  # fmt: skip
    else:
        raise ValueError(
            f"export_onnx cannot write the Pipeline step {name!r} ({type(transformer).__name__}): "
            "only StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler and 'passthrough' "
            "steps go into the graph. Export the detector alone and apply that step before it "
            "(skl2onnx converts most scikit-learn transformers)."
        )
    return [(op, np.asarray(value, dtype=np.float32)) for op, value in ops]


def _inference_copy(module):
    """A float32 copy on the CPU, in evaluation mode.

    Spectral normalisation stays a parametrization: in evaluation mode it
    divides by the stored estimate of the largest singular value, which
    the graph computes from the stored vectors. (Removing it on a copy
    would delete the weight property of the class the copy shares with the
    fitted module.)
    """
    module = copy.deepcopy(module).to("cpu").float().eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module


class _ScoringGraph(nn.Module):
    """Raw rows (or images) in; score_samples, decision_function and predict out."""

    def __init__(self, model, affine_ops, offset, n_features):
        super().__init__()
        self.model = model
        self.n_features = int(n_features)
        self.operations = []
        for index, (operation, value) in enumerate(affine_ops):
            name = f"scaling_{index}"
            self.register_buffer(name, torch.from_numpy(value))
            self.operations.append((operation, name))
        self.register_buffer("offset", torch.tensor(float(offset), dtype=torch.float32))

    def forward(self, x):
        x = x.reshape(x.shape[0], self.n_features)
        # float32 throughout, with float32 constants: what scikit-learn's
        # scalers compute on float32 rows.
        for operation, name in self.operations:
            value = getattr(self, name)
            if operation == "sub":
                x = x - value
            elif operation == "div":
                x = x / value
            elif operation == "mul":
                x = x * value
            elif operation == "add":
                x = x + value
            elif operation == "max":
                x = torch.maximum(x, value)
            else:
                x = torch.minimum(x, value)
        scores = -self.model.anomaly_score(x)
        decision = scores - self.offset
        # A NaN decision (a NaN or infinite input: the graph does not
        # validate its input as score_samples does) is an outlier, not an inlier.
        labels = torch.where(decision >= 0, 1, -1).to(torch.int64)
        return scores, decision, labels


class _Generator(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, z):
        return self.model.generator(z)


class _Discriminator(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.discriminator(x), self.model.discriminator.features(x)


def _write_metadata(path, estimator, detector, part, steps):
    import onnx

    proto = onnx.load(str(path))
    batch_axis = proto.graph.input[0].type.tensor_type.shape.dim[0]
    if not batch_axis.dim_param:
        # Checked, not assumed: a graph that fixed the batch size would
        # fail on every other batch size only once deployed.
        path.unlink()
        raise RuntimeError(
            f"exporting {type(detector).__name__} fixed the batch size of the graph; "
            "no file was written. Please report this."
        )
    metadata = {
        "producer": f"sklearn_ganad {__version__}",
        "method": type(detector).__name__,
        "part": part,
        "offset": repr(float(detector.offset_)),
        "contamination": repr(detector.contamination),
        "n_features_in": str(detector.n_features_in_),
        "image_shape": json.dumps(
            None if detector.image_shape_ is None else list(detector.image_shape_)
        ),
        "feature_names": json.dumps(
            [str(name) for name in getattr(estimator, "feature_names_in_", [])]
        ),
        "pipeline_steps": json.dumps([name for name, _ in steps]),
        "precision": detector.precision,
    }
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "sklearn_ganad"
    proto.producer_version = __version__
    onnx.save(proto, str(path))
