"""Plots of fitted detectors, following scikit-learn's Display pattern.

Each display is built with ``from_estimator`` (or ``from_predictions``),
which computes what to draw and calls :meth:`plot`; the figure's parts are
kept as attributes ending in ``_`` (``ax_``, ``figure_``, ...) for further
styling. matplotlib is an optional dependency (``pip install
sklearn-ganad[plot]``); a clear error names it when it is missing.

* :class:`TrainingCurvesDisplay`: every loss in ``net_.history``, per epoch;
* :class:`ScoreDistributionDisplay`: histograms of the scores per class, with
  the detector's threshold;
* :class:`ReconstructionDisplay`: image, reconstruction and difference;
* :class:`LatentMapDisplay`: a 2-D map (PCA or t-SNE) of the latent codes,
  coloured by label;
* :class:`AnomalyMapDisplay`: images, their anomaly maps and the maps laid
  over the images;
* :class:`FeatureContributionsDisplay`: the largest per-feature
  contributions to one table row's score, as bars.

Every ``from_estimator`` accepts a fitted detector or a fitted
:class:`~sklearn.pipeline.Pipeline` ending in one; ``X`` is then passed
through the pipeline's other steps first.
"""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._net import epoch_losses
from .base import split_fitted_detector

__all__ = [
    "TrainingCurvesDisplay",
    "ScoreDistributionDisplay",
    "ReconstructionDisplay",
    "LatentMapDisplay",
    "AnomalyMapDisplay",
    "FeatureContributionsDisplay",
]


def _pyplot(caller: str):
    """Import matplotlib's pyplot, or say how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs matplotlib, which is not installed. Install it with "
            "`pip install sklearn-ganad[plot]` (or `pip install matplotlib`)."
        ) from exc
    return plt


def _axes(ax, caller):
    plt = _pyplot(caller)
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _fitted_detector(estimator, caller):
    """The pipeline's transform (identity for a bare detector) and its final detector."""
    head, detector = split_fitted_detector(estimator, caller)
    return (head.transform if head is not None else (lambda X: X)), detector


