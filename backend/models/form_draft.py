"""What someone typed into a form when their session had expired, kept until they sign in."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import MYSQL_TABLE_ARGS, Base, UTCDateTime


class FormDraft(Base):
    __tablename__ = "form_drafts"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    # A random key, held only by the browser that posted (in an HttpOnly cookie).
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The form page the fields belong to; they are offered back on that page only.
    path: Mapped[str] = mapped_column(String(200))
    fields: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
