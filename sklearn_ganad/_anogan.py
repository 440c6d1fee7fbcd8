"""AnoGAN: a GAN on normal data, and a latent search per sample to score it."""

from __future__ import annotations

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._gan import _GANDetector
from ._net import AdversarialModel
from .losses import (
    bce_with_logits,
    bce_with_logits_per_sample,
    norm,
    norm_terms,
    wasserstein_critic_loss,
)
from .networks import NetworkSpec, make_anogan_mnist_discriminator, make_egbad_mnist_generator
from .utils._docstring import fill_doc
from .utils._registry import register_detector
from .utils._torch import frozen, fused_adam_supported

__all__ = ["AnoGAN", "AnoGANModel", "WassersteinAnoGANModel"]


def _search_lr_factor(step: int, n_steps: int) -> float:
    # The EGBAD code's piecewise-constant schedule, in shares of the search:
    # lr for the first 60% of the steps, lr / 10 until 80%, lr / 20 after.
    if step < 0.6 * n_steps:
        return 1.0
    return 0.1 if step < 0.8 * n_steps else 0.05


class AnoGANModel(AdversarialModel):
    """AnoGAN's networks, GAN objective and latent-search score (Schlegl et al., 2017).

    Training is the standard GAN with a non-saturating generator loss: D
    minimises ``BCE(D(x), 1) + BCE(D(G(z)), 0)``, then G minimises
    ``BCE(D(G(z)), 1)``, with ``z ~ N(0, I)``.
    :class:`WassersteinAnoGANModel` trains with WGAN-GP instead.

    Scoring searches, for each sample x, the code z whose image G(z) is
    closest to x under the loss
    ``L(z) = w * ||x - G(z)||_d + (1 - w) * L_D(z)``, with L_D feature
    matching ``||f(x) - f(G(z))||_d`` on D's last hidden layer (``"fm"``) or
    ``softplus(-D(G(z)))`` (``"ce"``); the anomaly score is L at the final z.

    The search is batched: every row has its own z, and the batch loss is the
    *sum* of the per-row losses, so each z gets exactly the gradient of its
    own loss and Adam (an element-wise update) moves it as a search over that
    row alone would. It starts, for each row, from the best of the fixed
    candidate codes ``search_candidates`` (drawn once, when the model is
    built), so a row's score does not depend on the rows scored with it.

    Parameters
    ----------
    generator : torch.nn.Module
        G (z -> x).
    discriminator : Encoder
        D, with a ``features`` hook.
    latent_dim : int
    score_method : {"fm", "ce"}
    reconstruction_weight : float
        w, the weight of the residual; L_D gets ``1 - w``.
    norm_degree : int
    n_search_iter : int
        Adam steps of the search.
    search_lr : float
        Initial step size of the search (see :class:`AnoGAN`).
    n_search_candidates : int
        Number of fixed candidate starting codes.
    """

    player_networks = {"discriminator": ("discriminator",), "generator": ("generator",)}
    main_player = "generator"
    loss_terms = ()
    # A coupled ensemble scores each member with its own D: every other pair
    # would repeat the latent search.
    score_every_pair = False

    def __init__(
        self, generator, discriminator, *, latent_dim, score_method="fm",
        reconstruction_weight=0.9, norm_degree=1, n_search_iter=500, search_lr=0.01,
        n_search_candidates=64,
    ):  # fmt: skip
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.score_method = score_method
        self.reconstruction_weight = reconstruction_weight
        self.norm_degree = norm_degree
        self.n_search_iter = n_search_iter
        self.search_lr = search_lr
        # A buffer: it follows the model to its device and into pickles. The
        # truncated normal (at 2 sigma) is the authors' search initialisation.
        candidates = torch.nn.init.trunc_normal_(
            torch.empty(n_search_candidates, latent_dim), a=-2, b=2
        )
        self.register_buffer("search_candidates", candidates)

    def __setstate__(self, state):
        super().__setstate__(state)
        # Models pickled before WGAN-GP had its own class say so in gan_loss.
        if state.get("gan_loss") == "wgan-gp" and type(self) is AnoGANModel:
            self.__class__ = WassersteinAnoGANModel

    def loss_discriminator(self, x, handoff):
        """Return the discriminator's loss ``BCE(D(x), 1) + BCE(D(G(z)), 0)``."""
        z = self.sample_latent(x)
        with torch.no_grad():
            generated = self.generator(z)
        loss = bce_with_logits(self.discriminator(x), 1.0) + bce_with_logits(
            self.discriminator(generated), 0.0
        )
        return loss, {}

    def loss_generator(self, x, handoff):
        """Return the generator's non-saturating loss on a batch of ``len(x)`` codes."""
        judged = self.discriminator(self.generator(self.sample_latent(x)))
        return bce_with_logits(judged, 1.0), {}

    # -- the latent search -------------------------------------------------

    def _discrimination(self, features_x, generated):
        if self.score_method == "fm":
            return norm(features_x, self.discriminator.features(generated), self.norm_degree)
        return bce_with_logits_per_sample(self.discriminator(generated), 1.0)

    def search_loss(self, x, features_x, z):
        """Per-row search loss L(z) for the rows ``x`` and their codes ``z``.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)
        features_x : torch.Tensor of shape (n, n_hidden) or None
            ``D.features(x)`` for ``"fm"``, else None.
        z : torch.Tensor of shape (n, latent_dim)

        Returns
        -------
        loss : torch.Tensor of shape (n,)
        """
        generated = self.generator(z)
        weight = self.reconstruction_weight
        return weight * norm(x, generated, self.norm_degree) + (1.0 - weight) * (
            self._discrimination(features_x, generated)
        )

    def initial_latent(self, x, features_x):
        """Return, for each row, the candidate code with the lowest search loss.

        G and D see the candidates once for the whole batch; only the
        distances are computed per row.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)
        features_x : torch.Tensor of shape (n, n_hidden) or None

        Returns
        -------
        z : torch.Tensor of shape (n, latent_dim)
        """
        candidates = self.search_candidates.to(x.dtype)
        generated = self.generator(candidates)
        p, weight = float(self.norm_degree), self.reconstruction_weight
        mode = "donot_use_mm_for_euclid_dist"  # exact per row, whatever the batch
        cost = weight * torch.cdist(x, generated, p=p, compute_mode=mode)
        if self.score_method == "fm":
            features = self.discriminator.features(generated)
            cost = cost + (1.0 - weight) * torch.cdist(features_x, features, p=p, compute_mode=mode)
        else:
            cost = cost + (1.0 - weight) * self._discrimination(None, generated)[None, :]
        return candidates[cost.argmin(dim=1)]

    def latent_search(self, x, n_iter=None):
        """Search a code for every row of ``x`` at once; return its loss and the codes.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)
        n_iter : int or None, default=None
            Adam steps; None uses ``n_search_iter``.

        Returns
        -------
        loss : torch.Tensor of shape (n,)
            The search loss at the final codes: the anomaly score.
        z : torch.Tensor of shape (n, latent_dim)
            The final codes.
        """
        n_iter = self.n_search_iter if n_iter is None else n_iter
        # The search runs in full precision even under mixed precision (its
        # gradients, unscaled, would underflow in float16).
        full_precision = torch.autocast(x.device.type, enabled=False)
        with torch.no_grad(), full_precision:
            features_x = self.discriminator.features(x) if self.score_method == "fm" else None
            z = self.initial_latent(x, features_x)
        z.requires_grad_(True)
        optimizer = torch.optim.Adam(
            [z], lr=self.search_lr, fused=fused_adam_supported(str(x.device))
        )
        # G and D stay fixed: no gradient is computed for their weights.
        with torch.enable_grad(), frozen(self.parameters()), full_precision:
            for step in range(n_iter):
                optimizer.param_groups[0]["lr"] = self.search_lr * _search_lr_factor(step, n_iter)
                optimizer.zero_grad(set_to_none=True)
                # The sum, not the mean: each row's gradient is its own.
                self.search_loss(x, features_x, z).sum().backward()
                optimizer.step()
        z = z.detach()
        with torch.no_grad(), full_precision:
            return self.search_loss(x, features_x, z), z

    def reconstruct(self, x):
        """Return ``(z*, G(z*))``, z* found by :meth:`latent_search`."""
        code = self.latent_search(x)[1]
        with torch.no_grad():
            return code, self.generator(code)

    def anomaly_score(self, x):
        """Return AnoGAN's score: the search loss after ``n_search_iter`` steps."""
        return self.latent_search(x)[0]

    def score_parts(self, x):
        """The residual's per-feature terms at z*, and the discriminator's part.

        z* is searched once, for x; the remainder at other inputs keeps it.
        Like the search, the parts are computed in full precision.
        """
        code = self.latent_search(x.detach())[1]
        weight = self.reconstruction_weight
        with torch.autocast(x.device.type, enabled=False):
            generated = self.generator(code).detach()
            feature_terms = weight * norm_terms(x, generated, self.norm_degree)

        def remainder(points):
            with torch.autocast(points.device.type, enabled=False):
                features = (
                    self.discriminator.features(points) if self.score_method == "fm" else None
                )
                return (1.0 - weight) * self._discrimination(features, generated)

        return feature_terms, remainder, generated


