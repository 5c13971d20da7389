"""Server-side pagination of a select."""
import math
from dataclasses import dataclass

from sqlalchemy import func, select


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self):
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def paginate(session, stmt, page, per_page):
    """Run stmt for one page; page numbers below 1 or past the end are clamped."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total)
