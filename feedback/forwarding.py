"""Hands a customer's contact request to support: a JSON webhook or an e-mail.

This project is not a ticketing system: the request goes to the helpdesk (or an
inbox) and only a ticket record with a salted e-mail hash stays here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage

logger = logging.getLogger("kb.contact")


class ContactForwardError(Exception):
    """Support could not be reached; the caller records nothing and says so."""


class ContactNotConfigured(ContactForwardError):
    """Neither KB_CONTACT_WEBHOOK_URL nor KB_CONTACT_EMAIL_TO is set."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would arrive as a GET without its body: treat it as a failure.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def signature_header(*, body: bytes, secret: str) -> str:
    """`sha256=<hex>`: the HMAC-SHA256 of a body, as X-KB-Signature carries it."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _webhook_post(*, url: str, payload: dict) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ContactNotConfigured("KB_CONTACT_WEBHOOK_URL must be an http(s) URL.")
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "kestrel-help-center/1",
    }
    secret = getattr(settings, "KB_CONTACT_WEBHOOK_SECRET", "")
    if secret:
        headers["X-KB-Signature"] = signature_header(body=body, secret=secret)
    # The scheme is checked above: http(s) only.
    request = urllib.request.Request(  # noqa: S310
        url, data=body, headers=headers, method="POST"
    )
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=settings.KB_CONTACT_WEBHOOK_TIMEOUT) as resp:
            if not 200 <= resp.status < 300:
                raise ContactForwardError(f"The webhook answered {resp.status}.")
    except urllib.error.HTTPError as exc:
        raise ContactForwardError(f"The webhook answered {exc.code}.") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ContactForwardError(f"The webhook could not be reached: {exc}") from exc


def _email_body(payload: dict) -> str:
    lines = [
        payload["message"],
        "",
        "--",
        f"From: {payload['email']}",
        f"Language: {payload['locale'] or '-'}",
        f"Channel: {payload['channel']}",
        f"Journey: {payload['journey_id'] or '-'}",
    ]
    if payload.get("article"):
        lines.append(f"Article read: {payload['article']['url']}")
    return "\n".join(lines)


def _email_send(*, to: list[str], payload: dict) -> None:
    message = EmailMessage(
        subject=f"[{settings.WAGTAIL_SITE_NAME}] {payload['subject']}",
        body=_email_body(payload),
        from_email=getattr(settings, "KB_CONTACT_EMAIL_FROM", "")
        or settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=[payload["email"]],
    )
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP, socket and header errors alike
        raise ContactForwardError(f"The e-mail could not be sent: {exc}") from exc


def contact_forward(*, payload: dict) -> str:
    """Sends a contact request to KB_CONTACT_WEBHOOK_URL, else KB_CONTACT_EMAIL_TO.

    Returns "webhook" or "email"; raises ContactForwardError when support was not
    reached (ContactNotConfigured when neither is set).
    """
    url = getattr(settings, "KB_CONTACT_WEBHOOK_URL", "")
    recipients = list(getattr(settings, "KB_CONTACT_EMAIL_TO", []))
    try:
        if url:
            _webhook_post(url=url, payload=payload)
            return "webhook"
        if recipients:
            _email_send(to=recipients, payload=payload)
            return "email"
    except ContactForwardError:
        logger.warning("contact request not forwarded", exc_info=True)
        raise
    raise ContactNotConfigured(
        "Set KB_CONTACT_WEBHOOK_URL or KB_CONTACT_EMAIL_TO to receive requests."
    )
