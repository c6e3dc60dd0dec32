"""Liveness and database reachability."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from backend import __version__
from backend.dependencies import DbDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "database": "ok", "version": __version__}]}
    )

    status: str
    database: str
    version: str


def _ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database does not answer"}},
)
async def health(db: DbDep) -> JSONResponse:
    """200 when the app and its database answer, 503 when the database does not."""
    try:
        await db.read(_ping)
    except SQLAlchemyError:
        body = {"status": "degraded", "database": "unreachable", "version": __version__}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "version": __version__})
