"""The ASB case review's rules at the spec's boundaries (casework.risk.asb_review)."""

import datetime as dt

import pytest

from casework.risk import asb_review as rule
from casework.risk.working_days import add_working_days

D = dt.date
R = D(2025, 8, 31)


def complaint(occurred, reported=None, victims=("v",), ref="c"):
    return rule.Complaint(ref, occurred, reported, frozenset(victims), ref)


@pytest.mark.parametrize(("occurred", "reported", "reason"), [
    (D(2025, 6, 10), D(2025, 7, 10), None),                      # exactly one month after
    (D(2025, 6, 10), D(2025, 7, 11), rule.REPORTED_LATE),         # one day more
    (D(2025, 3, 31), D(2025, 4, 30), None),                      # 31 March + 1 month = 30 April
    (D(2025, 3, 31), D(2025, 5, 1), rule.REPORTED_LATE),
    (D(2025, 6, 10), D(2025, 6, 9), rule.BEFORE_BEHAVIOUR),       # reported before it happened
    (D(2025, 2, 28), None, None),                                 # first day of the window (31 Aug - 6 months)
    (D(2025, 2, 27), None, "reported outside the 6 months before the application"),
    (D(2025, 2, 20), D(2025, 2, 28), None),                      # reported on the first day counts
    (D(2025, 8, 31), None, None),                                 # the day received
    (D(2025, 8, 31), D(2025, 9, 1), "reported outside the 6 months before the application"),
])
def test_a_complaint_qualifies_by_when_it_was_reported(occurred, reported, reason):
    assert rule.why_not(complaint(occurred, reported), R) == reason


def test_the_window_of_31_august_starts_on_the_last_day_of_february():
    assert rule.window(D(2025, 8, 31)) == (D(2025, 2, 28), D(2025, 8, 31))
    assert rule.window(D(2024, 8, 31)) == (D(2024, 2, 29), D(2024, 8, 31))


@pytest.mark.parametrize(("dates", "met", "counted"), [
    ([D(2025, 7, 1), D(2025, 7, 2)], False, 2),
    ([D(2025, 7, 1), D(2025, 7, 2), D(2025, 7, 3)], True, 3),
    ([D(2025, 7, 1), D(2025, 7, 1), D(2025, 7, 2)], False, 2),   # two agencies' records of one day
])
def test_a_personal_application_counts_distinct_days(dates, met, counted):
    result = rule.personal_threshold([complaint(d, ref=str(i)) for i, d in enumerate(dates)], R)
    assert (result.met, result.counted) == (met, counted)
    if len(set(dates)) < len(dates):
        assert [j.reason for j in result.judged].count(rule.SAME_DAY) == 1


@pytest.mark.parametrize(("people", "met"), [(["a", "b"], False), (["a", "b", "c"], True),
                                             (["a", "b", "b"], False)])
def test_a_community_application_counts_distinct_victims(people, met):
    complaints = [complaint(D(2025, 7, 1 + i), victims=(p,), ref=str(i)) for i, p in enumerate(people)]
    complaints.append(complaint(D(2025, 7, 20), victims=()))
    result = rule.community_threshold(complaints, R)
    assert result.met is met
    assert result.not_qualifying[0].reason == rule.NO_VICTIM


@pytest.mark.parametrize(("received", "due"), [
    (D(2026, 4, 2), D(2026, 4, 20)),    # across Good Friday and Easter Monday
    (D(2026, 12, 18), D(2027, 1, 6)),   # Christmas, Boxing Day's substitute Monday, New Year
    (D(2027, 12, 23), D(2028, 1, 11)),  # substitute days for Christmas, Boxing Day and New Year
    (D(2023, 5, 3), D(2023, 5, 18)),    # a one-off bank holiday: the coronation, 8 May 2023
])
def test_the_decision_is_due_ten_working_days_after_receipt(received, due):
    assert rule.decision_due(received) == due


def test_working_days_do_not_count_the_day_itself():
    assert add_working_days(D(2025, 7, 4), 1) == D(2025, 7, 7)  # Friday -> Monday


def test_an_undecided_application_is_late_from_the_day_after_its_due_date():
    received = D(2026, 4, 2)
    due = rule.decision_due(received)
    undecided = [rule.Application(received_on=received)]
    on_time = [rule.Application(received_on=received, decision="met", decided_on=due)]
    late = [rule.Application(received_on=received, decision="met", decided_on=due + dt.timedelta(days=1))]

    def decided_late(apps, as_of):
        return rule.figures(apps, year="2026/27", as_of=as_of)["decided_late"]

    assert decided_late(undecided, due) == 0
    assert decided_late(undecided, due + dt.timedelta(days=1)) == 1
    assert decided_late(on_time, D(2027, 1, 1)) == 0
    assert decided_late(late, due) == 1
    step = rule.steps(received_on=received, decision=None, decided_on=None, review_held_on=None,
                      outcome_sent_on=None)[0]
    assert step.due == due
    assert not step.overdue(due)  # due today: not yet overdue on the home pages
    assert step.overdue(due + dt.timedelta(days=1))


def test_the_figures_count_by_received_on_and_appeals_by_their_own_date():
    apps = [
        rule.Application(received_on=D(2025, 4, 1), decision="met", decided_on=D(2025, 4, 2),
                         review_held_on=D(2025, 4, 20), recommendations=2),
        rule.Application(received_on=D(2026, 3, 31), decision="not_met", decided_on=D(2026, 4, 30)),
        rule.Application(received_on=D(2025, 3, 31), decision="met", decided_on=D(2025, 4, 1),
                         review_held_on=D(2025, 4, 9), appeal_received_on=D(2025, 5, 1), appeal_upheld=True),
        rule.Application(received_on=D(2026, 4, 1)),
    ]
    assert rule.figures(apps, year="2025/26", as_of=D(2026, 5, 1)) == {
        "year": "2025/26", "from": "2025-04-01", "to": "2026-03-31", "as_of": "2026-05-01",
        "applications": 2, "threshold_not_met": 1, "undecided": 0, "reviews_held": 1,
        "reviews_with_recommendations": 1, "decided_late": 1, "appeals": 1, "appeals_upheld": 1}
    shown = rule.suppressed(rule.figures(apps, year="2025/26", as_of=D(2026, 5, 1)))
    assert shown["applications"] == "<5" and shown["undecided"] == 0 and shown["year"] == "2025/26"


@pytest.mark.parametrize("text", ["2025/27", "2025", "25/26", "2025-26", "abcd/ef"])
def test_a_year_that_is_not_a_financial_year_is_refused(text):
    with pytest.raises(rule.BadYear):
        rule.financial_year(text)
