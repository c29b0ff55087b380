"""Choose the tag-suggestion provider from configuration (`ORTHOLENS_AI_PROVIDER`)."""

from __future__ import annotations

from pydantic import SecretStr

from ortholens.kit.errors import ConfigurationError
from ortholens.review.ai.base import SuggestionProvider

PROVIDER_KINDS = ("anthropic", "local")


def make_provider(
    kind: str,
    *,
    api_key: str | SecretStr | None = None,
    model: str = "",
    base_url: str | None = None,
    timeout_s: float = 60.0,
    max_retries: int = 2,
) -> SuggestionProvider:
    """The provider named `kind` ("anthropic" or "local"), or a ConfigurationError saying why not."""
    normalised = kind.strip().lower()
    if normalised == "local":
        from ortholens.review.ai.local_provider import LocalProvider

        return LocalProvider()
    if normalised == "anthropic":
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        if not key:
            raise ConfigurationError(
                "ORTHOLENS_AI_PROVIDER is 'anthropic' but ORTHOLENS_ANTHROPIC_API_KEY is not set; "
                "set the key, or use ORTHOLENS_AI_PROVIDER=local."
            )
        if not model:
            raise ConfigurationError(
                "ORTHOLENS_AI_PROVIDER is 'anthropic' but ORTHOLENS_ANTHROPIC_MODEL is empty."
            )
        # Imported here so that the local provider works without loading the SDK.
        from ortholens.review.ai.anthropic_provider import AnthropicProvider

        return AnthropicProvider(
            api_key=key,
            model=model,
            base_url=base_url or None,
            timeout_s=timeout_s,
            max_retries=max_retries,
        )
    raise ConfigurationError(
        f"Unknown AI provider {kind[:30]!r}; ORTHOLENS_AI_PROVIDER must be one of "
        f"{', '.join(PROVIDER_KINDS)}."
    )