class WassersteinAnoGANModel(AnoGANModel):
    """AnoGAN trained as f-AnoGAN's first stage: WGAN-GP, then the same search.

    D is a critic trained on
    :func:`~sklearn_ganad.losses.wasserstein_critic_loss` every batch; G
    minimises ``-mean D(G(z))`` once per ``n_critic`` batches.

    Parameters
    ----------
    generator, discriminator, latent_dim, **search_options
        As :class:`AnoGANModel`.
    n_critic : int
    gradient_penalty_weight : float
    """

    loss_terms = ("wasserstein_distance", "gradient_penalty")

    def __init__(
        self, generator, discriminator, *, latent_dim, n_critic=5, gradient_penalty_weight=10.0,
        **search_options,
    ):  # fmt: skip
        super().__init__(generator, discriminator, latent_dim=latent_dim, **search_options)
        self.n_critic = n_critic
        self.gradient_penalty_weight = gradient_penalty_weight

    def update_every(self, player):
        """The generator steps once per ``n_critic`` batches."""
        return self.n_critic if player == "generator" else 1

    def loss_discriminator(self, x, handoff):
        """Return the critic's WGAN-GP loss and its terms."""
        with torch.no_grad():
            generated = self.generator(self.sample_latent(x))
        return wasserstein_critic_loss(
            self.discriminator, x, generated, self.gradient_penalty_weight
        )

    def loss_generator(self, x, handoff):
        """Return the generator's WGAN loss on a batch of ``len(x)`` codes."""
        return -self.discriminator(self.generator(self.sample_latent(x))).mean(), {}


