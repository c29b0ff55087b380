"""Is a set of photos complete for a protocol? ("4 of 5, missing: mandibular occlusal")"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ortholens.protocol.builtin import Protocol


@dataclass(frozen=True)
class Completeness:
    protocol_key: str
    present: list[str]
    missing: list[str]
    missing_optional: list[str]
    total_required: int

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def summary(self) -> str:
        done = self.total_required - len(self.missing)
        text = f"{done} of {self.total_required}"
        return (
            f"{text}, missing: {', '.join(self.missing)}" if self.missing else f"{text}, complete"
        )


def check_completeness(protocol: Protocol, view_codes: Iterable[str | None]) -> Completeness:
    """Which of the protocol's views the given photos (by view code) cover; labels in the result."""
    have = {code for code in view_codes if code}
    present = [s.label for s in protocol.slots if s.view_code in have]
    missing = [s.label for s in protocol.slots if s.required and s.view_code not in have]
    optional = [s.label for s in protocol.slots if not s.required and s.view_code not in have]
    return Completeness(
        protocol_key=protocol.key,
        present=present,
        missing=missing,
        missing_optional=optional,
        total_required=sum(1 for s in protocol.slots if s.required),
    )
