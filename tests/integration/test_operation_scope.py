"""Several municipal centres on one server: a council's staff see only their own operations
(pages, API and records reached by id), the prefecture's staff see all; on both databases."""
from __future__ import annotations

import pytest

from dvc.extensions import db
from tests.integration.test_needs_api import need_body


@pytest.fixture
def two_centres(app, operation):
    """A second operation (another town's centre) beside the `operation` fixture's."""
    from dvc.operations.operations import create_operation
    from dvc.sites.operations import create_site
    with app.app_context():
        other = create_operation("別町 豪雨災害", "real", prefecture="東京都", municipality="別町",
                                 actor="test")
        create_site(other, "別町本部", "main", lat=35.60, lon=139.40, actor="test")
        db.session.commit()
        return operation[0], other.id


def staff(app, client, role: str, username: str, operation_ids: list[int]) -> dict:
    """Create a staff account tied to these operations (none: all) and return its token."""
    from dvc.auth.operations import assign_operations, create_user, issue_token
    with app.app_context():
        user = create_user(username, role, f"password-{role}", actor="test")
        if operation_ids:
            assign_operations(user, operation_ids, actor="test")
        token = issue_token(user, actor="test")
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_council_staff_see_only_their_own_operation(app, client, two_centres):
    mine, theirs = two_centres
    council = staff(app, client, "coordinator", "council-a", [mine])
    prefecture = staff(app, client, "coordinator", "pref", [])
    listed = client.get("/api/v1/operations", headers=council).get_json()
    assert [o["id"] for o in listed] == [mine]
    assert {o["id"] for o in client.get("/api/v1/operations", headers=prefecture).get_json()} \
        == {mine, theirs}
    assert client.get(f"/api/v1/operations/{mine}/needs", headers=council).status_code == 200
    refused = client.get(f"/api/v1/operations/{theirs}/needs", headers=council)
    assert refused.status_code == 403 and refused.get_json()["error"]
    assert client.get(f"/api/v1/operations/{theirs}/needs", headers=prefecture).status_code == 200
    # A record of the other centre reached by its own id is refused too.
    need = client.post(f"/api/v1/operations/{theirs}/needs", headers=prefecture,
                       json=need_body(lat=35.60, lon=139.40)).get_json()
    assert client.get(f"/api/v1/needs/{need['id']}", headers=council).status_code == 403
    assert client.patch(f"/api/v1/needs/{need['id']}", headers=council,
                        json={"status": "ready"}).status_code == 403
    assert client.get(f"/api/v1/needs/{need['id']}", headers=prefecture).status_code == 200


def test_council_pages_and_the_prefecture_view(app, client, two_centres, create_user):
    mine, theirs = two_centres
    from dvc.auth.operations import assign_operations
    from dvc.auth.models import User
    create_user("viewer", "council-viewer")
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "council-viewer"))
        assign_operations(user, [mine], actor="test")
        db.session.commit()
    assert client.post("/login", data={"username": "council-viewer",
                                       "password": "password-viewer"}).status_code == 302
    assert client.get(f"/o/{mine}").status_code == 200
    assert client.get(f"/o/{theirs}").status_code == 403
    assert client.get(f"/o/{theirs}/dashboard").status_code == 403
    page = client.get("/prefecture").get_data(as_text=True)
    assert "テスト市" in page and "別町" not in page


def test_the_cli_ties_an_account_to_operations(app, two_centres):
    mine, theirs = two_centres
    runner = app.test_cli_runner()
    made = runner.invoke(args=["user", "create", "sato", "--role", "reception", "--password",
                               "a long password", "--operation", str(mine)])
    assert made.exit_code == 0 and f"operations {mine}" in made.output
    both = runner.invoke(args=["user", "operations", "sato", str(mine), str(theirs)])
    assert both.exit_code == 0
    from dvc.auth.models import User
    with app.app_context():
        assert db.session.scalar(db.select(User).where(User.username == "sato")
                                 ).operation_ids == {mine, theirs}
    runner.invoke(args=["user", "operations", "sato", str(mine)])
    from dvc.auth.models import User
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "sato"))
        assert user.operation_ids == {mine}
    widened = runner.invoke(args=["user", "operations", "sato"])
    assert widened.exit_code == 0 and "every operation" in widened.output
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "sato"))
        assert user.operation_ids is None
    unknown = runner.invoke(args=["user", "operations", "sato", "9999"])
    assert unknown.exit_code != 0
