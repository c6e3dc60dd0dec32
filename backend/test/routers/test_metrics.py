"""/metrics: open in development; in production only with the bearer METRICS_TOKEN."""

import pytest

from backend.test.conftest import ClientFactory

TOKEN = "m" * 40
PRODUCTION = {"ENVIRONMENT": "production", "SECRET_KEY": "s" * 40}


class TestMetricsAccess:
    def test_development_keeps_it_open(self, client_factory: ClientFactory) -> None:
        assert client_factory().get("/metrics").status_code == 200

    def test_production_without_a_token_setting_is_404(self, client_factory: ClientFactory) -> None:
        client = client_factory(**PRODUCTION)

        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404

    @pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer ünïcode"])
    def test_production_with_a_wrong_or_missing_token_is_404(
        self, client_factory: ClientFactory, header: str | None
    ) -> None:  # a non-ASCII header (sent as UTF-8 bytes) is refused too, never a 500
        client = client_factory(**PRODUCTION, METRICS_TOKEN=TOKEN)
        headers = {b"Authorization": header.encode()} if header else {}

        assert client.get("/metrics", headers=headers).status_code == 404

    def test_production_with_the_token_answers(self, client_factory: ClientFactory) -> None:
        client = client_factory(**PRODUCTION, METRICS_TOKEN=TOKEN)

        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

        assert response.status_code == 200
        assert "http_requests_total" in response.text or "# HELP" in response.text
