"""Request bodies are strict: a wrong JSON type is refused, never coerced (issue 7 §1)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("size", [True, 1.5, "12"], ids=["bool", "float", "string"])
async def test_an_integer_field_refuses_other_json_types(api: Api, size: Any) -> None:
    response = await api.client.post(
        "/api/v1/analyze/upload-url", json={"filename": "a.mp4", "size": size}
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["reason"] == "invalid_request"
    assert "size" in detail["message"]
    # Nothing was reserved for the refused request.
    assert (await api.client.get("/api/v1/jobs")).json()["count"] == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/analyze/upload-url", {"filename": 12}),
        ("/api/v1/analyze/confirm", {"job_id": 1, "s3_key": "uploads/x/a.mp4"}),
        ("/api/v1/pair", {"code": 12345678, "device_name": "phone"}),
        ("/api/v1/pair", {"code": "ABCDEFGH", "device_name": True}),
    ],
)
async def test_string_fields_refuse_numbers_and_booleans(
    api: Api, path: str, body: dict[str, Any]
) -> None:
    response = await api.client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["reason"] == "invalid_request"


async def test_query_parameters_stay_text_converted(api: Api) -> None:
    # The original backend's query form sends numbers as text; that still works.
    response = await api.client.post(
        "/api/v1/analyze/upload-url", params={"filename": "a.mp4", "size": "12"}
    )
    assert response.status_code == 200, response.text
