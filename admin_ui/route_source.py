"""The UI's route declarations, gathered: what ``admin_ui/route_tables`` are generated
from (``python -m admin_ui.route_source``) and checked against
(tests/test_route_tables.py).

The hub never imports this module when it serves: it would import every page.
A new area module goes in its section's list here, then the tables are generated again.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

from admin_ui import csat_page, logos, pages, reports_page
from admin_ui.admin import (
    audit_log,
    business_hours,
    channel_connect,
    channel_routing,
    channels,
    crm,
    crm_connect,
    crm_settings,
    csat,
    dead_letters,
    inbound_log,
    labels,
    plugins,
    rules,
    sla,
    snippets,
    start,
    teams,
    users,
    webhooks,
    workspace,
)
from admin_ui.inbox import (
    bulk,
    composer,
    contact,
    conversation,
    email_frame,
    files,
    listing,
    new_conversation,
    notifications,
    search,
    triage,
)
from admin_ui.inbox import crm as inbox_crm
from admin_ui.personal import macros, password, profile, schedule, tokens
from admin_ui.route_files import TABLES
from hub.api.lazy_routes import LazyRoute, table_of, write_tables

# Each section's modules, in the order their routes are added (the first match wins).
SECTIONS: dict[str, Sequence[ModuleType]] = {
    # The root's pages: public ones, the CSAT survey, logos, report pages, then /me.
    "root": (pages, csat_page, logos, reports_page, profile, schedule, password, tokens, macros),
    "admin": (
        start,
        channels,
        channel_connect,
        channel_routing,
        crm_connect,
        crm,
        crm_settings,
        users,
        teams,
        snippets,
        labels,
        sla,
        rules,
        business_hours,
        workspace,
        csat,
        inbound_log,
        dead_letters,
        webhooks,
        audit_log,
        plugins,
    ),
    "inbox": (
        listing,
        bulk,
        conversation,
        composer,
        new_conversation,
        search,
        files,
        email_frame,
        contact,
        inbox_crm,
        notifications,
        triage,
    ),
}


def declared() -> dict[str, list[LazyRoute]]:
    """Each table file's routes, as the modules declare them."""
    return {
        f"{section}.routes": table_of(route for module in modules for route in module.routes)
        for section, modules in SECTIONS.items()
    }


if __name__ == "__main__":
    write_tables(TABLES, "admin_ui.route_source", declared())