class TrainingCurvesDisplay:
    """Every loss of a detector's training, per epoch.

    Build it with :meth:`from_estimator`; the constructor only stores what
    :meth:`plot` draws.

    Parameters
    ----------
    epochs : ndarray of shape (n_epochs,)
        Epoch numbers.
    losses : dict of str to ndarray of shape (n_epochs,)
        Each loss per epoch, NaN where an epoch did not record it (f-AnoGAN's
        stages record different losses).
    estimator_name : str, default=None
        Shown in the title.

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        One line per loss.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    ScoreDistributionDisplay : The scores per class.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ganad import GANomaly
    >>> from sklearn_ganad.plotting import TrainingCurvesDisplay
    >>> X = np.random.RandomState(0).normal(size=(64, 4))
    >>> detector = GANomaly(max_epochs=3, random_state=0).fit(X)
    >>> display = TrainingCurvesDisplay.from_estimator(detector)
    >>> sorted(display.losses)[:2]
    ['train_loss', 'train_loss_adv']
    """

    def __init__(self, *, epochs, losses, estimator_name=None):
        self.epochs = epochs
        self.losses = losses
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, losses=None, ax=None, log_scale=False, **kwargs):
        """Plot the losses recorded in ``estimator.net_.history``.

        Parameters
        ----------
        estimator : fitted detector, or Pipeline ending in one
        losses : list of str, default=None
            History keys to plot; None plots every loss recorded (keys such as
            ``train_loss``, ``valid_loss``, ``train_loss_discriminator``).
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        log_scale : bool, default=False
            Logarithmic y axis (for losses that stay positive).
        **kwargs : dict
            Passed to matplotlib's ``plot``.

        Returns
        -------
        display : TrainingCurvesDisplay
        """
        _, detector = _fitted_detector(estimator, cls.__name__)
        history = detector.net_.history
        names = []
        for epoch in history:
            names += [name for name in epoch_losses(epoch) if name not in names]
        if losses is not None:
            unknown = [name for name in losses if name not in names]
            if unknown:
                raise ValueError(f"{unknown} are not in the history; recorded losses: {names}.")
            names = list(losses)
        curves = {
            name: np.array([epoch.get(name, np.nan) for epoch in history], dtype=float)
            for name in names
        }
        epochs = np.array([epoch["epoch"] for epoch in history])
        display = cls(epochs=epochs, losses=curves, estimator_name=type(detector).__name__)
        return display.plot(ax=ax, log_scale=log_scale, **kwargs)

    def plot(self, ax=None, *, log_scale=False, **kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        log_scale : bool, default=False
        **kwargs : dict
            Passed to matplotlib's ``plot``.

        Returns
        -------
        display : TrainingCurvesDisplay
            The display, with ``lines_``, ``ax_`` and ``figure_`` set.
        """
        ax = _axes(ax, type(self).__name__)
        self.lines_ = {}
        for name, values in self.losses.items():
            (self.lines_[name],) = ax.plot(self.epochs, values, label=name, **kwargs)
        if log_scale:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        if self.estimator_name:
            ax.set_title(f"{self.estimator_name}: training losses")
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class ScoreDistributionDisplay:
    """Histograms of a detector's scores, per class, with its threshold.

    Parameters
    ----------
    scores : ndarray of shape (n_samples,)
        ``score_samples`` or ``decision_function`` values (higher = more normal).
    y : ndarray of shape (n_samples,), default=None
        Class of each sample (any labels); one histogram per class. None draws
        one histogram.
    threshold : float, default=None
        Where the detector separates inliers from outliers on the scores' axis
        (``offset_`` for ``score_samples``, 0 for ``decision_function``).
    score_name : str, default="score"
        Label of the x axis.
    estimator_name : str, default=None
        Shown in the title.

    Attributes
    ----------
    hists_ : dict of label to matplotlib BarContainer
    threshold_line_ : matplotlib Line2D or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, *, scores, y=None, threshold=None, score_name="score", estimator_name=None):
        self.scores = scores
        self.y = y
        self.threshold = threshold
        self.score_name = score_name
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(
        cls, estimator, X, y=None, *, response_method="score_samples", ax=None, bins=50, **kwargs
    ):
        """Score ``X`` and plot the scores per class of ``y``.

        Works with any fitted outlier detector that has ``response_method``
        (scikit-learn's too); the threshold is ``offset_`` for
        ``score_samples`` and 0 for ``decision_function``.

        Parameters
        ----------
        estimator : fitted outlier detector, or Pipeline ending in one
        X : array-like
            Samples to score.
        y : array-like of shape (n_samples,), default=None
            Their classes, e.g. 0 normal / 1 anomalous.
        response_method : {"score_samples", "decision_function"}, default="score_samples"
        ax : matplotlib Axes, default=None
        bins : int or sequence, default=50
            Histogram bins, shared by all classes.
        **kwargs : dict
            Passed to matplotlib's ``hist``.

        Returns
        -------
        display : ScoreDistributionDisplay
        """
        if response_method not in ("score_samples", "decision_function"):
            raise ValueError(
                "response_method must be 'score_samples' or 'decision_function', got "
                f"{response_method!r}."
            )
        check_is_fitted(estimator)
        scores = getattr(estimator, response_method)(X)
        detector = estimator[-1] if isinstance(estimator, Pipeline) else estimator
        if response_method == "decision_function":
            threshold = 0.0
        else:
            threshold = getattr(detector, "offset_", None)
        display = cls(
            scores=scores,
            y=None if y is None else np.asarray(y),
            threshold=threshold,
            score_name=f"{response_method} (higher = more normal)",
            estimator_name=type(detector).__name__,
        )
        return display.plot(ax=ax, bins=bins, **kwargs)

    @classmethod
    def from_predictions(
        cls, y, scores, *, threshold=None, score_name="score", ax=None, bins=50, **kwargs
    ):
        """Plot given scores per class of ``y``.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or None
        scores : array-like of shape (n_samples,)
        threshold : float, default=None
        score_name : str, default="score"
        ax : matplotlib Axes, default=None
        bins : int or sequence, default=50
        **kwargs : dict
            Passed to matplotlib's ``hist``.

        Returns
        -------
        display : ScoreDistributionDisplay
        """
        scores = np.asarray(scores, dtype=float)
        if y is not None:
            y = np.asarray(y)
            if y.shape != scores.shape:
                raise ValueError(
                    f"y and scores must have the same shape, got {y.shape} and {scores.shape}."
                )
        display = cls(scores=scores, y=y, threshold=threshold, score_name=score_name)
        return display.plot(ax=ax, bins=bins, **kwargs)

    def plot(self, ax=None, *, bins=50, **kwargs):
        """Draw the histograms and the threshold.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        bins : int or sequence, default=50
        **kwargs : dict
            Passed to matplotlib's ``hist``.

        Returns
        -------
        display : ScoreDistributionDisplay
        """
        ax = _axes(ax, type(self).__name__)
        scores = np.asarray(self.scores, dtype=float)
        edges = np.histogram_bin_edges(scores, bins=bins)
        groups = (
            {"all": scores}
            if self.y is None
            else {label: scores[self.y == label] for label in np.unique(self.y)}
        )
        options = {"alpha": 0.5, "density": True, **kwargs}
        self.hists_ = {}
        for label, values in groups.items():
            name = "all samples" if self.y is None else f"y = {label} (n = {len(values)})"
            self.hists_[label] = ax.hist(values, bins=edges, label=name, **options)[2]
        self.threshold_line_ = None
        if self.threshold is not None:
            self.threshold_line_ = ax.axvline(
                self.threshold, color="black", linestyle="--", label="threshold"
            )
        ax.set_xlabel(self.score_name)
        ax.set_ylabel("density" if options["density"] else "count")
        if self.estimator_name:
            ax.set_title(f"{self.estimator_name}: scores")
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self


