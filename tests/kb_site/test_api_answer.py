"""GET /api/v1/answer: the best answer for a chatbot, logged as a search."""

import pytest

from feedback.models import Event
from tests import factories


@pytest.fixture
def articles(category):
    return [
        factories.article(
            category,
            title="How do I reset my password?",
            slug="reset-password",
            kind="faq",
            summary="Reset a forgotten password.",
            body="Open the sign-in page, choose **Forgot password** and follow the "
            "link we e-mail you to reset your password.\n",
        ),
        factories.article(
            category,
            title="Change your e-mail address",
            slug="change-email",
            body="Open settings and change the e-mail address of your account.\n",
        ),
        factories.article(
            category,
            title="Password rules for agents",
            slug="agent-password-override",
            audience="internal",
            body="Agents can force a password reset password from the console.\n",
        ),
    ]


def test_answer_cites_the_best_article_with_a_passage(client, articles):
    response = client.get(
        "/api/v1/answer",
        {"q": "how do I reset my password", "locale": "en", "journey_id": "j-9"},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["query"] == "how do I reset my password" and data["locale"] == "en"
    answer = data["answer"]
    reset = articles[0]
    reset.refresh_from_db()
    assert answer["id"] == reset.pk
    assert answer["url"] == "http://testserver/en/account-and-sign-in/reset-password/"
    assert answer["revision_id"] == reset.live_revision_id
    assert "Forgot password" in answer["passage"] and "<" not in answer["passage"]
    assert len(answer["passage"]) <= 600
    assert 0 <= data["confidence"] <= 1 and answer["confidence"] == data["confidence"]
    assert isinstance(data["handoff"], bool)
    assert len(data["alternatives"]) <= 3
    event = Event.objects.get(type="search", search_id=data["search_id"])
    assert (event.channel, event.journey_id) == ("bot", "j-9")
    assert event.result_ids[0] == reset.pk


def test_internal_articles_are_never_the_answer(client, articles):
    data = client.get("/api/v1/answer", {"q": "agents force password console"}).json()
    shown = [data["answer"]["id"]] if data["answer"] else []
    shown += [alt["id"] for alt in data["alternatives"]]
    assert articles[2].pk not in shown


def test_no_match_hands_off_with_a_null_answer(client, articles):
    data = client.get("/api/v1/answer", {"q": "zebra xylophone"}).json()
    assert data["answer"] is None and data["handoff"] is True
    assert data["confidence"] == 0 and data["alternatives"] == []
    event = Event.objects.get(search_id=data["search_id"])
    assert event.result_count == 0


def test_channel_can_be_given(client, articles):
    data = client.get("/api/v1/answer", {"q": "password", "channel": "widget"}).json()
    assert Event.objects.get(search_id=data["search_id"]).channel == "widget"


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "q"),
        ({"q": "x" * 501}, "q"),
        ({"q": "password", "locale": "xx"}, "locale"),
        ({"q": "password", "channel": "fax"}, "channel"),
        ({"q": "password", "journey_id": "a b"}, "journey_id"),
    ],
)
def test_bad_input_gets_a_400_json(client, articles, params, field):
    response = client.get("/api/v1/answer", params)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not Event.objects.exists()
