"""Redirect targets: safe `next` paths and query strings."""

from urllib.parse import parse_qsl, urlencode


def safe_next(target: str | None, default: str) -> str:
    """Only a same-site relative path may follow a login: no open redirect."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return default
    return target


def with_query(path: str, params: dict[str, object]) -> str:
    """`path?…` from the params that are set (None and "" are left out)."""
    kept = {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept, doseq=True)}" if kept else path


def add_query(target: str, params: dict[str, object]) -> str:
    """`target` with `params` set in its query string (replacing those names, keeping the rest)."""
    path, _, query = target.partition("?")
    kept = [(key, value) for key, value in parse_qsl(query, keep_blank_values=True) if key not in params]
    added = [(key, str(value)) for key, value in params.items() if value not in (None, "")]
    merged = urlencode(kept + added)
    return f"{path}?{merged}" if merged else path
