"""What a paged listing page shows: its range and the previous / next page links."""


def pagination(total: int, limit: int, offset: int) -> dict[str, int | None]:
    """Offsets for the previous / next page links and the 1-based range shown."""
    return {
        "first": offset + 1 if total else 0,
        "last": min(offset + limit, total),
        "total": total,
        "prev_offset": max(offset - limit, 0) if offset > 0 else None,
        "next_offset": offset + limit if offset + limit < total else None,
    }