def _as_display_images(images):
    """(n, C, H, W) -> (n, H, W) or (n, H, W, 3), scaled to [0, 1] per array."""
    images = np.asarray(images, dtype=float)
    images = images.transpose(0, 2, 3, 1)
    if images.shape[-1] == 1:
        images = images[..., 0]
    low, high = images.min(), images.max()
    return (images - low) / (high - low) if high > low else np.zeros_like(images)


class ReconstructionDisplay:
    """Images, their reconstructions and the differences, in three rows.

    Parameters
    ----------
    images : ndarray of shape (n_images, C, H, W)
    reconstructions : ndarray of shape (n_images, C, H, W)
    titles : list of str, default=None
        One title per column (e.g. the label of each image).
    estimator_name : str, default=None

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes of shape (3, n_images)
        Rows: input, reconstruction, absolute difference.
    figure_ : matplotlib Figure
    """

    def __init__(self, *, images, reconstructions, titles=None, estimator_name=None):
        self.images = images
        self.reconstructions = reconstructions
        self.titles = titles
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, X, *, n_images=8, titles=None, **kwargs):
        """Reconstruct the first ``n_images`` images of ``X`` and plot them.

        Parameters
        ----------
        estimator : fitted detector fitted on images, or Pipeline ending in one
        X : array-like of images, as the detector was fitted on
        n_images : int, default=8
            How many images (columns) to show, from the first.
        titles : list of str, default=None
            Column titles, e.g. labels.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : ReconstructionDisplay
        """
        transform, detector = _fitted_detector(estimator, cls.__name__)
        if detector.image_shape_ is None:
            raise ValueError(
                f"{cls.__name__} needs a detector fitted on images (3-D/4-D X or "
                "image_shape); this one was fitted on a table: plot "
                "X - detector.reconstruct(X) per feature instead."
            )
        if n_images < 1:
            raise ValueError(f"n_images must be at least 1, got {n_images}.")
        X = X[:n_images]
        Xt = transform(X)
        reconstructions = np.asarray(detector.reconstruct(Xt)).reshape(-1, *detector.image_shape_)
        images = np.asarray(Xt, dtype=np.float32).reshape(-1, *detector.image_shape_)
        display = cls(
            images=images,
            reconstructions=reconstructions,
            titles=None if titles is None else list(titles)[:n_images],
            estimator_name=type(detector).__name__,
        )
        return display.plot(**kwargs)

    def plot(self, *, cmap="gray", difference_cmap="magma", figure=None):
        """Draw the three rows.

        Parameters
        ----------
        cmap : str, default="gray"
            Colour map of one-channel images and reconstructions.
        difference_cmap : str, default="magma"
            Colour map of the absolute difference (mean over channels).
        figure : matplotlib Figure, default=None
            Figure to draw in; a new one when None.

        Returns
        -------
        display : ReconstructionDisplay
        """
        plt = _pyplot(type(self).__name__)
        images = np.asarray(self.images, dtype=float)
        reconstructions = np.asarray(self.reconstructions, dtype=float)
        if images.shape != reconstructions.shape or images.ndim != 4:
            raise ValueError(
                "images and reconstructions must both have shape (n, C, H, W); got "
                f"{images.shape} and {reconstructions.shape}."
            )
        n_images = len(images)
        if figure is None:
            figure = plt.figure(figsize=(1.2 * n_images + 1, 4))
        axes = figure.subplots(3, n_images, squeeze=False)
        # One scale for inputs and reconstructions, so that they compare.
        both = _as_display_images(np.concatenate([images, reconstructions]))
        difference = np.abs(images - reconstructions).mean(axis=1)
        rows = [
            ("input", both[:n_images], cmap),
            ("reconstruction", both[n_images:], cmap),
            ("|difference|", difference, difference_cmap),
        ]
        for row, (label, pictures, colours) in enumerate(rows):
            vmax = float(difference.max()) if label == "|difference|" else 1.0
            for column in range(n_images):
                ax = axes[row, column]
                ax.imshow(pictures[column], cmap=colours, vmin=0.0, vmax=vmax or 1.0)
                ax.set_xticks([])
                ax.set_yticks([])
                if column == 0:
                    ax.set_ylabel(label, fontsize="small")
                if row == 0 and self.titles is not None:
                    ax.set_title(str(self.titles[column]), fontsize="small")
        if self.estimator_name:
            figure.suptitle(f"{self.estimator_name}: reconstructions")
        self.axes_, self.figure_ = axes, figure
        return self


