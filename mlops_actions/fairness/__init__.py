"""Group fairness of a model's predictions: ``evaluate(y_true, y_pred, sensitive_features, FairnessOptions(...))
-> FairnessReport``.

Everything comes from per-group confusion counts computed in one vectorised pass (``np.bincount`` over
``group_code * 4 + 2 * y_true_positive + y_pred_positive``), never from a loop over rows or groups of rows.

Definitions are those of fairlearn 0.15 (``MetricFrame.difference`` / ``ratio`` with ``method=
"between_groups"`` or ``"to_overall"``, ``demographic_parity_*``, ``equal_opportunity_*``,
``equalized_odds_*`` with ``agg="worst_case"`` or ``"mean"``), with one documented exception: a rate whose
denominator is zero (TPR of a group without positives, precision of a group with no positive prediction...)
is NaN, shown "n/a", where fairlearn returns 0 (scikit-learn's ``zero_division``). Undefined group rates are
skipped by the min/max, as fairlearn skips NaN rows; for equalized odds an undefined TPR or FPR term makes the
combination undefined. ``FairnessOptions(fairlearn_compat=True)`` reproduces fairlearn exactly, zeros and all.

``report.by_group``: one row per group, indexed like ``MetricFrame.by_group`` (control levels first, then one
level per sensitive feature; several sensitive features give every intersection, an empty one has n = 0 and
NaN rates). Columns: n, positives, negatives, tp, fp, tn, fn, and each rate of selection_rate, tpr, fpr, tnr,
fnr, accuracy, precision with its Wilson 95% interval in ``<rate>_lower`` / ``<rate>_upper``.
Regression (``task="regression"``): n, mae, rmse, mean_prediction.

``report.overall``: the same columns for all rows (a Series), or per control stratum (a DataFrame).

``report.summary`` keys (floats, NaN when undefined). The bare key is fairlearn's default
(``method="between_groups"``, ``agg="worst_case"``); ``@to_overall`` selects ``method="to_overall"`` and
``@mean`` selects ``agg="mean"``:

- ``demographic_parity_difference``, ``demographic_parity_difference@to_overall``
- ``demographic_parity_ratio``, ``demographic_parity_ratio@to_overall``
- ``equal_opportunity_difference``, ``equal_opportunity_difference@to_overall``
- ``equal_opportunity_ratio``, ``equal_opportunity_ratio@to_overall``
- ``equalized_odds_difference``, ``equalized_odds_difference@mean``,
  ``equalized_odds_difference@to_overall``, ``equalized_odds_difference@to_overall@mean``
- ``equalized_odds_ratio``, ``equalized_odds_ratio@mean``, ``equalized_odds_ratio@to_overall``,
  ``equalized_odds_ratio@to_overall@mean``
- regression: ``mae_difference``, ``rmse_difference``, ``mean_prediction_difference`` (max − min over groups;
  the one name the spec's gates, the records and the report use)

With control features each summary value is the worst over the strata (largest difference, smallest ratio)
and ``report.summary_by_stratum[label]`` gives each stratum's values (what fairlearn's ``MetricFrame`` with
``control_features`` returns). ``report.summary_ci[key] = (lower, upper)``: a 95% basic (pivotal) bootstrap
interval, clipped to [0, 1], from ``bootstrap`` replicates of the *counts* (per group a seeded multinomial
redraw of its four confusion cells at its own size), classification only; ``bootstrap=0`` skips it.

``report.warnings``: groups below ``min_group_size`` on the denominator that matters (n for the selection
rate, positives for TPR, negatives for FPR), empty intersections, labels that are not binary, labels
outside {0, 1} without ``pos_label``, a ``pos_label`` that never occurs. ``report.to_dict()`` is JSON-ready
and deterministic (NaN → null, sorted keys); ``mlops_actions.reporting.fairness`` renders it.
"""

from __future__ import annotations

from mlops_actions.fairness.engine import FairnessOptions, evaluate
from mlops_actions.fairness.report import FairnessReport

__all__ = ["FairnessOptions", "FairnessReport", "evaluate"]
