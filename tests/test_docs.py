"""OpenAPI spec and the two docs pages, served with no outside host."""
import re


def test_openapi_declares_security_schemes_and_error_shapes(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["info"]["title"] == "AVYCENNA API"
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["bearerFormat"] == "JWT"
    assert schemes["apiKeyAuth"] == {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                     "description": schemes["apiKeyAuth"]["description"]}
    assert schemes["encounterToken"]["scheme"] == "bearer"
    responses = spec["components"]["responses"]
    assert responses["UNPROCESSABLE_ENTITY"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ValidationError")
    assert responses["UNAUTHORIZED"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_every_operation_has_a_summary(client):
    spec = client.get("/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert op.get("summary"), f"{method.upper()} {path} has no docstring summary"


def test_authenticated_operations_declare_security(client):
    spec = client.get("/openapi.json").get_json()
    me = spec["paths"]["/api/v1/auth/me"]["get"]
    assert {"bearerAuth": []} in me["security"] and {"apiKeyAuth": []} in me["security"]


def _assets(html):
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_docs_pages_load_only_local_assets(client):
    for page in ("/docs", "/redoc"):
        r = client.get(page)
        assert r.status_code == 200, page
        html = r.get_data(as_text=True)
        assets = _assets(html)
        assert assets, page
        for url in assets:
            assert url.startswith("/"), f"{page} references outside host: {url}"
            with client.get(url) as asset:
                assert asset.status_code == 200, url
        assert "http://" not in html and "https://" not in html


def test_every_reference_in_the_spec_resolves(client):
    spec = client.get("/openapi.json").get_json()
    refs = set(re.findall(r'"#/components/(\w+)/(\w+)"', client.get("/openapi.json").get_data(as_text=True)))
    assert refs and [r for r in refs if r[1] not in spec["components"].get(r[0], {})] == []
