"""Roles and what each may do, in one table that pages, the workflow and tests all read.

The roles are those of DESIGN.md. Plant scope (which rows a user sees) is separate from
permission (which actions a user may take): a role's scope is either every plant or the
user's own plants, and the permission matrix says nothing about plants.
"""

ROLES: dict[str, str] = {
    "executive": "Executive",
    "plant_manager": "Plant manager",
    "planner": "Planner",
    "maintenance_lead": "Maintenance lead",
    "data_steward": "Data steward",
    "admin": "Admin",
}

NETWORK_ROLES: frozenset[str] = frozenset({"executive", "data_steward", "admin"})
"""Roles that see every plant; every other role sees only the user's own plants."""

_EVERYONE = frozenset(ROLES)

PERMISSIONS: dict[str, frozenset[str]] = {
    "view": _EVERYONE,
    "export": _EVERYONE,  # exports are cut to the user's plant scope in data_access
    "decide_escalated": frozenset({"executive"}),
    "decide": frozenset({"plant_manager"}),  # approve / reject / override own plants' items
    # executives run and submit network scenarios across plants (issue 6; docs/decisions.md 16)
    "run_scenario": frozenset({"plant_manager", "planner", "executive"}),
    "propose": frozenset({"plant_manager", "planner", "executive"}),  # submit a scenario or decision proposal
    "override_schedule": frozenset({"planner"}),  # with a reason
    "refit_forecast": frozenset({"plant_manager", "planner", "admin"}),  # refit one series on demand
    "approve_maintenance": frozenset({"maintenance_lead"}),  # within the plant policy's limits
    "view_data_quality": frozenset({"data_steward", "admin"}),
    "import_data": frozenset({"data_steward"}),
    "edit_mappings": frozenset({"data_steward"}),
    "create_plant": frozenset({"data_steward", "admin"}),  # a new plant from its master file (issue 17)
    "manage_users": frozenset({"admin"}),
    "edit_policy": frozenset({"admin"}),
    "approve_model": frozenset({"admin"}),
    "retry_delivery": frozenset({"admin"}),  # re-queue a dead-lettered outbox delivery (issue 15)
    "view_jobs": frozenset({"data_steward", "admin"}),  # the Jobs page (issue 13)
    "run_jobs": frozenset({"data_steward", "admin"}),  # "Run now" there (a request the worker picks up; audited)
}
"""Permission -> the roles that hold it. A user holds a permission if any of its roles does."""


def can(roles, permission: str) -> bool:
    """Whether a user with `roles` holds `permission`.

    An unknown permission raises instead of answering False, so a misspelt permission in
    a page registry fails loudly rather than hiding the page from everyone.
    """
    if isinstance(roles, str):
        raise TypeError("roles must be a collection of role names, not one string")
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}")
    return not PERMISSIONS[permission].isdisjoint(roles)


def sees_every_plant(roles) -> bool:
    """Whether any of `roles` is network-wide (its user's scope is every plant)."""
    return not NETWORK_ROLES.isdisjoint(roles)


def label(role: str) -> str:
    """The display name of a role, e.g. 'Plant manager'."""
    return ROLES[role]
