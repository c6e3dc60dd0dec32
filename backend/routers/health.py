"""Health probes: liveness (the process), readiness (the database) and the combined /health."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from backend import __version__
from backend.dependencies import DbDep
from backend.schemas.errors import UNAVAILABLE

router = APIRouter(tags=["health"], responses=UNAVAILABLE)


class Health(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "database": "ok", "version": __version__}]}
    )

    status: str
    database: str
    version: str


class Liveness(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok", "version": __version__}]})

    status: str
    version: str


UNREACHABLE: dict[int | str, dict[str, Any]] = {503: {"model": Health, "description": "The database does not answer"}}


def _ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


async def _database_health(db: DbDep) -> JSONResponse:
    try:
        await db.read(_ping)
    except SQLAlchemyError:
        body = {"status": "degraded", "database": "unreachable", "version": __version__}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "version": __version__})


@router.get("/health", response_model=Health, responses=UNREACHABLE)
async def health(db: DbDep) -> JSONResponse:
    """200 when the app and its database answer, 503 when the database does not."""
    return await _database_health(db)


@router.get("/health/live", response_model=Liveness)
async def health_live() -> JSONResponse:
    """200 while the process answers; never touches the database (a liveness probe)."""
    return JSONResponse({"status": "ok", "version": __version__})


@router.get("/health/ready", response_model=Health, responses=UNREACHABLE)
async def health_ready(db: DbDep) -> JSONResponse:
    """200 when the database answers, 503 when it does not (a readiness probe)."""
    return await _database_health(db)
