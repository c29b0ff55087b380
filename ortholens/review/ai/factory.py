"""Choose the tag-suggestion provider from configuration (`ORTHOLENS_AI_PROVIDER`)."""

from __future__ import annotations

from pydantic import SecretStr

from ortholens.kit.errors import ConfigurationError, ServiceUnavailable
from ortholens.review.ai.base import SuggestionProvider
from ortholens.settings import Settings

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


def provider_for(settings: Settings) -> SuggestionProvider:
    """The provider the settings choose (built per request: it holds no connections). A provider
    that is not set up is a 503: the doctor can still tag by hand, so it is not a server error."""
    try:
        return make_provider(
            settings.ai_provider.value,
            api_key=settings.anthropic_api_key,
            model=settings.anthropic_model,
            base_url=settings.anthropic_base_url,
            timeout_s=settings.ai_timeout_seconds,
            max_retries=settings.ai_max_retries,
        )
    except ConfigurationError as exc:
        raise ServiceUnavailable(f"AI suggestions are not set up: {exc.detail}") from None
