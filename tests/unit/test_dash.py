"""The DASH checklist rules and the HRDA referral criteria (casework.risk.dash)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casework.config import DEFAULTS
from casework.risk import dash
from casework.risk.dash import Answer, Bands, Checklist, Criterion, DashError, RiskLevel


def checklist(yes: int, *, not_known: int = 0, answered: int = 24) -> Checklist:
    """`yes` yes answers, then `not_known` not-known ones, the rest of the first `answered` no."""
    answers = {}
    for n in range(1, answered + 1):
        answers[n] = Answer.YES if n <= yes else Answer.NOT_KNOWN if n <= yes + not_known else Answer.NO
    return Checklist(answers=answers)


# --- the questions ----------------------------------------------------------------------


def test_there_are_24_questions_numbered_1_to_24_as_in_the_spec():
    assert list(dash.QUESTIONS) == list(range(1, 25))
    assert dash.QUESTIONS[1] == "The current incident caused an injury"
    assert dash.QUESTIONS[14] == "Threats to kill the victim or someone else, believed"
    assert dash.QUESTIONS[24] == "The abuser has a criminal history or has been in trouble with the police"
    assert all(text and text[0].isupper() for text in dash.QUESTIONS.values())


def test_the_rules_import_neither_flask_nor_the_database():
    tree = ast.parse(Path(dash.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 if node.level == 0}
    assert not imported & {"flask", "sqlalchemy", "casework"}
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level > 0]


# --- answers, drafts, scores ------------------------------------------------------------


@pytest.mark.parametrize("text, answer", [
    ("yes", Answer.YES), ("YES", Answer.YES), ("no", Answer.NO), ("Not known", Answer.NOT_KNOWN),
    ("not_known", Answer.NOT_KNOWN), (" not  known ", Answer.NOT_KNOWN), ("", None), (None, None),
])
def test_answers_are_yes_no_or_not_known(text, answer):
    assert dash.parse_answer(text) is answer


def test_any_other_answer_is_refused_naming_the_question():
    with pytest.raises(DashError, match="question 5: 'maybe' is not an answer: use yes, no or not known"):
        Checklist.parse({5: "maybe"})


@pytest.mark.parametrize("key", [0, 25, "x", True, 3.0])
def test_a_question_outside_1_to_24_is_refused(key):
    with pytest.raises(DashError, match="DASH question"):
        Checklist.parse({key: "yes"})


def test_a_half_filled_checklist_is_a_draft_that_lists_its_unanswered_questions():
    draft = Checklist.parse({"1": "yes", 2: "no", 3: "", 4: None, 5: "not known"}, notes={3: "  fears for the children "})
    assert not draft.complete and not dash.is_complete(draft)
    assert draft.unanswered() == dash.unanswered(draft) == list(range(3, 5)) + list(range(6, 25))
    assert draft.notes == {3: "fears for the children"}
    assert draft.score == 1
    assessment = dash.assess(draft)
    assert (assessment.complete, assessment.unanswered[:2]) == (False, (3, 4))


def test_a_checklist_with_every_question_answered_is_complete():
    full = checklist(0, not_known=24)
    assert full.complete and full.unanswered() == []


def test_not_known_counts_as_no():
    assert checklist(9, not_known=15).score == 9
    assert dash.assess(checklist(13, not_known=11)).level is RiskLevel.MEDIUM


@given(st.dictionaries(st.integers(1, 24), st.sampled_from(list(Answer))))
def test_the_score_is_the_number_of_yes_answers(answers):
    cl = Checklist(answers=answers)
    assert cl.score == list(answers.values()).count(Answer.YES)
    assert cl.complete == (len(answers) == 24)


# --- risk levels and the bands ----------------------------------------------------------


@pytest.mark.parametrize("score, level", [
    (0, RiskLevel.STANDARD), (9, RiskLevel.STANDARD), (10, RiskLevel.MEDIUM), (13, RiskLevel.MEDIUM),
    (14, RiskLevel.HIGH), (24, RiskLevel.HIGH),
])
def test_default_bands_standard_to_9_medium_10_to_13_high_from_14(score, level):
    assessment = dash.assess(checklist(score))
    assert (assessment.score, assessment.scored_level, assessment.level) == (score, level, level)


def test_the_default_bands_are_the_configuration_defaults():
    assert Bands.from_config(DEFAULTS) == Bands(14, 10) == dash.DEFAULT_BANDS


def test_the_bands_come_from_configuration():
    bands = Bands.from_config({"DASH_HIGH_FROM": 12, "DASH_MEDIUM_FROM": 8})
    assert [bands.level(s) for s in (7, 8, 11, 12)] == [RiskLevel.STANDARD, RiskLevel.MEDIUM, RiskLevel.MEDIUM,
                                                       RiskLevel.HIGH]
    assert dash.assess(checklist(12), bands=bands).level is RiskLevel.HIGH


@pytest.mark.parametrize("high, medium", [(10, 14), (25, 10), (14, 0), ("14", 10), (14.0, 10)])
def test_bands_that_make_no_sense_are_refused(high, medium):
    with pytest.raises(DashError, match="DASH band"):
        Bands(high_from=high, medium_from=medium)


@pytest.mark.parametrize("score", [-1, 25, True])
def test_a_score_outside_0_to_24_is_refused(score):
    with pytest.raises(DashError, match="from 0 to 24"):
        Bands().level(score)


# --- professional judgement -------------------------------------------------------------


@pytest.mark.parametrize("score", [0, 9, 10, 13])
def test_professional_judgement_raises_the_level_to_high_with_a_written_reason(score):
    assessment = dash.assess(checklist(score), judgement="high", reason="  Ex-partner released from prison today ")
    assert assessment.level is RiskLevel.HIGH and assessment.raised_by_judgement
    assert assessment.reason == "Ex-partner released from prison today"
    assert assessment.score == score  # the score is what it is


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_raising_to_high_without_a_written_reason_is_refused(reason):
    with pytest.raises(DashError, match="needs a written reason"):
        dash.assess(checklist(13), judgement=RiskLevel.HIGH, reason=reason)


@pytest.mark.parametrize("judgement", [RiskLevel.MEDIUM, RiskLevel.STANDARD])
def test_professional_judgement_never_lowers_a_score_of_14_or_more(judgement):
    with pytest.raises(DashError, match="never lowers a score of 14 or more: this checklist scores 14"):
        dash.assess(checklist(14), judgement=judgement, reason="Victim says it was a one-off")


def test_professional_judgement_never_lowers_a_medium_score_either():
    with pytest.raises(DashError, match="never lower it"):
        dash.assess(checklist(10), judgement="standard", reason="Victim says it was a one-off")


def test_professional_judgement_only_raises_to_high():
    with pytest.raises(DashError, match="only raise the risk to high, not to medium"):
        dash.assess(checklist(9), judgement="medium", reason="Worried")


def test_judging_high_a_score_already_high_changes_nothing_but_is_recorded():
    assessment = dash.assess(checklist(14), judgement="high", reason="Threats to kill")
    assert assessment.level is RiskLevel.HIGH and not assessment.raised_by_judgement
    assert assessment.judged_high


def test_a_judgement_that_matches_the_score_needs_no_reason():
    assessment = dash.assess(checklist(11), judgement="medium")
    assert assessment.level is RiskLevel.MEDIUM and not assessment.judged_high and assessment.reason is None


def test_an_unknown_judgement_is_refused():
    with pytest.raises(DashError, match="'severe' is not a risk level"):
        dash.assess(checklist(3), judgement="severe", reason="x")


# --- HRDA referral criteria -------------------------------------------------------------


def propose(assessment=None, incidents: int = 0, days: int | None = None, **kw) -> dash.ReferralProposal:  # type: ignore[no-untyped-def]
    return dash.propose_hrda_referral(assessment=assessment, da_incidents_in_window=incidents,
                                      days_since_previous_hrda=days, **kw)


def test_a_score_of_14_proposes_a_referral_for_visible_high_risk():
    proposal = propose(dash.assess(checklist(14)))
    assert proposal.proposed and proposal.criteria == (Criterion.VISIBLE_HIGH_RISK,)
    assert proposal.reasons == ("visible high risk: a DASH score of 14 (14 or more)",)


def test_a_score_of_13_alone_proposes_nothing():
    proposal = propose(dash.assess(checklist(13)), incidents=2, days=366)
    assert not proposal.proposed and proposal.criteria == () and proposal.reasons == ()


def test_visible_high_risk_follows_the_configured_band():
    bands = Bands(high_from=12, medium_from=8)
    assert propose(dash.assess(checklist(12), bands=bands)).criteria == (Criterion.VISIBLE_HIGH_RISK,)
    assert propose(dash.assess(checklist(11), bands=bands)).criteria == ()


def test_professional_judgement_proposes_a_referral_saying_why():
    proposal = propose(dash.assess(checklist(5), judgement="high", reason="Recent strangulation"))
    assert proposal.criteria == (Criterion.PROFESSIONAL_JUDGEMENT,)
    assert proposal.reasons == ("professional judgement that the risk is high: Recent strangulation",)


def test_three_incidents_within_the_window_are_potential_escalation_whatever_the_score():
    proposal = propose(dash.assess(checklist(0)), incidents=3)
    assert proposal.criteria == (Criterion.ESCALATION,)
    assert "3 domestic abuse incidents as victim within 365 days (3 or more)" in proposal.reasons[0]
    assert propose(incidents=3).criteria == (Criterion.ESCALATION,)


def test_two_incidents_are_not_potential_escalation():
    assert not dash.is_potential_escalation(2)
    assert propose(incidents=2).criteria == ()


def test_the_escalation_threshold_is_configuration():
    assert dash.is_potential_escalation(4, threshold=4) and not dash.is_potential_escalation(3, threshold=4)
    assert propose(incidents=2, escalation_incidents=2).criteria == (Criterion.ESCALATION,)


@pytest.mark.parametrize("days, repeat", [(None, False), (0, False), (1, True), (364, True), (365, True),
                                          (366, False)])
def test_a_previous_hrda_referral_from_1_to_365_days_before_makes_a_repeat(days, repeat):
    # As measure HRDA1: an earlier referral dated from d - 365 to d - 1.
    assert dash.is_repeat_referral(days) is repeat
    assert (propose(days=days).criteria == (Criterion.REPEAT,)) is repeat


def test_a_repeat_is_proposed_whatever_the_score_and_says_how_long_ago():
    proposal = propose(dash.assess(checklist(2)), days=364)
    assert proposal.criteria == (Criterion.REPEAT,)
    assert proposal.reasons == ("repeat: the previous HRDA referral was 364 days before (within 365)",)


def test_every_criterion_that_holds_is_listed_in_the_spec_order():
    proposal = propose(dash.assess(checklist(20), judgement="high", reason="Weapon seen"), incidents=5, days=30)
    assert proposal.criteria == (Criterion.VISIBLE_HIGH_RISK, Criterion.PROFESSIONAL_JUDGEMENT,
                                 Criterion.ESCALATION, Criterion.REPEAT)
    assert len(proposal.reasons) == 4
    assert [c.label for c in proposal.criteria] == ["Visible high risk (DASH)", "Professional judgement",
                                                    "Potential escalation", "Repeat referral"]


def test_the_criteria_values_match_the_referral_vocabulary():
    from casework.models.vocab import HrdaCriteria

    assert {c.value for c in Criterion} - {c.value for c in HrdaCriteria} <= {"repeat"}


@pytest.mark.parametrize("incidents, days", [(-1, None), (0, -5), (True, None), (0, 1.5)])
def test_counts_that_cannot_be_are_refused(incidents, days):
    with pytest.raises(DashError, match="whole number"):
        propose(incidents=incidents, days=days)
