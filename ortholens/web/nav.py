"""Navigation registries for the two layouts: the staff shell and the patient portal.

Capability packages add their pages when imported, e.g.
`staff_nav.add(NavItem("Patients", "/patients", section="clinical", icon="users"))`.
Pages never read the lists directly; the templates get them through the shell context.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NavItem:
    """One link in a layout's navigation. `section` groups links; `icon` names a symbol in
    `static/img/icons.svg`."""

    label: str
    href: str
    section: str = "main"
    icon: str | None = None

    def is_active(self, path: str) -> bool:
        """Whether `path` is this item's page or one below it (`/` only matches itself)."""
        if self.href == "/":
            return path == "/"
        return path == self.href or path.startswith(self.href.rstrip("/") + "/")


@dataclass
class NavRegistry:
    """An ordered list of nav items, sorted by section order then insertion order."""

    sections: tuple[str, ...]
    items: list[NavItem] = field(default_factory=list)

    def add(self, item: NavItem) -> None:
        """Append an item; an unknown section or a duplicate href is a programming error."""
        if item.section not in self.sections:
            raise ValueError(f"unknown nav section {item.section!r}; one of {self.sections}")
        if any(existing.href == item.href for existing in self.items):
            raise ValueError(f"nav already has a link to {item.href}")
        self.items.append(item)

    def ordered(self) -> list[NavItem]:
        """Items in display order."""
        return sorted(self.items, key=lambda item: self.sections.index(item.section))

    def active(self, path: str) -> NavItem | None:
        """The item the current page belongs to: the most specific match."""
        matches = [item for item in self.items if item.is_active(path)]
        return max(matches, key=lambda item: len(item.href), default=None)


staff_nav = NavRegistry(sections=("main", "clinical", "admin"))
staff_nav.add(NavItem("Home", "/", section="main", icon="home"))
staff_nav.add(NavItem("System", "/system", section="admin", icon="pulse"))

portal_nav = NavRegistry(sections=("main",))
portal_nav.add(NavItem("Home", "/portal", icon="home"))
portal_nav.add(NavItem("Help", "/portal/help", icon="help"))
