"""The OpenAPI schema documents the error answers (400, 401, 403, 404, 409, 429) and blank values."""

import pytest

SCHEMA = "/api/schema/?format=json"


@pytest.fixture
def schema(api, staff):
    response = api.as_user(staff).get(SCHEMA)
    assert response.status_code == 200
    return response.json()


def responses(schema, path, method):
    return schema["paths"][path][method]["responses"]


def test_error_responses_are_shared_components(schema):
    components = schema["components"]["responses"]
    assert set(components) >= {"BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "TooManyRequests"}
    detail = components["Conflict"]["content"]["application/json"]["schema"]
    assert detail["required"] == ["detail"] and detail["properties"]["detail"] == {"type": "string"}


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/customers/", "get", {"200", "400", "401", "403", "404"}),
        ("/api/customers/", "post", {"201", "400", "401", "403", "409"}),
        ("/api/customers/{uuid}/", "get", {"200", "401", "403", "404"}),
        ("/api/customers/{uuid}/", "delete", {"204", "401", "403", "404", "409"}),
        ("/api/marketplace-orders/{uuid}/approve_by_provider/", "post", {"200", "401", "403", "404", "409"}),
        ("/api/marketplace-orders/", "post", {"201", "400", "401", "403", "409"}),
        ("/api/roles/", "get", {"200", "401", "403"}),
    ],
)
def test_operations_document_their_errors(schema, path, method, codes):
    assert set(responses(schema, path, method)) == codes
    assert responses(schema, path, method).get("409", {"$ref": "#/components/responses/Conflict"}) == {
        "$ref": "#/components/responses/Conflict"
    }


def test_the_unauthenticated_login_documents_bad_input_and_throttling(schema):
    assert set(responses(schema, "/api-auth/password/", "post")) == {"200", "400", "429"}


@pytest.mark.parametrize(
    ("component", "field"),
    [("Customer", "email"), ("Offering", "terms_of_service_link")],
)
def test_blank_formatted_values_are_declared(schema, component, field):
    prop = schema["components"]["schemas"][component]["properties"][field]
    assert {"type": "string", "maxLength": 0} in prop["oneOf"]


@pytest.mark.parametrize(
    ("component", "field"),
    [("OfferingComponent", "limit_period"), ("Project", "oecd_fos_2007_code")],
)
def test_blank_choices_are_declared(schema, component, field):
    prop = schema["components"]["schemas"][component]["properties"][field]
    assert {"$ref": "#/components/schemas/BlankEnum"} in prop["oneOf"]
