"""schemathesis over the whole OpenAPI schema, with a valid token: no 5xx, every answer
as documented, and the auth check (requests without the token must be refused).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from dance_analysis.access import AccessService
from dance_analysis.jobs.service import JobService
from tests.settings import make_settings

# Built at import: schemathesis' lazy ``from_fixture`` loader does not run under
# pytest 9 (it sets ``node._nodeid``, which pytest 9 removed), so the schema is
# loaded eagerly from an app on a scratch data folder that the module fixture removes.
_DATA = Path(tempfile.mkdtemp(prefix="dance-schema-"))
_SETTINGS = make_settings(_DATA / "data")
_SERVICE = JobService(_SETTINGS)
_ACCESS = AccessService(_SETTINGS)
TOKEN = _ACCESS.create_token("schemathesis")
# Routes whose schema-valid input can still be refused, on purpose, for what it *is*:
# bytes that are not a video (422 not_a_video), a pairing code that does not exist
# (403), a filename given neither as a query parameter nor in the body (the original
# backend's query form and the JSON form are both optional, one is required), and
# strict bodies: JSON Schema calls 36.0 an integer, our strict bodies refuse it (422),
# as tests/api/test_strict.py, test_counts_api.py and test_shares.py check.
CONTENT_CHECKED = {
    ("POST", "/api/v1/analyze/{job_id}/counts"),
    ("POST", "/api/v1/analyze/{job_id}/dancer"),
    ("POST", "/api/v1/analyze/{job_id}/share"),
    ("PUT", "/api/v1/analyze/{job_id}/marks"),  # a mark is checked by the job service
    ("POST", "/api/v1/analyze"),
    ("POST", "/api/v1/analyze/upload-url"),
    ("POST", "/api/v1/analyze/confirm"),
    ("POST", "/api/v1/pair"),
    ("PUT", "/api/v1/uploads/{job_id}/{filename}"),
    # A student's name is trimmed first, then refused past 80 characters or with a
    # control character, with a sentence saying which (422 invalid_request).
    ("PUT", "/api/v1/analyze/{job_id}/student"),
}
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_SETTINGS, _SERVICE, _ACCESS))
# Every call below carries a valid token, so a case that schemathesis made "negative"
# by leaving out the Authorization header is in fact valid, and its acceptance was a
# false failure drawn by chance. Requests without a token are still tried: by the
# ``ignored_auth`` check, and by tests/api/test_security.py over every route.
schema.config.generation.update(with_security_parameters=False)


@pytest.fixture(scope="module", autouse=True)
def _scratch_service() -> Iterator[None]:
    yield
    _SERVICE.close()
    shutil.rmtree(_DATA, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_keeps_its_schema(case: Any) -> None:
    excluded = []
    if (case.method, case.path) in CONTENT_CHECKED:
        excluded.append(positive_data_acceptance)
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=excluded
    )
    assert response.status_code < 500, response.text


def test_schema_is_served_at_docs(tmp_path: Path) -> None:
    app_settings = make_settings(tmp_path)
    service = JobService(app_settings)
    try:
        app = create_app(app_settings, service, AccessService(app_settings))
        paths = app.openapi()["paths"]
        assert "/api/v1/analyze/upload-url" in paths and "/health" in paths
        assert app.docs_url == "/docs"
    finally:
        service.close()
