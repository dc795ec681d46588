"""The registry table model: a search gives ids only; rows are fetched a page at a time when first shown."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from app.services import search
from app.services.session import Session

COLUMNS = (("name", "姓名"), ("id_number", "证件号码"), ("sex", "性别"), ("birth_date", "出生日期"),
           ("relation_to_head", "与户主关系"), ("address", "住址"))
PAGE = 100


class PeopleModel(QAbstractTableModel):
    """Half a million ids stay cheap; only the pages a user scrolls to are read (Anki's browser pattern)."""

    def __init__(self, reader: Session):
        super().__init__()
        self.reader = reader
        self.ids: list[str] = []
        self.pages: dict[int, list[dict]] = {}

    def set_ids(self, ids: list[str]) -> None:
        self.beginResetModel()
        self.ids = ids
        self.pages = {}
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt's name
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1]
        return None

    def row(self, index: int) -> dict:
        page = index // PAGE
        rows = self.pages.get(page)
        if rows is None:
            rows = self.pages[page] = search.fetch_people(self.reader, self.ids[page * PAGE:(page + 1) * PAGE])
        return rows[index % PAGE] if index % PAGE < len(rows) else {}

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        return self.row(index.row()).get(COLUMNS[index.column()][0]) or ""

    def person_id(self, row: int) -> str | None:
        return self.ids[row] if 0 <= row < len(self.ids) else None
