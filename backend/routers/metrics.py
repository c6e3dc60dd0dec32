"""`/metrics` for Prometheus: open in development, behind METRICS_TOKEN in production."""

import hmac

from fastapi import Request, Response
from fastapi.security.utils import get_authorization_scheme_param

from backend.core.config import Settings
from backend.core.observability import Metrics


def _allowed(request: Request, settings: Settings) -> bool:
    if not settings.is_production:
        return True
    if settings.METRICS_TOKEN is None:
        return False
    scheme, presented = get_authorization_scheme_param(request.headers.get("authorization"))
    expected = settings.METRICS_TOKEN.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(expected, presented.encode("utf-8", "surrogatepass"))


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus scrape target; 404 in production without the right bearer token."""
    if not _allowed(request, request.app.state.settings):
        return Response('{"detail":"Not Found"}', status_code=404, media_type="application/json")
    metrics: Metrics = request.app.state.metrics
    return metrics.exposition()
