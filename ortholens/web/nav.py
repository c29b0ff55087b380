"""Navigation registries for the two layouts: the staff shell and the patient portal.

Capability packages add their pages when imported, e.g.
`staff_nav.add(NavItem("Patients", "/patients", section="clinical", icon="users"))`.
An item with a `permission` is shown only to roles granted it (the page itself still checks).
Pages never read the lists directly; the templates get them through the shell context.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ortholens.auth.policy import Permission, Scope, allowed, grant
from ortholens.models import Role


@dataclass(frozen=True)
class NavItem:
    """One link in a layout's navigation. `section` groups links; `icon` names a symbol in
    `static/img/icons.svg`."""

    label: str
    href: str
    section: str = "main"
    icon: str | None = None
    permission: Permission | None = None
    full_scope: bool = False  # only roles with the full grant (front desk's photo-only capture not)
    badge: str | None = None  # a field of `dashboard.worklist.MenuCounts` shown beside the label

    def visible_to(self, role: Role) -> bool:
        """Whether a staff member with `role` sees this link."""
        if self.permission is None:
            return True
        if self.full_scope:
            return grant(role, self.permission) is Scope.FULL
        return allowed(role, self.permission)

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

    def visible_to(self, role: Role) -> list[NavItem]:
        """Items in display order that `role` may use."""
        return [item for item in self.ordered() if item.visible_to(role)]

    def active(self, path: str) -> NavItem | None:
        """The item the current page belongs to: the most specific match."""
        matches = [item for item in self.items if item.is_active(path)]
        return max(matches, key=lambda item: len(item.href), default=None)


# The brand link leads home, so the bar lists the work areas only (plus the user menu's links).
staff_nav = NavRegistry(sections=("main", "clinical", "admin", "account"))
staff_nav.add(
    NavItem(
        "Patients",
        "/patients",
        section="clinical",
        icon="users",
        permission=Permission.PATIENTS_READ,
    )
)
staff_nav.add(
    NavItem(
        "Monitoring",
        "/monitoring",
        section="clinical",
        icon="pulse",
        permission=Permission.MONITORING_READ,
        badge="pending_check_ins",
    )
)
staff_nav.add(
    NavItem(
        "Messages",
        "/messages",
        section="clinical",
        icon="mail",
        permission=Permission.MESSAGES_READ,
        badge="unread_messages",
    )
)
staff_nav.add(
    NavItem(
        "Pending scans",
        "/scans/pending",
        section="clinical",
        icon="cube",
        permission=Permission.IMAGING_CAPTURE,
        full_scope=True,
    )
)
staff_nav.add(
    NavItem("Staff", "/staff", section="admin", icon="badge", permission=Permission.STAFF_MANAGE)
)
staff_nav.add(
    NavItem("Audit trail", "/audit", section="admin", icon="list", permission=Permission.AUDIT_READ)
)
# The account section sits in the user menu, so the bar keeps to one line at 1440 px.
staff_nav.add(NavItem("System status", "/system", section="account", icon="pulse"))
staff_nav.add(NavItem("Account", "/account", section="account", icon="user"))

portal_nav = NavRegistry(sections=("main",))
portal_nav.add(NavItem("Home", "/portal", icon="home"))
portal_nav.add(NavItem("Photos", "/portal/scan", icon="camera"))
portal_nav.add(NavItem("Messages", "/portal/messages", icon="mail", badge="unread_messages"))
portal_nav.add(NavItem("Help", "/portal/help", icon="help"))
