"""The permission matrix against the roles table of DESIGN.md, cell by cell."""

import pytest

from governance import roles

# What each role may do, written out from DESIGN.md's "Who uses it" table.
EXPECTED = {
    # executives also run and submit network scenarios (issue 6; docs/decisions.md 16)
    "executive": {"view", "export", "decide_escalated", "run_scenario", "propose"},
    "plant_manager": {"view", "export", "decide", "run_scenario", "propose", "refit_forecast"},
    "planner": {"view", "export", "run_scenario", "propose", "override_schedule", "refit_forecast"},
    "maintenance_lead": {"view", "export", "approve_maintenance"},
    "data_steward": {"view", "export", "view_data_quality", "import_data", "edit_mappings", "view_jobs", "run_jobs"},
    "admin": {
        "view",
        "export",
        "view_data_quality",
        "manage_users",
        "edit_policy",
        "approve_model",
        "refit_forecast",
        "retry_delivery",
        "view_jobs",
        "run_jobs",
    },
}


def test_roles_are_those_of_the_design():
    assert set(roles.ROLES) == set(EXPECTED)
    assert {"executive", "data_steward", "admin"} == roles.NETWORK_ROLES


@pytest.mark.parametrize("role", sorted(EXPECTED))
@pytest.mark.parametrize("permission", sorted(roles.PERMISSIONS))
def test_every_cell_of_the_matrix(role, permission):
    assert roles.can([role], permission) is (permission in EXPECTED[role])


def test_no_permission_is_held_by_nobody_and_the_table_names_every_permission():
    assert set().union(*EXPECTED.values()) == set(roles.PERMISSIONS)


def test_several_roles_hold_the_union_of_their_permissions():
    both = ("maintenance_lead", "planner")
    assert roles.can(both, "approve_maintenance")
    assert roles.can(both, "override_schedule")
    assert not roles.can(both, "decide")


def test_no_role_holds_nothing():
    assert not roles.can((), "view")


def test_unknown_permission_fails_loudly():
    with pytest.raises(ValueError, match="unknown permission 'veiw'"):
        roles.can(["admin"], "veiw")


def test_one_role_as_a_string_is_refused_rather_than_read_letter_by_letter():
    with pytest.raises(TypeError):
        roles.can("admin", "view")


@pytest.mark.parametrize(
    "user_roles, expected",
    [
        (["executive"], True),
        (["data_steward"], True),
        (["admin"], True),
        (["plant_manager"], False),
        (["planner", "maintenance_lead"], False),
        (["planner", "data_steward"], True),
    ],
)
def test_network_roles_see_every_plant(user_roles, expected):
    assert roles.sees_every_plant(user_roles) is expected
