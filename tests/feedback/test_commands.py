import io

import pytest
from django.core.management import CommandError, call_command

from feedback.models import ApiKey
from feedback.services import api_key_authenticate


@pytest.mark.django_db
def test_create_api_key_prints_a_key_that_then_authenticates():
    out = io.StringIO()
    call_command(
        "create_api_key",
        "Support bot",
        "--scope",
        "bot",
        stdout=out,
        stderr=io.StringIO(),
    )
    raw_key = out.getvalue().strip()
    key = api_key_authenticate(raw_key=raw_key)
    assert key is not None and (key.name, key.scope) == ("Support bot", "bot")
    assert raw_key not in ApiKey.objects.get().key_hash


@pytest.mark.django_db
def test_create_api_key_refuses_an_unknown_scope():
    with pytest.raises(CommandError):
        call_command(
            "create_api_key",
            "X",
            "--scope",
            "admin",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert ApiKey.objects.count() == 0
