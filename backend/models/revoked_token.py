"""Tokens revoked before they expire (logout)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import MYSQL_TABLE_ARGS, Base, UTCDateTime


class RevokedToken(Base):
    __tablename__ = "revoked_tokens"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Rows past this moment prove nothing (the token has expired) and are purged.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
