"""The tenancy guard (issue 17): every function of gis/, layers/ and tiles/ that reads or
writes a tenant table (appeals, their authors, executors, routing rules, users, dispatch,
notifications, Open311 clients, a council's categories) names a council — through
gis/scope.appeal_scope or council_scope, a `council` parameter, or council_id in its SQL — or
is listed in UNSCOPED with the reason it needs none. A new unscoped query fails here until
someone says why (tests/tenancy_scan.py reads the source).

The entries marked «slice A/B/C» are the work left of issue 17: whoever scopes one removes its
line (a listed function that became scoped fails here too, so the list stays true).
"""

from __future__ import annotations

from tenancy_scan import scan

JOB = "a background job: no principal, the council comes from the row"
OWN_ACCOUNT = "the caller's own account, by its id, e-mail or token"
PUBLIC = "public data of every council (no personal data); ?council= is a filter (slice C)"
AUTHOR_TOKEN = "one appeal, by its author's signed token"
LOCKED = "acts on an appeal already locked through lifecycle.lock_appeal (appeal_scope)"

UNSCOPED: dict[str, str] = {
    "gis/accounts.py:find_user_by_email": OWN_ACCOUNT,
    "gis/accounts.py:get_user": OWN_ACCOUNT,
    "gis/accounts.py:check_user_password": OWN_ACCOUNT,
    "gis/accounts.py:set_password": OWN_ACCOUNT,
    "gis/accounts.py:confirm_email": OWN_ACCOUNT,
    "gis/accounts.py:get_account": OWN_ACCOUNT,
    "gis/accounts.py:export_user_data": OWN_ACCOUNT,
    "gis/accounts.py:erase_user": OWN_ACCOUNT,
    "gis/accounts.py:purge_expired": JOB,
    "gis/author_links.py:author_links": AUTHOR_TOKEN,
    "gis/author_links.py:verify": AUTHOR_TOKEN,
    "gis/author_links.py:unsubscribe": AUTHOR_TOKEN,
    "gis/author_links.py:page_state": AUTHOR_TOKEN,
    "gis/dispatch.py:batch_rows": JOB,
    "gis/dispatch.py:deliver_batch": JOB,
    "gis/intake.py:public_appeal": "the public card of one appeal: no personal data",
    "gis/lifecycle.py:_apply": LOCKED,
    "gis/lifecycle.py:history": "the public history of one appeal by number",
    "gis/manager.py:set_control": LOCKED,
    "gis/notify.py:_facts": JOB,
    "gis/notify.py:_supporters": JOB,
    "gis/notify.py:_queue": JOB,
    "gis/notify.py:deliver_one": JOB,
    "gis/notify.py:sweep_lost": JOB,
    "gis/open311_clients.py:authenticate": "the client application itself, by its key",
    "gis/open311_clients.py:new_token_for": "the client application itself, by its key",
    "gis/open311_clients.py:token_request": "the client application itself, by its token",
    "gis/opendata.py:last_updated": PUBLIC,
    "gis/scope.py:_role_scope": "the role half of appeal_scope, which adds council_scope",
    "gis/scope.py:executor_subtree": "an executor organisation's own subtree, by its id",
    "gis/staff_queue.py:executors": "the caller's own organisation subtree (principal ids)",
    "gis/structure_links.py:link": "links an appeal to the nearest structure (no principal)",
    "gis/structure_links.py:relink_around": "links appeals near a structure (no principal)",
    "gis/structure_links.py:relink_all": JOB,
    "gis/supporters.py:support": "staff lock through lifecycle.lock_appeal(principal) (appeal_scope);"
    " a citizen supports any council's public appeal",
}


def test_every_query_on_a_tenant_table_names_its_council_or_says_why_not():
    found = set(scan())
    new = sorted(found - set(UNSCOPED))
    assert new == [], (
        "these functions read or write a tenant table without a council: scope them "
        "(gis/scope.appeal_scope / council_scope) or add them to UNSCOPED with the reason: "
        f"{new}"
    )


def test_the_unscoped_list_is_current():
    stale = sorted(set(UNSCOPED) - set(scan()))
    assert stale == [], f"scoped or gone now: remove them from UNSCOPED: {stale}"
