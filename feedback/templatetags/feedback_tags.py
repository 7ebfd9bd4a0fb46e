from django import template

from feedback.views import helpfulness_context
from feedback.visitor import journey_id_ensure, visitor_id_ensure

register = template.Library()


@register.inclusion_tag("feedback/vote_form.html", takes_context=True)
def helpfulness_vote(context, article):
    """The "Was this article helpful?" form; once voted, thanks and a follow-up."""
    request = context["request"]
    journey_id_ensure(request)
    return helpfulness_context(
        request=request, article=article, visitor_id=visitor_id_ensure(request)
    )
