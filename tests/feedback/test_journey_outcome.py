"""journey_outcome's rules, and the attribution window's edges."""

from datetime import UTC, datetime, timedelta

from feedback.models import Event
from feedback.services import journey_outcome

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(hours=24)
LATER = T0 + timedelta(days=10)


def ev(type_, minutes=0, **kwargs):
    return Event(
        type=type_, at=T0 + timedelta(minutes=minutes), journey_id="j", **kwargs
    )


def outcome(events, now=LATER):
    return journey_outcome(events=events, now=now, window=WINDOW)


def test_resolved_without_escalation_is_an_explicit_deflection():
    result = outcome([ev("search", search_id="s"), ev("resolved", 2)])
    assert (result.outcome, result.explicit, result.settled) == (
        "deflected",
        True,
        True,
    )


def test_helpful_vote_is_an_inferred_deflection():
    result = outcome([ev("vote", 5, article_id=1, extra={"helpful": True})])
    assert (result.outcome, result.explicit) == ("deflected", False)


def test_unhelpful_vote_is_not_a_positive_signal():
    assert (
        outcome(
            [ev("search"), ev("vote", 5, article_id=1, extra={"helpful": False})]
        ).outcome
        == "abandoned"
    )


def test_click_or_view_reached_from_a_search_is_an_inferred_deflection():
    assert (
        outcome(
            [
                ev("search", search_id="s"),
                ev("click", 1, search_id="s", article_id=1, rank=1),
            ]
        ).outcome
        == "deflected"
    )
    assert outcome([ev("search"), ev("view", 1, article_id=1)]).outcome == "deflected"
    assert outcome([ev("view", 1, article_id=1, search_id="s")]).outcome == "deflected"


def test_view_not_reached_from_a_search_counts_for_nothing():
    assert outcome([ev("view", 1, article_id=1)]).outcome == "none"


def test_search_with_no_engagement_is_abandoned():
    assert outcome([ev("search"), ev("search", 1)]).outcome == "abandoned"


def test_escalation_after_self_service_is_ticketed_with_the_articles_seen_first():
    result = outcome(
        [
            ev("search"),
            ev("click", 1, article_id=7, rank=1),
            ev("view", 2, article_id=8),
            ev("escalated", 10),
            ev("view", 11, article_id=9),
        ]
    )
    assert (result.outcome, result.articles_before_ticket) == ("ticketed", [7, 8])


def test_ticket_without_self_service_is_ticketed():
    assert outcome([ev("ticket")]).outcome == "ticketed"


def test_ticket_exactly_at_the_window_boundary_is_ticketed():
    minutes = WINDOW.total_seconds() / 60
    events = [
        ev("search"),
        ev("click", 1, article_id=1, rank=1),
        ev("ticket", 1 + minutes),
    ]
    assert outcome(events).outcome == "ticketed"


def test_ticket_just_after_the_window_leaves_the_deflection_standing():
    minutes = WINDOW.total_seconds() / 60
    events = [
        ev("search"),
        ev("click", 1, article_id=1, rank=1),
        ev("ticket", 1 + minutes + 1 / 60),
    ]
    assert outcome(events).outcome == "deflected"


def test_search_then_ticket_after_the_window_is_abandoned():
    minutes = WINDOW.total_seconds() / 60
    assert outcome([ev("search"), ev("ticket", minutes + 1)]).outcome == "abandoned"


def test_deflection_is_unsettled_until_the_window_has_passed():
    events = [ev("search"), ev("resolved", 1)]
    boundary = T0 + timedelta(minutes=1) + WINDOW
    assert journey_outcome(events=events, now=boundary, window=WINDOW).settled is False
    after = journey_outcome(
        events=events, now=boundary + timedelta(seconds=1), window=WINDOW
    )
    assert (after.outcome, after.settled) == ("deflected", True)


def test_window_defaults_to_the_setting(settings):
    settings.KB_ATTRIBUTION_WINDOW_HOURS = 1
    events = [ev("search"), ev("resolved", 1), ev("ticket", 90)]
    assert journey_outcome(events=events, now=LATER).outcome == "deflected"
    settings.KB_ATTRIBUTION_WINDOW_HOURS = 2
    assert journey_outcome(events=events, now=LATER).outcome == "ticketed"


def test_empty_journey_counts_for_nothing():
    assert outcome([]).outcome == "none"
