"""GANomaly: the method's own behaviour and accuracy."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ganad import GANomaly
from sklearn_ganad.datasets import load_digits_one_class
from sklearn_ganad.metrics import anomaly_roc_auc_scorer
from sklearn_ganad.presets import paper_params

from ._params import make_fast


def test_paper_preset_is_the_authors_settings():
    params = GANomaly(**paper_params("GANomaly", "mnist")).get_params()
    assert params["lr"] == 2e-4 and tuple(params["betas"]) == (0.5, 0.999)
    assert params["batch_size"] == 64 and params["max_epochs"] == 15
    assert (
        params["adversarial_weight"],
        params["contextual_weight"],
        params["encoder_weight"],
    ) == (1.0, 50.0, 1.0)
    assert params["score_method"] == "l2" and params["discriminator_reset_threshold"] == 1e-5


def test_image_model_uses_the_papers_latent_size_and_dcgan_nets(small_images):
    detector = GANomaly(max_epochs=1, conv_channels=(8,), random_state=0).fit(small_images)
    assert detector.latent_dim_ == 100 and detector.architecture_ == "conv"
    model = detector.net_.module_
    assert isinstance(model.decoder.body[-1], torch.nn.Tanh)
    assert model.encoder(torch.zeros(2, 64)).shape == (2, 100)


def test_far_outliers_are_ranked_last(blobs):
    detector = GANomaly(max_epochs=30, batch_size=32, random_state=0, contamination=0.05)
    detector.fit(blobs)
    scores = detector.score_samples(blobs)
    assert scores[-5:].max() < scores[:-5].min()
    assert np.all(detector.predict(blobs[-5:]) == -1)
    assert np.mean(detector.predict(blobs[:-5]) == 1) > 0.95


def test_loss_weights_combine_the_three_generator_terms(small_table):
    detector = make_fast(
        GANomaly, adversarial_weight=2.0, contextual_weight=3.0, encoder_weight=4.0
    ).fit(small_table)
    for batch in detector.net_.history[-1, "batches"]:
        combined = (
            2 * batch["train_loss_adv"] + 3 * batch["train_loss_con"] + 4 * batch["train_loss_enc"]
        )
        assert batch["train_loss"] == pytest.approx(combined, rel=1e-5)


@pytest.mark.parametrize("score_method, reduce", [("l2", torch.square), ("l1", torch.abs)])
def test_score_method_is_the_latent_distance(small_table, score_method, reduce):
    detector = make_fast(GANomaly, score_method=score_method).fit(small_table)
    model = detector.net_.module_.eval()
    with torch.no_grad():
        x = torch.as_tensor(small_table, dtype=torch.float32)
        z = model.encoder(x)
        expected = reduce(z - model.latent_encoder(model.decoder(z))).mean(1)
    np.testing.assert_allclose(-detector.score_samples(small_table), expected, rtol=1e-5)


def test_discriminator_is_reset_when_its_loss_collapses(small_table):
    always = make_fast(GANomaly, discriminator_reset_threshold=1e9).fit(small_table)
    never = make_fast(GANomaly, discriminator_reset_threshold=None).fit(small_table)
    n_batches = sum(len(epoch["batches"]) for epoch in always.net_.history)
    assert always.net_.module_.n_discriminator_resets == n_batches
    assert never.net_.module_.n_discriminator_resets == 0
    assert not np.allclose(always.score_samples(small_table), never.score_samples(small_table))


def test_valid_loss_is_the_generator_objective_on_held_out_rows(small_table):
    detector = make_fast(GANomaly, validation_fraction=0.25).fit(small_table)
    net = detector.net_
    _, valid = net.get_split_datasets(small_table.astype(np.float32))
    x = torch.as_tensor(small_table.astype(np.float32)[valid.indices])
    model = net.module_.eval()
    with torch.no_grad():  # the objective written out from the paper's terms
        z = model.encoder(x)
        x_hat = model.decoder(z)
        expected = (
            ((model.discriminator.features(x) - model.discriminator.features(x_hat)) ** 2).mean()
            + 50 * (x - x_hat).abs().mean()
            + ((z - model.latent_encoder(x_hat)) ** 2).mean()
        )
    assert net.history[-1, "valid_loss"] == pytest.approx(expected.item(), rel=1e-5)


def test_one_class_digits_auc_is_well_above_chance():
    # Measured with these settings: AUC 1.000 (digit 0), 0.994 (1), 0.977 (8), 0.992 (9).
    aucs = []
    for digit in (0, 1, 8, 9):
        data = load_digits_one_class(digit)
        detector = GANomaly(max_epochs=40, batch_size=32, random_state=0).fit(data.X_train)
        aucs.append(roc_auc_score(data.y_test, -detector.score_samples(data.X_test)))
    assert min(aucs) > 0.95, aucs


def test_pipeline_in_grid_search_picks_a_best_parameter(blobs):
    y_anomaly = np.r_[np.zeros(len(blobs) - 5, dtype=int), np.ones(5, dtype=int)]
    pipeline = make_pipeline(
        StandardScaler(), GANomaly(max_epochs=5, batch_size=32, random_state=0)
    )
    grid = {"ganomaly__contextual_weight": [1.0, 50.0], "ganomaly__latent_dim": [2, 8]}
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    # scikit-learn's "roc_auc" reads decision_function (higher = normal): label inliers 1.
    search = GridSearchCV(pipeline, grid, scoring="roc_auc", cv=cv)
    search.fit(blobs, np.where(y_anomaly == 1, -1, 1))
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and search.best_score_ == scores.max() > 0.9
    # The refitted best pipeline ranks the five outliers last.
    normality = search.best_estimator_.score_samples(blobs)
    assert normality[-5:].max() < normality[:-5].min()
    # The package's scorer takes the papers' labels (anomaly = 1) and agrees.
    flipped = GridSearchCV(pipeline, grid, scoring=anomaly_roc_auc_scorer, cv=cv)
    flipped.fit(blobs, y_anomaly)
    np.testing.assert_allclose(
        flipped.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    )
    assert flipped.best_params_ == search.best_params_
