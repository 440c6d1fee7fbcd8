"""Aggregate benchmark rows into Markdown tables and figures; compare two runs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .paper_figures import NO_FIGURE, figures_for

METRICS = ["roc_auc", "average_precision", "precision", "recall", "f1"]
COSTS = ["fit_seconds", "score_rows_per_second", "peak_memory_mb"]

#: Data sets reported as a suite of tables: per-table metrics and ranks.
SUITE_DATASETS = ("adbench",)


def aggregate(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread per (data set, method).

    Multi-task data sets (one task per digit) are first averaged over tasks
    within each seed; the spread is the standard deviation over seeds.
    """
    failed = rows["error"].notna()
    per_seed = (
        rows[~failed]
        .groupby(["dataset", "method", "family", "seed"], sort=False)[METRICS + COSTS]
        .mean()
    )
    grouped = per_seed.groupby(level=["dataset", "method", "family"], sort=False)
    mean = grouped.mean()
    std = grouped.std(ddof=0)[METRICS].add_suffix("_std")
    seeds = grouped.size().rename("n_seeds")
    summary = pd.concat([mean, std, seeds], axis=1).reset_index()
    # A method that failed on some tasks would look better averaged over the rest.
    n_failed = rows[failed].groupby(["dataset", "method"]).size().rename("n_failed")
    summary = summary.merge(n_failed, on=["dataset", "method"], how="left")
    summary["n_failed"] = summary["n_failed"].fillna(0).astype(int)
    return summary


def _cell(mean, std, n_seeds, digits=3):
    if pd.isna(mean):
        return "n/a"
    if n_seeds > 1:
        return f"{mean:.{digits}f} ± {std:.{digits}f}"
    return f"{mean:.{digits}f}"