@fill_doc()
@register_detector
class AnoGAN(_GANDetector):
    """AnoGAN anomaly detector: a GAN and a latent search per sample
    (Schlegl, Seeboeck, Waldstein, Schmidt-Erfurth and Langs, 2017).

    A generator G (z -> x) and a discriminator D are trained on normal data
    with the standard GAN objective. To score x, a code z is optimised for
    ``n_search_iter`` Adam steps, with G and D fixed, to minimise

    ``L(z) = reconstruction_weight * ||x - G(z)||_d + (1 -
    reconstruction_weight) * L_D(z)``

    and the anomaly score is L at the final z; ``score_samples(X) = -L``. The
    paper's lambda, the weight of the discrimination loss L_D, is ``1 -
    reconstruction_weight``.

    The search runs on whole batches of rows (see
    :class:`~sklearn_ganad.AnoGANModel`): it gives the same result as a search
    per row, hundreds of times faster. Each row starts from the best of
    ``n_search_candidates`` codes drawn at ``fit``, so its score does not
    depend on the other rows.

    Parameters
    ----------
    %(contamination)s
    %(preprocessing)s
    %(feature_clip)s
    score_method : {"fm", "ce"}, default="fm"
        The discrimination loss L_D: ``"fm"``, feature matching
        ``||f(x) - f(G(z))||_d`` on D's last hidden layer (the paper's
        choice), or ``"ce"``, the cross-entropy ``softplus(-D(G(z)))`` of
        G(z) against "real" (the paper's alternative).
    reconstruction_weight : float in [0, 1], default=0.9
        Weight of the residual ``||x - G(z)||_d`` in the search loss and the
        score; L_D gets ``1 - reconstruction_weight`` (the paper's lambda =
        0.1).
    norm_degree : int, default=1
        Degree d of both norms (1 in the paper).
    n_search_iter : int or "auto", default="auto"
        Adam steps of the latent search per sample. The cost of scoring
        grows linearly with it. ``"auto"`` is 100 for tables and 20 for
        images, where a step costs a convolutional pass (the paper's 500 is
        in :func:`~sklearn_ganad.presets.paper_params`); the value used is
        ``n_search_iter_``.
    search_lr : float, default=0.01
        Initial step size of the search's Adam. As in the EGBAD code it is
        divided by 10 after 60%% of the steps and by 20 after 80%%.
    n_search_candidates : int, default=512
        Fixed candidate codes, drawn at ``fit`` from the truncated normal the
        authors start from; each row starts at the candidate with the lowest
        search loss (1 starts every row from the same code). The candidates
        are scored once per batch of rows, so many cost little; 512 ranked
        better than 64 across the development tables (mean ROC AUC 0.758 vs
        0.751 over 22 tables; on the 3-feature skin table 0.83 vs 0.69),
        where a short search from a poor start leaves normal rows
        unexplained.
    gan_loss : {"standard", "wgan-gp"}, default="standard"
        How G and D are trained. ``"standard"`` is the paper's GAN (D a
        classifier of logits, the non-saturating G loss). ``"wgan-gp"``
        trains them as f-AnoGAN's first stage does (D a Wasserstein critic
        with a gradient penalty, no batch normalisation in D, G updated once
        per ``n_critic`` critic steps): a remedy when the standard GAN
        collapses onto one mode of the data, as it does on KDDCUP99 (see
        Notes). Use it with ``betas=(0.0, 0.9)`` and a larger ``lr`` (1e-4 in
        WGAN-GP's paper; ``discriminator_dropout=0`` and ``ema_decay=None``
        make D and the weights f-AnoGAN's), and with ``score_method="fm"``: a
        critic's output is not a logit, so ``"ce"`` is refused.
    %(n_critic)s Used with ``gan_loss="wgan-gp"`` only.
    %(gradient_penalty_weight)s Used with ``gan_loss="wgan-gp"`` only.
    %(architecture)s
    %(image_shape)s
    latent_dim : int or "auto", default="auto"
        Size of the latent code; ``"auto"`` is 100 for images (DCGAN) and,
        for tables, 32 (the KDDCUP99 model of the EGBAD and ALAD code) capped
        at half the number of features, at least 2 (a narrower code leaves
        the search less freedom to draw the anomalies too). On
        the 26 tables of the benchmarks' ``adbench`` suite (all narrower than
        64 features) the cap raised the mean ROC AUC over seeds 0-2 from
        0.763 to 0.787, better on 18 tables of 26 (see the user guide's
        "Training budgets"). The value used is ``latent_dim_``.
    hidden_layer_sizes : tuple of int, default=(256, 128, 128)
        Hidden widths of D's perceptron, from the data side; the last is the
        feature layer of ``"fm"``.
    generator_layer_sizes : tuple of int, default=(64, 128)
        Hidden widths of G's perceptron, from the latent side.
    discriminator_dropout : float in [0, 1), default=0.2
        Dropout after each hidden layer of D.
    negative_slope : float, default=0.1
        Leaky ReLU slope of D (0.1 in the EGBAD code).
    %(conv_channels)s
    %(output_activation)s
    ema_decay : float in [0, 1) or None, default=0.9999
        Decay of the exponential moving average of the weights used to score
        (see :class:`~sklearn_ganad.GANNet`); the EGBAD code uses 0.9999 for
        KDDCUP99. ``None`` scores with the last weights.
    %(max_epochs)s
    %(batch_size)s
    %(lr)s
    %(betas)s
    %(validation_fraction)s
    %(restore_best_weights)s
    %(ensemble_size)s
    %(precision)s
    %(distributed)s
    %(device)s
    %(n_threads)s
    %(random_state)s
    %(verbose)s
    %(callbacks)s

    Attributes
    ----------
    %(shared_attributes)s
    n_search_iter_ : int
        The search steps per sample (``n_search_iter`` resolved).

    See Also
    --------
    FAnoGAN : Replaces the search by an encoder trained after the GAN.
    EGBAD : Learns the encoder together with the GAN (a BiGAN).

    Notes
    -----
    The networks are the KDDCUP99 model of the AnoGAN baseline in the EGBAD
    code (``gan/kdd_utilities.py``): latent size 32; G: 32 -> 64 -> 128
    (ReLU) -> 121 (linear); D: 121 -> 256 -> 128 -> 128 (leaky ReLU 0.1,
    dropout 0.2; the last layer is f) -> 1 logit; Glorot initialisation;
    Adam with beta1 0.5; weights averaged with decay 0.9999; search steps from
    0.01, L1 norms, lambda = 0.1. The training and search defaults are chosen
    for the data a user brings (see the user guide's "Training budgets");
    the baseline's settings (lr 1e-5, batch size 50, 100 epochs, 500 search
    steps, no scaling) are ``paper_params("AnoGAN", "kddcup99")``
    (:func:`~sklearn_ganad.presets.paper_params`). The paper
    itself used a DCGAN on 64x64 images; images here use the package's
    DCGAN-style networks (see :mod:`sklearn_ganad.networks`).

    ``gan_loss="wgan-gp"`` is not in the AnoGAN paper: it is the GAN of its
    successor, f-AnoGAN, scored by AnoGAN's search instead of f-AnoGAN's
    encoder. KDDCUP99's training rows are nearly two point masses; in the
    package's benchmark the standard GAN's generator collapses onto the
    larger one on min-max scaled rows (the search then ranks the other's
    test rows as anomalies) and misses the raw rows in one seed of three,
    while the WGAN-GP generator covers them in every seed.

    Deviations: the search starts from the best of fixed candidates rather
    than from a fresh random code per sample (so that scores are
    deterministic and independent of the batch); the moving average covers D
    as well as G (the EGBAD code scores with a raw D). With
    ``validation_fraction`` set, ``valid_loss`` is the mean score of the
    held-out rows, which runs the full search every epoch.

    References
    ----------
    .. [1] T. Schlegl, P. Seeboeck, S. M. Waldstein, U. Schmidt-Erfurth and
       G. Langs, "Unsupervised Anomaly Detection with Generative Adversarial
       Networks to Guide Marker Discovery", IPMI, 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ganad import AnoGAN
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 4))
    >>> detector = AnoGAN(max_epochs=20, lr=1e-3, n_search_iter=50, random_state=0).fit(X)
    >>> detector.predict([[0.0, 0.0, 0.0, 0.0], [6.0, -6.0, 6.0, -6.0]])
    array([ 1, -1])
    """

    _parameter_constraints: dict = {
        **_GANDetector._parameter_constraints,
        "score_method": [StrOptions({"fm", "ce"})],
        "reconstruction_weight": [Interval(Real, 0, 1, closed="both")],
        "norm_degree": [Interval(Integral, 1, None, closed="left")],
        "n_search_iter": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "search_lr": [Interval(Real, 0, None, closed="neither")],
        "n_search_candidates": [Interval(Integral, 1, None, closed="left")],
        "gan_loss": [StrOptions({"standard", "wgan-gp"})],
        "discriminator_dropout": [Interval(Real, 0, 1, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
    }

    _auto_latent_dim = {"mlp": 32, "conv": 100}
    # As EGBAD's: a code at most half as wide as the table's rows ranked
    # better on the suite (see the latent_dim docstring).
    _auto_latent_feature_share = 0.5
    # The MNIST model of the EGBAD repository's AnoGAN (the paper's own
    # networks, for retinal OCT patches, are not published).
    _paper_image_networks = {
        "generator": make_egbad_mnist_generator,
        "discriminator": make_anogan_mnist_discriminator,
    }
    # The search runs in float32, on chunks padded to one fixed size: the
    # matrix kernels then treat every row alike, so a row's score does not
    # depend on the rows around it, at half the cost of float64.
    _exact_scores = {"mlp": False, "conv": False}
    _score_chunk_size = {"mlp": 1024, "conv": 128}
    _score_is_one_pass = False

    def __init__(
        self,
        *,
        contamination=0.1,
        preprocessing="auto",
        feature_clip="auto",
        score_method="fm",
        reconstruction_weight=0.9,
        norm_degree=1,
        n_search_iter="auto",
        search_lr=0.01,
        n_search_candidates=512,
        gan_loss="standard",
        n_critic=5,
        gradient_penalty_weight=10.0,
        architecture="auto",
        image_shape=None,
        latent_dim="auto",
        hidden_layer_sizes=(256, 128, 128),
        generator_layer_sizes=(64, 128),
        discriminator_dropout=0.2,
        negative_slope=0.1,
        conv_channels=(64, 128, 256, 512),
        output_activation="auto",
        ema_decay=0.9999,
        max_epochs="auto",
        batch_size=50,
        lr="auto",
        betas=(0.5, 0.999),
        validation_fraction="auto",
        restore_best_weights="auto",
        ensemble_size=1,
        precision="32",
        distributed="auto",
        device="auto",
        n_threads=None,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        super().__init__(
            contamination=contamination,
            preprocessing=preprocessing,
            feature_clip=feature_clip,
            architecture=architecture,
            image_shape=image_shape,
            latent_dim=latent_dim,
            hidden_layer_sizes=hidden_layer_sizes,
            conv_channels=conv_channels,
            output_activation=output_activation,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            betas=betas,
            validation_fraction=validation_fraction,
            restore_best_weights=restore_best_weights,
            ensemble_size=ensemble_size,
            precision=precision,
            distributed=distributed,
            device=device,
            n_threads=n_threads,
            random_state=random_state,
            verbose=verbose,
            callbacks=callbacks,
        )
        self.score_method = score_method
        self.reconstruction_weight = reconstruction_weight
        self.norm_degree = norm_degree
        self.n_search_iter = n_search_iter
        self.search_lr = search_lr
        self.n_search_candidates = n_search_candidates
        self.gan_loss = gan_loss
        self.n_critic = n_critic
        self.gradient_penalty_weight = gradient_penalty_weight
        self.generator_layer_sizes = generator_layer_sizes
        self.discriminator_dropout = discriminator_dropout
        self.negative_slope = negative_slope
        self.ema_decay = ema_decay

    def _check_parameters(self):
        super()._check_parameters()
        if self.gan_loss == "wgan-gp" and self.score_method == "ce":
            raise ValueError(
                "score_method='ce' needs a discriminator that outputs logits; with "
                "gan_loss='wgan-gp' D is a Wasserstein critic. Use score_method='fm'."
            )

    def _net_params(self):
        return {"ema_decay": self.ema_decay}

    # n_search_iter="auto": search steps per network family.
    _auto_search_iter = {"mlp": 100, "conv": 20}
    # max_epochs="auto" without the tables' floor of 5 epochs: AnoGAN's
    # standard GAN degrades with longer training on large tables (KDDCUP99,
    # 50,000 rows, seed 0: F1 0.902 after the 2 epochs of the step budget,
    # 0.450 after 5).
    _auto_min_epochs = {"mlp": 1, "conv": 1}

    def _build_model(self, spec: NetworkSpec) -> AnoGANModel:
        self.n_search_iter_ = (
            self._auto_search_iter[spec.kind]
            if self.n_search_iter == "auto"
            else int(self.n_search_iter)
        )
        # The gradient penalty is per sample, which batch normalisation breaks.
        batch_norm = None if self.gan_loss == "standard" else False
        if self.gan_loss == "wgan-gp" and self._uses_paper_networks(spec):
            raise ValueError(
                "architecture='paper' builds the EGBAD code's AnoGAN MNIST discriminator, "
                "whose batch normalisation breaks the per-sample gradient penalty of "
                "gan_loss='wgan-gp'; use architecture='conv' or gan_loss='standard'."
            )
        model_class, wgan_options = AnoGANModel, {}
        if self.gan_loss == "wgan-gp":
            model_class = WassersteinAnoGANModel
            wgan_options = dict(
                n_critic=self.n_critic, gradient_penalty_weight=self.gradient_penalty_weight
            )
        return model_class(
            self._make_generator(spec),
            self._make_discriminator(
                spec, dropout=self.discriminator_dropout, batch_norm=batch_norm
            ),
            latent_dim=self.latent_dim_,
            score_method=self.score_method,
            reconstruction_weight=self.reconstruction_weight,
            norm_degree=self.norm_degree,
            n_search_iter=self.n_search_iter_,
            search_lr=self.search_lr,
            n_search_candidates=self.n_search_candidates,
            **wgan_options,
        )
