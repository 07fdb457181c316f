"""Who may open the needs and dispatch pages: every new route, every role, anonymous visitors.
Reception works with volunteers and teams, never with survivors' records."""
from __future__ import annotations

import pytest


NEEDS = {"admin", "needs_intake", "coordinator"}
DESK = {"admin", "coordinator", "reception"}
HEAD = {"admin", "coordinator"}

# (method, path, who may); ids that do not exist are fine: access is decided before loading.
PAGES = [
    ("GET", "/o/{op}/needs", NEEDS),
    ("GET", "/o/{op}/needs/new", NEEDS),
    ("POST", "/o/{op}/needs/new", NEEDS),
    ("GET", "/o/{op}/needs/1", NEEDS),
    ("POST", "/o/{op}/needs/1/status", NEEDS),
    ("POST", "/o/{op}/needs/1/surveys", NEEDS),
    ("POST", "/o/{op}/needs/1/merge", NEEDS),
    ("POST", "/o/{op}/needs/1/calls", NEEDS),
    ("POST", "/o/{op}/needs/1/photos", NEEDS),
    ("GET", "/o/{op}/teams/1/sheet", DESK),
    ("GET", "/o/{op}/reports", DESK),
    ("GET", "/o/{op}/teams/1/report", DESK),
    ("POST", "/o/{op}/teams/1/report", DESK),
    ("POST", "/o/{op}/teams/1/return", DESK),
    ("POST", "/o/{op}/recall", HEAD),
    ("GET", "/o/{op}/safety", HEAD),
]


@pytest.mark.parametrize("method, path, allowed", PAGES)
def test_each_role_is_allowed_or_denied(clients, operation, method, path, allowed):
    path = path.format(op=operation[0])
    for role, client in clients.items():
        response = client.open(path, method=method, data={} if method == "POST" else None)
        denied = response.status_code in (401, 403) or (
            response.status_code == 302 and "/login" in response.location)
        assert denied == (role not in allowed), (role, method, path, response.status_code)


def test_nav_links_follow_the_roles(clients, operation):
    op = operation[0]
    pages = {role: clients[role].get(f"/o/{op}").get_data(as_text=True)
             for role in ("needs_intake", "reception", "coordinator", "viewer")}
    assert f"/o/{op}/needs/new" in pages["needs_intake"]
    assert f"/o/{op}/reports" not in pages["needs_intake"]
    assert f"/o/{op}/reports" in pages["reception"] and f"/o/{op}/needs" not in pages["reception"]
    assert f"/o/{op}/safety" in pages["coordinator"] and f"/o/{op}/needs" in pages["coordinator"]
    assert f"/o/{op}/needs" not in pages["viewer"] and f"/o/{op}/safety" not in pages["viewer"]