def dataset_table(summary: pd.DataFrame, dataset: str) -> str:
    """Markdown table of one data set: our runs, then the papers' figures."""
    part = summary[summary["dataset"] == dataset]
    figures = figures_for(dataset)
    by_ours = {figs["ours"]: (method, figs) for method, figs in figures if figs.get("ours")}
    lines = [
        "| method | kind | ROC AUC | average precision | precision | recall | F1 | "
        "fit s | scoring rows/s | peak MB | paper F1 (method) | F1 gap |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for _, row in part.iterrows():
        cells = [_cell(row[m], row[f"{m}_std"], row["n_seeds"]) for m in METRICS]
        if row["n_failed"]:
            cells = [f"{cell} ({row['n_failed']} runs failed)" for cell in cells]
        paper, gap = "", ""
        if row["method"] in by_ours:
            name, figs = by_ours[row["method"]]
            if "f1" in figs:
                paper = f"{figs['f1']:.4f} ({name})"
                gap = f"{row['f1'] - figs['f1']:+.3f}"
        lines.append(
            f"| {row['method']} | {row['family']} | {' | '.join(cells)} | "
            f"{row['fit_seconds']:.1f} | {row['score_rows_per_second']:,.0f} | "
            f"{row['peak_memory_mb']:.0f} | {paper} | {gap} |"
        )
    for name, figs in figures:
        values = [f"{figs[m]:.4f}" if m in figs else "" for m in METRICS]
        lines.append(
            f"| *{name}, as reported* | paper | {' | '.join(values)} | | | | {figs['source']} | |"
        )
    return "\n".join(lines)


def per_task_table(rows: pd.DataFrame, dataset: str, metric: str = "roc_auc") -> str:
    """Markdown table of one metric per task (digit): the mean over seeds.

    A method run with several seeds on a task shows ``mean ± std`` there (the
    standard deviation over seeds); the last column is the mean over tasks. A
    method without the metric (rows written before it existed) is left out.
    """
    part = rows[(rows["dataset"] == dataset) & rows["error"].isna()]
    if metric not in part:
        return ""
    part = part[part[metric].notna()]
    if part.empty:  # the data set's rows all predate the metric
        return ""
    grouped = part.groupby(["method", "task"], sort=False)[metric]
    mean = grouped.mean().unstack("task")
    std = grouped.std(ddof=0).unstack("task")
    seeds = grouped.size().unstack("task")
    tasks = list(dict.fromkeys(part["task"]))
    lines = ["| method | " + " | ".join(tasks) + " | mean |", "|---|" + "---:|" * (len(tasks) + 1)]
    for method in dict.fromkeys(part["method"]):
        cells = [
            "n/a" if pd.isna(mean.loc[method, task])
            else f"{mean.loc[method, task]:.3f} ± {std.loc[method, task]:.3f}"
            if seeds.loc[method, task] > 1 else f"{mean.loc[method, task]:.3f}"
            for task in tasks
        ]  # fmt: skip
        lines.append(f"| {method} | {' | '.join(cells)} | {mean.loc[method, tasks].mean():.3f} |")
    return "\n".join(lines)


def per_task_metric(rows: pd.DataFrame, metric: str = "roc_auc") -> pd.DataFrame:
    """One metric per task (rows) and method (columns), averaged over seeds.

    Failed runs are left out; a method with no successful run on a task has
    NaN there. Tasks and methods keep the order of their first appearance.
    """
    tasks, methods = list(dict.fromkeys(rows["task"])), list(dict.fromkeys(rows["method"]))
    part = rows[rows["error"].isna()]
    if part.empty:
        return pd.DataFrame(np.nan, index=tasks, columns=methods)
    table = part.pivot_table(
        index="task", columns="method", values=metric, aggfunc="mean", sort=False
    )
    return table.reindex(index=tasks, columns=methods)


def suite_summary(
    rows: pd.DataFrame, *, reference="IsolationForest", decimals=3, fail_below=0.5,
    reference_above=0.7,
) -> pd.DataFrame:  # fmt: skip
    """Per-method aggregates of a multi-task family (one row per method).

    ``rows`` are results rows of one data set (several tasks, any seeds).
    Each method's ROC AUC and average precision are first averaged over seeds
    per task; then, over the tasks:

    * ``roc_auc_mean``, ``roc_auc_median``, ``ap_mean``, ``ap_median``;
    * ``mean_rank``: rank by ROC AUC within each task (1 = best, ties
      averaged, last for a method that failed there), averaged over the
      tasks;
    * ``wins``, ``ties``, ``losses``: tasks where the method's ROC AUC is
      above, equal to or below the ``reference`` method's (NaN for the
      reference itself, or when it did not run);
    * ``failures``: tasks where the method's ROC AUC is below ``fail_below``
      while the reference's is above ``reference_above``;
    * ``fit_seconds``: mean over the method's successful runs;
    * ``n_tasks`` (tasks with a result) and ``n_failed`` (failed runs).

    Ranks and comparisons use ROC AUC rounded to ``decimals`` (the report's
    precision), so differences too small to print count as ties. Sorted by
    mean rank.
    """
    auc = per_task_metric(rows, "roc_auc")
    ap = per_task_metric(rows, "average_precision")
    shown = auc.round(decimals)
    # A method without a result on a task (a failed run) ranks last there.
    ranks = shown.rank(axis=1, ascending=False, method="average", na_option="bottom")
    ok = rows[rows["error"].isna()]
    summary = pd.DataFrame(
        {
            "family": rows.drop_duplicates("method").set_index("method")["family"],
            "n_tasks": auc.notna().sum(),
            "roc_auc_mean": auc.mean(),
            "roc_auc_median": auc.median(),
            "ap_mean": ap.mean(),
            "ap_median": ap.median(),
            "mean_rank": ranks.mean(),
            "wins": np.nan,
            "ties": np.nan,
            "losses": np.nan,
            "failures": np.nan,
            "fit_seconds": ok.groupby("method")["fit_seconds"].mean(),
            "n_failed": rows[rows["error"].notna()].groupby("method").size(),
        },
        index=auc.columns,
    )
    summary["n_failed"] = summary["n_failed"].fillna(0).astype(int)
    if reference in auc.columns:
        ref = shown[reference]
        difference = shown.sub(ref, axis=0)
        summary["wins"] = (difference > 0).sum()
        summary["ties"] = (difference == 0).sum()
        summary["losses"] = (difference < 0).sum()
        summary["failures"] = ((auc < fail_below) & (auc[reference] > reference_above).to_numpy()[
            :, None]).sum()  # fmt: skip
        summary.loc[reference, ["wins", "ties", "losses", "failures"]] = np.nan
    summary.index.name = "method"
    return summary.sort_values("mean_rank", kind="stable")


def _number(value, digits=3):
    return "n/a" if pd.isna(value) else f"{value:.{digits}f}"


def suite_summary_table(rows: pd.DataFrame, reference="IsolationForest") -> str:
    """Markdown table of :func:`suite_summary`."""
    summary = suite_summary(rows, reference=reference)
    n_tasks = rows["task"].nunique()
    lines = [
        f"| method | kind | tables | ROC AUC mean | ROC AUC median | AP mean | AP median | "
        f"mean rank | wins / ties / losses vs {reference} | AUC < 0.5 where {reference} > 0.7 "
        "| fit s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for method, row in summary.iterrows():
        tables = f"{row['n_tasks']} of {n_tasks}"
        if row["n_failed"]:
            tables += f" ({row['n_failed']} runs failed)"
        versus = (
            "—" if pd.isna(row["wins"])
            else f"{row['wins']:.0f} / {row['ties']:.0f} / {row['losses']:.0f}"
        )  # fmt: skip
        failures = "—" if pd.isna(row["failures"]) else f"{row['failures']:.0f}"
        lines.append(
            f"| {method} | {row['family']} | {tables} | {_number(row['roc_auc_mean'])} | "
            f"{_number(row['roc_auc_median'])} | {_number(row['ap_mean'])} | "
            f"{_number(row['ap_median'])} | {_number(row['mean_rank'], 2)} | {versus} | "
            f"{failures} | {_number(row['fit_seconds'], 1)} |"
        )
    return "\n".join(lines)


def suite_metric_table(rows: pd.DataFrame, metric: str, methods=None) -> str:
    """Markdown table of one metric: tasks as rows, methods as columns (best in bold).

    ``methods`` orders the columns (default: order of appearance).
    """
    table = per_task_metric(rows, metric)
    if methods is not None:
        table = table[[m for m in methods if m in table.columns]]
    sizes = rows.groupby("task", sort=False)[["n_train_available", "n_test"]].first()
    lines = [
        "| table | train / test rows | " + " | ".join(table.columns) + " |",
        "|---|---:|" + "---:|" * len(table.columns),
    ]
    for task, values in table.iterrows():
        best = values.round(3).max()
        cells = [
            "n/a" if pd.isna(v) else f"**{v:.3f}**" if round(v, 3) == best else f"{v:.3f}"
            for v in values
        ]
        size = sizes.loc[task]
        lines.append(
            f"| {task} | {size['n_train_available']:,.0f} / {size['n_test']:,.0f} | "
            + " | ".join(cells) + " |"
        )  # fmt: skip
    return "\n".join(lines)


def markdown_report(rows: pd.DataFrame, notes: dict, metadata: dict) -> str:
    """The whole Markdown report of a run."""
    summary = aggregate(rows)
    out = [
        f"# Benchmark results: `{metadata['profile']}` profile",
        "",
        f"Command: `{metadata['command']}`  ",
        f"Machine: {metadata['machine']}; torch {metadata['torch']}, scikit-learn "
        f"{metadata['sklearn']}, pyod {metadata['pyod']}; device {metadata['device']}; "
        f"{metadata['total_minutes']:.1f} minutes in all"
        + (f", over {metadata['sittings']} sittings." if metadata.get("sittings", 1) > 1 else "."),
        "",
        "Anomalies are the positive class. Precision, recall and F1 flag the test scores at or "
        "above the protocol's percentile (80th for KDDCUP99, 85th for arrhythmia as the ALAD "
        "code flags the top 15%, the test set's normal share elsewhere). `±` is the standard "
        "deviation over seeds (model seeds; the splits are the papers'). Fit seconds, scoring "
        "speed and peak memory (resident-set increase during fit and scoring) are means over "
        "runs.",
    ]
    for dataset in dict.fromkeys(rows["dataset"]):
        out += ["", f"## {dataset}", ""]
        for note in notes.get(dataset, []):
            out.append(f"- {note}")
        if dataset in NO_FIGURE:
            out.append(f"- no paper figure: {NO_FIGURE[dataset]}")
        part = rows[rows["dataset"] == dataset]
        if dataset in SUITE_DATASETS and part["error"].isna().any():
            order = list(suite_summary(part).index)
            out += [
                "", f"Over the {part['task'].nunique()} tables (metrics averaged over seeds per "
                "table first; ranks by ROC AUC per table, 1 = best, ties averaged, a failed run "
                "last; ROC AUC compared at three decimals):", "", suite_summary_table(part),
                "", "ROC AUC per table (best in bold):", "",
                suite_metric_table(part, "roc_auc", order),
                "", "Average precision per table (best in bold):", "",
                suite_metric_table(part, "average_precision", order),
                "", "Means over the tables, with F1 at the test set's anomaly share and costs:",
            ]  # fmt: skip
        out += ["", dataset_table(summary, dataset)]
        if part["task"].nunique() > 1 and dataset not in SUITE_DATASETS:
            spread = " (± the standard deviation over seeds)" if part["seed"].nunique() > 1 else ""
            out += ["", f"ROC AUC per task{spread}:", "", per_task_table(rows, dataset)]
            trapezoid = per_task_table(rows, dataset, "pr_auc_trapezoid")
            if trapezoid:
                out += ["", "Area under the precision-recall curve per task, by the trapezoidal "
                        f"rule as EGBAD's code computes it{spread}:", "", trapezoid]  # fmt: skip
        errors = part[part["error"].notna()]
        for _, row in errors.iterrows():
            out.append(
                f"- {row['method']} failed on {row['task']} (seed {row['seed']}): {row['error']}"
            )
    return "\n".join(out) + "\n"


_DASHES = ("-", "--", "-.", ":")


def curve_styles(n):
    """``n`` distinct (colour, line style) pairs for curves in one figure.

    tab20's ten dark colours, then their ten light partners; the dash style
    cycles with the curve and shifts by one every 20 curves, so no two of the
    first 80 curves share both colour and dash (and a colour's light partner
    never has its dash).
    """
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    order = [*range(0, 20, 2), *range(1, 20, 2)]
    return [
        {"color": cmap(order[i % 20]), "linestyle": _DASHES[(i + i // 20) % len(_DASHES)]}
        for i in range(n)
    ]


def plot_task(scores: dict, y_test, threshold_percentile, title, path_prefix):
    """ROC curves of every method, and score histograms per class with the threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    fig, ax = plt.subplots(figsize=(5, 5) if len(scores) <= 10 else (6, 6))
    for (method, anomaly), style in zip(scores.items(), curve_styles(len(scores)), strict=True):
        fpr, tpr, _ = roc_curve(y_test, anomaly)
        ax.plot(fpr, tpr, label=method, linewidth=1.2, **style)
    # Black: tab20 has a grey that a dotted curve may wear.
    ax.plot([0, 1], [0, 1], color="black", linestyle=":", linewidth=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC: {title}")
    ax.legend(loc="lower right", fontsize="small" if len(scores) <= 10 else "x-small")
    fig.tight_layout()
    fig.savefig(f"{path_prefix}_roc.png", dpi=80)
    plt.close(fig)

    n = len(scores)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    # A constrained layout keeps the figure's title clear of the first row's.
    fig, axes = plt.subplots(
        rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False, layout="constrained"
    )
    for ax, (method, anomaly) in zip(axes.flat, scores.items(), strict=False):
        # Heavy tails would squeeze everything into one bar: clip to the central 99%.
        low, high = np.percentile(anomaly, [0.5, 99.5])
        clipped = np.clip(anomaly, low, high)
        bins = np.histogram_bin_edges(clipped, bins=40)
        ax.hist(clipped[y_test == 0], bins=bins, alpha=0.6, density=True, label="normal")
        ax.hist(clipped[y_test == 1], bins=bins, alpha=0.6, density=True, label="anomaly")
        ax.axvline(np.percentile(anomaly, threshold_percentile), color="black", linestyle="--",
                   linewidth=1, label="threshold")  # fmt: skip
        ax.set_title(method, fontsize="small")
        ax.set_xlabel("anomaly score (clipped to the 0.5-99.5th percentiles)", fontsize="small")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize="small")
    fig.suptitle(f"Score distributions: {title}")
    fig.savefig(f"{path_prefix}_hist.png", dpi=80)
    plt.close(fig)


def compare(rows: pd.DataFrame, reference: pd.DataFrame, *, tolerance=0.02, spread=3.0):
    """Compare a run with a reference run, metric by metric.

    A metric agrees when it differs by at most ``max(tolerance, spread *
    std)``, with ``std`` its standard deviation over seeds for the same task
    in the reference (seed noise; zero with one seed). A run that fails where
    the reference succeeded, and a reference run missing from this one, do
    not agree.

    Returns
    -------
    ok : bool
    report : str
    """
    keys = ["dataset", "task", "method", "seed"]
    # Only the data sets, tasks and methods this run covers are compared.
    covered = rows[["dataset", "task", "method"]].drop_duplicates()
    reference = reference.merge(covered, on=["dataset", "task", "method"])
    merged = rows.merge(reference, on=keys, suffixes=("", "_ref"))
    if merged.empty:
        return False, "No run of this invocation matches a row of the reference."
    noise = reference.groupby(["dataset", "task", "method"])[METRICS].std(ddof=0).fillna(0.0)
    merged = merged.join(noise.add_suffix("_noise"), on=["dataset", "task", "method"])
    lines = ["| data set | method | metric | max difference | allowed | agrees |",
             "|---|---|---|---:|---:|---|"]  # fmt: skip
    ok = True
    for (dataset, method), group in merged.groupby(["dataset", "method"], sort=False):
        newly_failed = group["error"].notna() & group["error_ref"].isna()
        if newly_failed.any():
            ok = False
            lines.append(f"| {dataset} | {method} | (runs) | {int(newly_failed.sum())} "
                         "failed now, not in the reference | | NO |")  # fmt: skip
        for metric in METRICS:
            allowed = np.maximum(tolerance, spread * group[f"{metric}_noise"])
            difference = (group[metric] - group[f"{metric}_ref"]).abs()
            agrees = bool(((difference <= allowed) | group[f"{metric}_ref"].isna()).all())
            ok &= agrees
            lines.append(
                f"| {dataset} | {method} | {metric} | {np.nanmax(difference, initial=0):.4f} | "
                f"{allowed.max():.4f} | {'yes' if agrees else 'NO'} |"
            )
    missing = len(reference) - len(merged)
    if missing:
        ok = False
        lines.append(f"\n{missing} reference runs are missing from this run.")
    lines.append(f"\n{len(merged)} of {len(rows)} runs matched the reference.")
    return ok, "\n".join(lines)
