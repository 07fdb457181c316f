"""Schemathesis against the app's own OpenAPI document (/api/openapi.json), in process.

Every operation of the JSON API gets generated requests, valid ones and schema-violating ones,
from an admin's bearer token and from a reception desk's (a lower role), with the path ids
pointing at real records (an operation with sites, a checked-in volunteer, a need, a team,
equipment, a shelter) so that the requests reach the code behind the 404s. Each answer must
not be a 5xx, must carry a documented status code and content type, and its body must match the
documented schema (errors: {error, message, fields}); a schema-violating request must get a 4xx.

Deterministic: derandomised Hypothesis, no example database, a fixed number of examples per
operation and mode. Runs on SQLite and PostgreSQL. The number of requests sent is printed:
    .venv/bin/pytest -q -s tests/integration/test_api_fuzz.py
"""
from __future__ import annotations

import traceback
from collections import Counter

import hypothesis
import pytest
import schemathesis
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_schema_conformance,
                                               status_code_conformance)

from tests.integration.test_needs_api import need_body

# Examples per operation, role and mode (valid / schema-violating): about 60 operations x 2
# roles x 2 modes x this many requests.
EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]
SETTINGS = hypothesis.settings(max_examples=EXAMPLES, derandomize=True, database=None,
                               deadline=None, suppress_health_check=list(hypothesis.HealthCheck),
                               phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate,
                                       hypothesis.Phase.shrink])
CONFIG = schemathesis.Config.from_dict({"seed": 20261122})


@pytest.fixture
def world(app, client, operation, register, token_for):
    """Real records for every kind of path id; returns {path parameter: id}."""
    op_id, main, satellite = operation
    admin = token_for("admin")
    volunteer = register()
    client.post(f"/api/v1/operations/{op_id}/checkins", headers=admin,
                json={"code": volunteer["code"], "site_id": main, "health_ok": True})
    need = client.post(f"/api/v1/operations/{op_id}/needs", headers=admin,
                       json=need_body(people_min=1, people_max=4)).get_json()
    client.patch(f"/api/v1/needs/{need['id']}", headers=admin, json={"status": "ready"})
    team = client.post(f"/api/v1/operations/{op_id}/teams", headers=admin, json={
        "need_id": need["id"], "member_ids": [volunteer["id"]],
        "leader_id": volunteer["id"]}).get_json()
    item = client.post(f"/api/v1/operations/{op_id}/equipment/items", headers=admin,
                       json={"name": "スコップ", "unit": "本"}).get_json()
    client.post(f"/api/v1/operations/{op_id}/sites/{main}/equipment/receive", headers=admin,
                json={"item_type_id": item["id"], "quantity": 20})
    shelter = client.post(f"/api/v1/operations/{op_id}/shelters", headers=admin, json={
        "name": "福祉センター", "lat": 35.69, "lon": 139.56, "capacity": 20,
        "care_types": ["frail_elderly"]}).get_json()
    return {"op_id": op_id, "site_id": satellite, "volunteer_id": volunteer["id"],
            "need_id": need["id"], "team_id": team["id"], "shelter_id": shelter["id"],
            "photo_id": 1}


def fuzz(app, world, headers) -> tuple[Counter, list[str]]:
    """Run every documented operation; return the answers' status classes and the failures."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=CONFIG)
    answers, failures = Counter(), []
    for result in schema.get_all_operations():
        operation = result.ok()
        ids = {p.name: world[p.name] for p in operation.path_parameters if p.name in world}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @SETTINGS
            @hypothesis.given(operation.as_strategy(mode, path_parameters=ids))
            def call(case):
                response = case.call_and_validate(app=app, base_url="http://dvc.test",
                                                  headers=headers, checks=CHECKS)
                answers[f"{response.status_code // 100}xx"] += 1
            try:
                call()
            except Unsatisfiable:
                pass  # nothing in this operation can be made schema-violating
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - report them all
                trace = "".join(traceback.format_exception(exc))[-3000:]
                failures.append(f"{operation.label} ({mode.value}): {exc}\n{trace}")
    return answers, failures


# The test client schemathesis reads answers with leaves a photo's file for the garbage
# collector to close (a server closes it); that is the client's, not the app's.
@pytest.mark.filterwarnings("ignore::ResourceWarning",
                            "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("role", ["admin", "reception"])
def test_api_answers_anything_within_its_document(app, world, token_for, role):
    answers, failures = fuzz(app, world, token_for(role))
    print(f"\nschemathesis as {role}: {answers.total()} requests ({dict(sorted(answers.items()))}),"
          f" {len(failures)} failures")
    assert not failures, "\n\n".join(failures)
    assert answers.total() > 500 and answers["2xx"] > 20
