from django import forms

from feedback.models import COMMENT_MAX_LENGTH, VoteReason


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
