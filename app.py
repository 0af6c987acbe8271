"""Plant Network Control Tower: the router. Login first, then the pages the user's roles allow.

Nothing of the warehouse, not even a plant name, is touched before someone has logged in.
"""

import streamlit as st

from components.warehouse import configure_logging, ensure_warehouse, get_engine
from governance.login import login_gate, logout_button
from governance.roles import label

# One line per page: file, title, icon, navigation section, permission needed to see it.
# Sections appear in the order of their first page.
PAGES = [
    ("pages/overview.py", "Network overview", ":material/public:", "Network", "view"),
    ("pages/value.py", "Value", ":material/savings:", "Network", "view"),
    ("pages/downtime.py", "Downtime & maintenance", ":material/build:", "Operations", "view"),
    ("pages/inventory.py", "Inventory & supply", ":material/inventory_2:", "Operations", "view"),
    ("pages/schedule.py", "Schedule risk", ":material/event_upcoming:", "Operations", "view"),
    ("pages/action_queue.py", "Action queue", ":material/task_alt:", "Decisions", "view"),
    ("pages/decision_detail.py", "Decision detail", ":material/fact_check:", "Decisions", "view"),
    ("pages/audit_log.py", "Audit log", ":material/policy:", "Decisions", "view"),
    ("pages/policies.py", "Plant policies", ":material/tune:", "Admin", "edit_policy"),
    ("pages/forecasts.py", "Forecasts", ":material/query_stats:", "Intelligence", "view"),
    ("pages/risk.py", "Risk", ":material/crisis_alert:", "Intelligence", "view"),
    ("pages/models.py", "Models & data", ":material/model_training:", "Intelligence", "view"),
    ("pages/scenarios.py", "Scenario planner", ":material/science:", "Planning", "run_scenario"),
    ("pages/onboarding.py", "Data onboarding", ":material/upload_file:", "Data", "import_data"),
    ("pages/data_quality.py", "Data quality", ":material/fact_check:", "Data", "view_data_quality"),
    ("pages/jobs.py", "Jobs", ":material/schedule:", "Data", "view_jobs"),
]

st.set_page_config(page_title="Plant Network Control Tower", page_icon=":material/factory:", layout="wide")
configure_logging()

user = login_gate()
if user is None:
    st.stop()

ensure_warehouse(get_engine())

sections: dict[str, list] = {}
for path, title, icon, section, permission in PAGES:
    if user.can(permission):
        sections.setdefault(section, []).append(st.Page(path, title=title, icon=icon))
if not sections:
    st.error("Your roles give access to no page. Ask an admin.")
    st.stop()
page = st.navigation(sections)

with st.sidebar:
    st.markdown(f"**{user.name}**")
    scope = "All plants" if user.scope.is_network else "Plants: " + ", ".join(sorted(user.plants))
    st.caption(f"{', '.join(label(r) for r in user.roles)}  \n{scope}")
    logout_button()

page.run()
