"""AI tag suggestions for a remote-monitoring session: the provider protocol and its data types.

Providers live in their own modules (`anthropic_provider`, `local_provider`) and are chosen by
`ortholens.review.ai.factory.make_provider`; they are not imported here, so importing the types does
not import the Anthropic SDK or OpenCV.
"""

from ortholens.review.ai.base import (
    ProviderAnswerInvalid,
    ProviderFailed,
    ReviewImage,
    SuggestionProvider,
    TagSuggestion,
)

__all__ = [
    "ProviderAnswerInvalid",
    "ProviderFailed",
    "ReviewImage",
    "SuggestionProvider",
    "TagSuggestion",
]
