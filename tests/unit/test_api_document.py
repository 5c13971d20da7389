"""Issue 15: the OpenAPI 3.1 document is written from the declared operations: it validates against
the OpenAPI 3.1 schema, names every route of /api/v1 with an operationId, request and response
schemas, parameters, error responses and security, and says which calls take If-Match and
Idempotency-Key."""
import pytest
from openapi_spec_validator import validate


@pytest.fixture(scope="module")
def document():
    from portal import create_app
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
    from portal.api.openapi import openapi_document
    rules = {(r.rule, m) for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")
             and not r.rule.endswith("openapi.json") for m in r.methods - {"HEAD", "OPTIONS"}}
    return openapi_document(), rules


def test_the_document_is_valid_openapi_3_1(document):
    doc, _rules = document
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # raises with the first problem


def test_every_route_is_an_operation_with_its_schemas(document):
    doc, rules = document
    documented = {("/api/v1" + path.replace("{", "<int:").replace("}", ">"), method.upper())
                  for path, ops in doc["paths"].items() for method in ops}
    assert documented == rules
    ops = [op for path_ops in doc["paths"].values() for op in path_ops.values()]
    assert len(ops) >= 50 and len({op["operationId"] for op in ops}) == len(ops)
    tags = {op["tags"][0] for op in ops}
    assert {"requests", "reviews", "receipts", "backups", "grants", "audit", "incidents"} <= tags, tags
    for op in ops:
        assert op["security"] == [{"bearer": []}]
        ok = [code for code in op["responses"] if code.startswith("2")]
        assert len(ok) == 1, op["operationId"]
        content = op["responses"][ok[0]]["content"]
        assert all(c["schema"] for c in content.values())
        assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"}
        if op.get("requestBody"):
            assert "422" in op["responses"] and "413" in op["responses"], op["operationId"]
    create = doc["paths"]["/requests"]["post"]
    assert {p["name"] for p in create["parameters"]} == {"Idempotency-Key"}
    listing = doc["paths"]["/requests"]["get"]
    per_page = next(p for p in listing["parameters"] if p["name"] == "per_page")
    assert per_page["schema"]["minimum"] == 1 and per_page["schema"]["maximum"] == 100
    cancel = doc["paths"]["/requests/{request_id}/cancel"]["post"]
    assert "If-Match" in {p["name"] for p in cancel["parameters"]}
    spec = doc["components"]["schemas"]["ServerGroup"]
    assert spec["additionalProperties"] is False and spec["properties"]["count"]["minimum"] == 1
