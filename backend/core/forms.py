"""HTML form posts: their text fields and where they came from."""

from fastapi import Request


def same_origin(request: Request) -> bool:
    """Browsers send Origin on form posts; a foreign one means a cross-site post."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


async def form_fields(request: Request) -> dict[str, str]:
    """A submitted form's text fields, without the CSRF token."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
