"""Figures the papers report, to print beside ours.

Sources: ``../shared/reference/algorithms.md`` and ``algorithms-detailed.md``
(read from the papers and the authors' code). Figures marked unverified there
are marked so here. Keys are (data set, method as the paper names it).
"""

#: (data set, method) -> dict(metric values, source, peer = our row it compares to)
PAPER_FIGURES = {
    ("kddcup99", "EGBAD (cross-entropy score)"): dict(
        precision=0.9200, recall=0.9582, f1=0.9372, source="EGBAD paper, via EGBAD repo issue #7"
    ),
    ("kddcup99", "ALAD"): dict(
        precision=0.9427, recall=0.9577, f1=0.9501, source="ALAD paper, Table II (unverified)",
        peer="PyOD-ALAD",
    ),
    ("kddcup99", "AnoGAN"): dict(
        precision=0.8786, recall=0.8297, f1=0.8865,
        source="EGBAD/ALAD papers (unverified; P and R imply F1 0.853)", peer="PyOD-AnoGAN",
    ),
    ("kddcup99", "OC-SVM"): dict(
        precision=0.7457, recall=0.8523, f1=0.7954, source="DAGMM paper via ALAD (unverified)",
        peer="OneClassSVM",
    ),
    ("kddcup99", "DAGMM"): dict(
        precision=0.9297, recall=0.9442, f1=0.9369, source="DAGMM paper"
    ),
    ("kddcup99", "IsolationForest (defaults, reference run)"): dict(
        f1=0.932, roc_auc=0.989, source="measured on this split, min-max scaled (algorithms.md)",
        peer="IsolationForest",
    ),
    ("arrhythmia", "ALAD"): dict(
        precision=0.5000, recall=0.5313, f1=0.5152, source="ALAD paper, Table II (unverified)",
        peer="PyOD-ALAD",
    ),
    ("arrhythmia", "AnoGAN"): dict(
        precision=0.4118, recall=0.4375, f1=0.4242, source="ALAD paper (unverified)",
        peer="PyOD-AnoGAN",
    ),
    ("arrhythmia", "OC-SVM"): dict(
        precision=0.5397, recall=0.4082, f1=0.4581, source="ALAD paper (unverified)",
        peer="OneClassSVM",
    ),
    ("arrhythmia", "DAGMM"): dict(
        precision=0.4909, recall=0.5078, f1=0.4983, source="DAGMM paper via ALAD (unverified)"
    ),
}  # fmt: skip

#: Why a data set has no paper figure.
NO_FIGURE = {
    "mnist": "the papers plot MNIST per-digit results without tables; no figure is verified",
    "mnist-one-anomalous": "GANomaly's paper plots these AUCs (Fig. 4) without a table",
    "digits": "scikit-learn's 8x8 digits are not in any paper",
}


def figures_for(dataset):
    """Return ``[(paper method, figures)]`` for a data set (unscaled variants included)."""
    base = "kddcup99" if dataset.startswith("kddcup99") else dataset
    return [(method, figs) for (name, method), figs in PAPER_FIGURES.items() if name == base]
