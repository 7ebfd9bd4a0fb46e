import re

from django import forms

from feedback.models import COMMENT_MAX_LENGTH, ApiKeyScope, VoteReason


class VoteForm(forms.Form):
    """The no-JavaScript vote: Yes/No, then an optional reason (on No) and comment."""

    article = forms.IntegerField(widget=forms.HiddenInput)
    helpful = forms.TypedChoiceField(
        choices=[("yes", "yes"), ("no", "no")], coerce=lambda v: v == "yes"
    )
    reason = forms.ChoiceField(
        choices=[("", "")] + list(VoteReason.choices), required=False
    )
    comment = forms.CharField(max_length=COMMENT_MAX_LENGTH, required=False, strip=True)


class ContactForm(forms.Form):
    """The contact page's request; `website` is a honeypot that people leave empty."""

    subject = forms.CharField(max_length=200, strip=True)
    message = forms.CharField(
        max_length=5000, strip=True, widget=forms.Textarea(attrs={"rows": 8})
    )
    email = forms.EmailField(max_length=254)
    search_id = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    article = forms.IntegerField(required=False, widget=forms.HiddenInput)
    website = forms.CharField(required=False, max_length=200)

    def clean_search_id(self):
        # A tampered hidden field is dropped, not shown to the customer as an error.
        value = self.cleaned_data["search_id"]
        return value if re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", value) else ""


class ApiKeyForm(forms.Form):
    """Admin: a new API key; origins only for widget keys (one per line)."""

    name = forms.CharField(max_length=100)
    scope = forms.ChoiceField(choices=ApiKeyScope.choices)
    allowed_origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Widget keys only: the sites whose pages may use the key, one "
        "origin per line, like https://shop.example.com.",
    )

    def clean_allowed_origins(self) -> list[str]:
        return [
            line.strip()
            for line in self.cleaned_data["allowed_origins"].splitlines()
            if line.strip()
        ]
