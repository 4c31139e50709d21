"""The names of the yearly ASB case review figures, as the figures page, the board pack and its
command show them."""

from __future__ import annotations

ASB_REVIEW_FIGURES = {"applications": "Applications", "threshold_not_met": "Threshold not met",
                      "undecided": "Not decided yet", "reviews_held": "Reviews held",
                      "reviews_with_recommendations": "Reviews that led to recommendations",
                      "decided_late": "Decided late (or undecided past the due date)",
                      "appeals": "Appeals received", "appeals_upheld": "Appeals upheld"}