class LatentMapDisplay:
    """A 2-D map of the latent codes, coloured by label.

    Parameters
    ----------
    embedding : ndarray of shape (n_samples, 2)
        The codes projected to two dimensions.
    y : ndarray of shape (n_samples,), default=None
        Label of each sample; one colour per label.
    method : str, default="pca"
        The projection, for the axis labels.
    estimator_name : str, default=None

    Attributes
    ----------
    scatters_ : dict of label to matplotlib PathCollection
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, *, embedding, y=None, method="pca", estimator_name=None):
        self.embedding = embedding
        self.y = y
        self.method = method
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(
        cls, estimator, X, y=None, *, method="pca", random_state=None, ax=None, **kwargs
    ):
        """Encode ``X`` (``detector.encode``), project the codes to 2-D and plot them.

        Parameters
        ----------
        estimator : fitted detector, or Pipeline ending in one
        X : array-like
        y : array-like of shape (n_samples,), default=None
        method : {"pca", "tsne"}, default="pca"
            scikit-learn's :class:`~sklearn.decomposition.PCA` or
            :class:`~sklearn.manifold.TSNE` (slower; its perplexity is
            lowered to ``(n_samples - 1) / 3`` for fewer than 91 samples).
        random_state : int, RandomState instance or None, default=None
            Seed of the projection.
        ax : matplotlib Axes, default=None
        **kwargs : dict
            Passed to matplotlib's ``scatter``.

        Returns
        -------
        display : LatentMapDisplay
        """
        if method not in ("pca", "tsne"):
            raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}.")
        transform, detector = _fitted_detector(estimator, cls.__name__)
        codes = np.asarray(detector.encode(transform(X)), dtype=float)
        if y is not None:
            y = np.asarray(y)
            if len(y) != len(codes):
                raise ValueError(f"y has {len(y)} labels for {len(codes)} samples.")
        if codes.shape[1] == 1:
            embedding = np.column_stack([codes[:, 0], np.zeros(len(codes))])
        elif method == "pca":
            from sklearn.decomposition import PCA

            embedding = PCA(n_components=2, random_state=random_state).fit_transform(codes)
        else:
            from sklearn.manifold import TSNE

            perplexity = min(30.0, (len(codes) - 1) / 3)
            embedding = TSNE(
                n_components=2, perplexity=perplexity, random_state=random_state
            ).fit_transform(codes)
        display = cls(
            embedding=embedding, y=y, method=method, estimator_name=type(detector).__name__
        )
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, **kwargs):
        """Draw the map.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        **kwargs : dict
            Passed to matplotlib's ``scatter``.

        Returns
        -------
        display : LatentMapDisplay
        """
        ax = _axes(ax, type(self).__name__)
        embedding = np.asarray(self.embedding, dtype=float)
        groups = (
            {None: np.ones(len(embedding), bool)}
            if self.y is None
            else {label: self.y == label for label in np.unique(self.y)}
        )
        options = {"s": 12, "alpha": 0.7, **kwargs}
        self.scatters_ = {}
        # The largest group first, so that small groups stay visible on top.
        for label, rows in sorted(groups.items(), key=lambda item: -item[1].sum()):
            name = "samples" if label is None else f"y = {label}"
            self.scatters_[label] = ax.scatter(
                embedding[rows, 0], embedding[rows, 1], label=name, **options
            )
        axis = {"pca": "PC", "tsne": "t-SNE "}[self.method]
        ax.set_xlabel(f"{axis}1")
        ax.set_ylabel(f"{axis}2")
        if self.estimator_name:
            ax.set_title(f"{self.estimator_name}: latent codes ({self.method})")
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class AnomalyMapDisplay:
    """Images, their anomaly maps and the maps over the images, in three rows.

    A map is :meth:`~sklearn_ganad.base.BaseGANDetector.anomaly_map`: each
    pixel's part of the image's anomaly score (the map sums to the score).

    Parameters
    ----------
    images : ndarray of shape (n_images, C, H, W)
    maps : ndarray of shape (n_images, H, W)
    scores : ndarray of shape (n_images,), default=None
        Anomaly scores (``-score_samples``), shown in the column titles.
    titles : list of str, default=None
        One title per column (e.g. the label of each image).
    estimator_name : str, default=None

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes of shape (3, n_images)
        Rows: input, anomaly map, overlay.
    figure_ : matplotlib Figure
    """

    def __init__(self, *, images, maps, scores=None, titles=None, estimator_name=None):
        self.images = images
        self.maps = maps
        self.scores = scores
        self.titles = titles
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, X, *, n_images=8, titles=None, **kwargs):
        """Compute the anomaly maps of the first ``n_images`` images of ``X`` and plot them.

        Parameters
        ----------
        estimator : detector fitted on images, or Pipeline ending in one
        X : array-like of images, as the detector was fitted on
        n_images : int, default=8
        titles : list of str, default=None
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : AnomalyMapDisplay
        """
        transform, detector = _fitted_detector(estimator, cls.__name__)
        if detector.image_shape_ is None:
            raise ValueError(
                f"{cls.__name__} needs a detector fitted on images; this one was fitted on "
                "a table: use FeatureContributionsDisplay."
            )
        if n_images < 1:
            raise ValueError(f"n_images must be at least 1, got {n_images}.")
        if titles is not None and len(titles) < min(n_images, len(X)):
            raise ValueError(
                f"{len(titles)} titles for {min(n_images, len(X))} images; give one per image."
            )
        Xt = transform(X[:n_images])
        maps = detector.anomaly_map(Xt)
        display = cls(
            images=np.asarray(Xt, dtype=np.float32).reshape(-1, *detector.image_shape_),
            maps=maps,
            scores=maps.sum(axis=(1, 2)),
            titles=None if titles is None else list(titles)[:n_images],
            estimator_name=type(detector).__name__,
        )
        return display.plot(**kwargs)

    def plot(self, *, cmap="gray", map_cmap="inferno", alpha=0.6, figure=None):
        """Draw the three rows; all maps share one colour scale.

        Parameters
        ----------
        cmap : str, default="gray"
            Colour map of one-channel images.
        map_cmap : str, default="inferno"
            Colour map of the anomaly maps.
        alpha : float, default=0.6
            Opacity of the map over the image in the last row.
        figure : matplotlib Figure, default=None

        Returns
        -------
        display : AnomalyMapDisplay
        """
        plt = _pyplot(type(self).__name__)
        images = np.asarray(self.images, dtype=float)
        maps = np.asarray(self.maps, dtype=float)
        if images.ndim != 4 or maps.shape != (images.shape[0], *images.shape[2:]):
            raise ValueError(
                "images must have shape (n, C, H, W) and maps (n, H, W); got "
                f"{images.shape} and {maps.shape}."
            )
        n_images = len(images)
        if figure is None:
            figure = plt.figure(figsize=(1.2 * n_images + 1, 4))
        axes = figure.subplots(3, n_images, squeeze=False)
        pictures = _as_display_images(images)
        vmax = float(maps.max()) or 1.0
        for column in range(n_images):
            for row in range(3):
                ax = axes[row, column]
                if row != 1:
                    ax.imshow(pictures[column], cmap=cmap, vmin=0.0, vmax=1.0)
                if row != 0:
                    ax.imshow(maps[column], cmap=map_cmap, vmin=0.0, vmax=vmax,
                              alpha=alpha if row == 2 else 1.0)  # fmt: skip
                ax.set_xticks([])
                ax.set_yticks([])
            title = [] if self.titles is None else [str(self.titles[column])]
            if self.scores is not None:
                title.append(f"{float(self.scores[column]):.3g}")
            if title:
                axes[0, column].set_title("\n".join(title), fontsize="small")
        for row, label in enumerate(("input", "anomaly map", "overlay")):
            axes[row, 0].set_ylabel(label, fontsize="small")
        if self.estimator_name:
            figure.suptitle(f"{self.estimator_name}: anomaly maps")
        self.axes_, self.figure_ = axes, figure
        return self


class FeatureContributionsDisplay:
    """The largest per-feature contributions to one row's anomaly score, as bars.

    Contributions are
    :meth:`~sklearn_ganad.base.BaseGANDetector.feature_contributions`: they
    sum, over all features, to the row's anomaly score.

    Parameters
    ----------
    contributions : ndarray of shape (n_features,)
        One row's contributions.
    feature_names : list of str, default=None
        Names of the features; ``x0, x1, ...`` when None.
    max_features : int, default=10
        How many of the largest contributions to draw.
    estimator_name : str, default=None

    Attributes
    ----------
    bars_ : matplotlib BarContainer
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, *, contributions, feature_names=None, max_features=10,
                 estimator_name=None):  # fmt: skip
        self.contributions = contributions
        self.feature_names = feature_names
        self.max_features = max_features
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, X, *, row=0, max_features=10, ax=None, **kwargs):
        """Compute one row's contributions and plot the largest.

        Parameters
        ----------
        estimator : fitted detector, or Pipeline ending in one
        X : array-like of shape (n_samples, n_features)
        row : int, default=0
            Index of the row of ``X`` to explain.
        max_features : int, default=10
        ax : matplotlib Axes, default=None
        **kwargs : dict
            Passed to matplotlib's ``barh``.

        Returns
        -------
        display : FeatureContributionsDisplay
        """
        transform, detector = _fitted_detector(estimator, cls.__name__)
        n_rows = len(X)
        if not -n_rows <= row < n_rows:
            raise ValueError(f"row {row} is out of range for X of {n_rows} rows.")
        one_row = X.iloc[[row]] if hasattr(X, "iloc") else np.asarray(X)[[row]]
        contributions = np.asarray(detector.feature_contributions(transform(one_row)))[0]
        names = getattr(estimator, "feature_names_in_", getattr(X, "columns", None))
        display = cls(
            contributions=contributions.ravel(),
            feature_names=None if names is None else [str(name) for name in names],
            max_features=max_features,
            estimator_name=type(detector).__name__,
        )
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, **kwargs):
        """Draw the bars, the largest on top.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        **kwargs : dict
            Passed to matplotlib's ``barh``.

        Returns
        -------
        display : FeatureContributionsDisplay
        """
        if self.max_features < 1:
            raise ValueError(f"max_features must be at least 1, got {self.max_features}.")
        ax = _axes(ax, type(self).__name__)
        contributions = np.asarray(self.contributions, dtype=float)
        names = self.feature_names or [f"x{j}" for j in range(len(contributions))]
        if len(names) != len(contributions):
            raise ValueError(f"{len(names)} feature names for {len(contributions)} contributions.")
        order = np.argsort(-contributions, kind="stable")[: self.max_features][::-1]
        self.bars_ = ax.barh([names[j] for j in order], contributions[order], **kwargs)
        total = contributions.sum()
        ax.set_xlabel(f"contribution to the anomaly score (row total {total:.3g})")
        if self.estimator_name:
            ax.set_title(f"{self.estimator_name}: largest feature contributions")
        self.ax_, self.figure_ = ax, ax.figure
        return self
