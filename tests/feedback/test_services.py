import uuid

import pytest
from django.core.exceptions import ValidationError

from feedback.models import ApiKey, Event, EventType, Vote
from feedback.services import (
    EventBatchInvalid,
    api_key_authenticate,
    api_key_create,
    event_record_batch,
    query_normalise,
    search_record,
    vote_record,
)
from tests import factories


@pytest.fixture
def article(category):
    return factories.article(
        category, title="Reset your password", slug="reset-your-password"
    )


def click(article, **kwargs):
    return {
        "id": str(uuid.uuid4()),
        "type": "click",
        "journey_id": "j1",
        "search_id": "s1",
        "article_id": article.pk,
        "rank": 1,
        **kwargs,
    }


@pytest.mark.django_db
def test_vote_can_be_changed_but_not_doubled(article):
    vote_record(article=article, helpful=True, visitor_id="visitor-aaaaaaaaaaaa")
    vote = vote_record(
        article=article,
        helpful=False,
        visitor_id="visitor-aaaaaaaaaaaa",
        reason="outdated",
    )
    assert Vote.objects.count() == 1
    assert vote.helpful is False and vote.reason == "outdated"
    vote_record(article=article, helpful=False, visitor_id="visitor-bbbbbbbbbbbb")
    assert Vote.objects.filter(article=article).count() == 2


@pytest.mark.django_db
def test_vote_belongs_to_the_revision_it_was_cast_on(article):
    first_revision = article.live_revision
    old = vote_record(article=article, helpful=True, visitor_id="visitor-aaaaaaaaaaaa")
    article.body = "A major rewrite."
    article.save_revision().publish()
    article.refresh_from_db()
    new = vote_record(article=article, helpful=False, visitor_id="visitor-bbbbbbbbbbbb")
    assert old.revision == first_revision
    assert new.revision == article.live_revision != first_revision


@pytest.mark.django_db
def test_vote_records_a_vote_event(article):
    vote_record(
        article=article,
        helpful=True,
        visitor_id="visitor-aaaaaaaaaaaa",
        journey_id="j9",
    )
    event = Event.objects.get(type=EventType.VOTE)
    assert (event.article, event.journey_id, event.extra, event.locale) == (
        article,
        "j9",
        {"helpful": True},
        "en",
    )


@pytest.mark.django_db
def test_vote_reason_is_dropped_when_helpful_and_comment_is_limited(article):
    vote = vote_record(
        article=article,
        helpful=True,
        visitor_id="visitor-aaaaaaaaaaaa",
        reason="unclear",
    )
    assert vote.reason is None
    with pytest.raises(ValidationError):
        vote_record(
            article=article,
            helpful=True,
            visitor_id="visitor-aaaaaaaaaaaa",
            comment="x" * 1001,
        )
    with pytest.raises(ValidationError):
        vote_record(
            article=article,
            helpful=False,
            visitor_id="visitor-aaaaaaaaaaaa",
            reason="boring",
        )


@pytest.mark.django_db
def test_event_batch_counts_accepted_and_duplicates_and_is_idempotent(article):
    events = [
        click(article),
        click(article),
        {"id": str(uuid.uuid4()), "type": "search", "query": "  Reset  PASSWORD "},
    ]
    assert event_record_batch(events=events, channel_default="widget") == (3, 0)
    assert event_record_batch(events=events, channel_default="widget") == (0, 3)
    repeated = {**events[0]}
    assert event_record_batch(
        events=[repeated, repeated, click(article)], channel_default="bot"
    ) == (1, 2)
    assert Event.objects.count() == 4
    assert Event.objects.get(type="search").query == "reset password"
    assert set(Event.objects.values_list("channel", flat=True)) == {"widget", "bot"}


@pytest.mark.django_db
def test_one_bad_event_rejects_the_whole_batch_and_names_it(article):
    events = [
        click(article),
        {"id": str(uuid.uuid4()), "type": "teleport"},
        click(article, rank=0),
    ]
    with pytest.raises(EventBatchInvalid) as info:
        event_record_batch(events=events, channel_default="widget")
    assert {(p["index"], p["field"]) for p in info.value.problems} == {
        (1, "type"),
        (2, "rank"),
    }
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_event_batch_refuses_unknown_and_draft_articles_and_unknown_fields(
    article, category
):
    draft = factories.article(category, slug="draft")
    draft.unpublish()
    events = [
        click(article, article_id=999999),
        click(draft),
        click(article, email="a@example.com"),
    ]
    with pytest.raises(EventBatchInvalid) as info:
        event_record_batch(events=events, channel_default="widget")
    assert [(p["index"], p["field"]) for p in info.value.problems] == [
        (0, "article_id"),
        (1, "article_id"),
        (2, "email"),
    ]


@pytest.mark.django_db
def test_event_batch_takes_at_most_100_events(article):
    with pytest.raises(EventBatchInvalid):
        event_record_batch(
            events=[click(article) for _ in range(101)], channel_default="widget"
        )
    assert event_record_batch(
        events=[click(article) for _ in range(100)], channel_default="widget"
    ) == (100, 0)


@pytest.mark.django_db
def test_search_record_stores_a_normalised_search_and_returns_its_id():
    search_id = search_record(
        query="How do I  Reset my Password?",
        locale="en",
        result_ids=[3, 1],
        channel="web",
    )
    event = Event.objects.get(search_id=search_id)
    assert len(search_id) == 32
    assert (event.type, event.query, event.result_count, event.result_ids) == (
        "search",
        "how do i reset my password?",
        2,
        [3, 1],
    )


def test_query_normalise_folds_case_and_spaces():
    assert query_normalise("  Straße\tPASSWORD ") == "strasse password"


@pytest.mark.django_db
def test_api_key_is_hashed_at_rest_and_authenticates_until_revoked():
    key, raw_key = api_key_create(name="Widget", scope="widget")
    assert raw_key not in key.key_hash and key.prefix in raw_key
    assert api_key_authenticate(raw_key=raw_key) == key
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
    assert api_key_authenticate(raw_key=raw_key + "x") is None
    assert api_key_authenticate(raw_key="nonsense") is None
    ApiKey.objects.filter(pk=key.pk).update(revoked_at="2026-01-01T00:00:00Z")
    assert api_key_authenticate(raw_key=raw_key) is None


@pytest.mark.django_db
def test_event_time_is_kept_when_sane_and_refused_when_far_off(article):
    from datetime import timedelta

    from django.utils import timezone

    at = timezone.now() - timedelta(hours=3)
    event_record_batch(
        events=[click(article, at=at.isoformat())], channel_default="widget"
    )
    assert Event.objects.get().at == at
    for bad in [
        (timezone.now() + timedelta(hours=1)).isoformat(),
        (timezone.now() - timedelta(days=30)).isoformat(),
        "2026-11-02T10:00:00",
        "yesterday",
    ]:
        with pytest.raises(EventBatchInvalid):
            event_record_batch(
                events=[click(article, at=bad)], channel_default="widget"
            )


@pytest.mark.django_db
def test_empty_batch_is_a_problem_of_the_whole_batch():
    with pytest.raises(EventBatchInvalid) as info:
        event_record_batch(events=[], channel_default="widget")
    assert list(info.value.message_dict) == ["events"]
