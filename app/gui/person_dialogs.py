"""Dialogs to register a household, add a member, record a category period, change the head and move a member into
another household; errors shown beside the field."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.idnumber import IdNumberError, parse_id_number
from app.domain.regions import regions
from app.gui.date_field import DateField
from app.gui.forms import Form, FormDialog, styled_label
from app.gui.ops import Op
from app.gui.tables import DataTable
from app.services import household_changes, registry
from app.store import clock


def member_relations() -> QComboBox:
    """The relations a member other than the head may have, none chosen: a wrong default (配偶) is saved unnoticed."""
    box = QComboBox()
    box.addItems([r for r in registry.RELATIONS if r != registry.HEAD])
    box.setPlaceholderText("请选择…")
    box.setCurrentIndex(-1)
    return box


def wrapped_hint(text: str) -> QLabel:
    """A hint under a form, wrapped to the dialog's width."""
    label = styled_label(text, "hint")
    label.setWordWrap(True)
    return label


class PersonFields:
    """Name, document type and number; a resident ID number fills in birth date and sex as it is typed."""

    def __init__(self, form: Form, prefix: str, relation: bool):
        self.name = form.add(f"{prefix}.name", "姓名", QLineEdit())
        self.id_type = QComboBox()
        from app.domain.idnumber import ID_TYPES
        self.id_type.addItems(ID_TYPES)
        form.add(f"{prefix}.id_type", "证件类型", self.id_type)
        self.id_number = form.add(f"{prefix}.id_number", "证件号码", QLineEdit(), "18 位身份证号，末位可为 X")
        self.derived = QLabel("")
        self.derived.setProperty("role", "hint")
        form.layout.addRow("", self.derived)
        self.relation = None
        if relation:
            self.relation = form.add(f"{prefix}.relation_to_head", "与户主关系", member_relations())
        self.id_number.textChanged.connect(self._derive)
        self.form = form
        self.key = f"{prefix}.id_number"

    def _derive(self, text: str) -> None:
        if self.id_type.currentText() != "居民身份证" or len(text.strip()) < 18:
            self.derived.setText("")
            self.form.rows[self.key].ok()
            return
        try:
            n = parse_id_number(text)
        except IdNumberError as exc:
            self.form.rows[self.key].fail(exc.message)
            self.derived.setText("")
            return
        self.form.rows[self.key].ok()
        self.derived.setText(f"出生日期 {n.birth_date}，性别 {n.sex}")

    def value(self, relation: str | None = None) -> registry.PersonInput:
        return registry.PersonInput(self.name.text(), self.id_number.text(),
                                    relation or (self.relation.currentText() if self.relation else "户主"),
                                    self.id_type.currentText())


class HouseholdDialog(FormDialog):
    """登记新家庭: the village, the address and the head."""

    def __init__(self, window):
        super().__init__(window, "登记新家庭")
        self.village = QComboBox()
        self.village.setEditable(True)
        try:
            towns, villages = regions(window.county_code or "340223")
            for code, name in villages:
                if window.session.user.covers(code):
                    self.village.addItem(f"{code} {towns.get(code[:9], '')}{name}", code)
        except OSError:
            pass
        self.form.add("region_code", "村（居）", self.village, "可直接输入 12 位统计用区划代码")
        self.address = self.form.add("address", "住址", QLineEdit())
        self.head = PersonFields(self.form, "head", relation=False)
        self.finish_layout()

    def save(self) -> None:
        code = self.village.currentData() or self.village.currentText().split(" ")[0]
        session, address, head = self.window.session, self.address.text(), self.head.value("户主")
        self.submit(lambda: registry.register_household(session, code, address, head))


class MemberDialog(FormDialog):
    """添加家庭成员, or 修改成员信息 when given the member."""

    def __init__(self, window, household_id: str, member: dict | None = None):
        super().__init__(window, "修改成员信息" if member else "添加家庭成员")
        self.household_id = household_id
        self.member = member
        is_head = bool(member) and member["relation_to_head"] == "户主"
        self.person = PersonFields(self.form, "member", relation=not is_head)
        if member:
            self.person.name.setText(member["name"])
            self.person.id_type.setCurrentText(member["id_type"])
            self.person.id_number.setText(member["id_number"])
            if self.person.relation is not None:
                self.person.relation.setCurrentText(member["relation_to_head"])
        self.finish_layout()

    def save(self) -> None:
        session, hid = self.window.session, self.household_id
        if self.member:
            relation = "户主" if self.person.relation is None else None
            pid, person = self.member["id"], self.person.value(relation)
            self.submit(lambda: registry.update_person(session, pid, person))
        else:
            person = self.person.value()
            self.submit(lambda: registry.add_member(session, hid, person))


class CategoryDialog(FormDialog):
    """登记身份类别 (the category, its period, who certified it), or 修改期间 when given a period."""

    def __init__(self, window, person_id: str, person_name: str, categories: list[str], period: dict | None = None):
        super().__init__(window, f"{'修改身份类别期间' if period else '登记身份类别'} · {person_name}")
        self.person_id = person_id
        self.period = period
        self.category = QComboBox()
        self.category.addItems(categories)
        self.category.setPlaceholderText("请选择…")
        self.category.setCurrentIndex(-1)  # the county's policy's categories, none chosen for the caseworker
        self.category.setEnabled(period is None)
        self.form.add("category", "身份类别", self.category)
        self.valid_from = DateField(clock.today())
        self.form.add("valid_from", "起始日期", self.valid_from)
        self.open_ended = QCheckBox("至今有效（未终止）")
        self.open_ended.setChecked(True)
        self.valid_to = DateField(clock.today())
        self.valid_to.setEnabled(False)
        self.open_ended.toggled.connect(lambda on: self.valid_to.setEnabled(not on))
        self.form.layout.addRow("", self.open_ended)
        self.form.add("valid_to", "终止日期", self.valid_to)
        self.certified_by = QComboBox()
        self.certified_by.addItems(registry.CERTIFIERS)
        self.form.add("certified_by", "认定部门", self.certified_by)
        self.layout_.addWidget(wrapped_hint("保存后，本人在这段期间内已登记的账单会按新的身份类别重新结算（补差记入审计日志）。"))
        if period:
            self.category.setCurrentText(period["category"])
            self.valid_from.setDate(date.fromisoformat(period["valid_from"]))
            self.open_ended.setChecked(period["valid_to"] is None)
            if period["valid_to"]:
                self.valid_to.setDate(date.fromisoformat(period["valid_to"]))
            self.certified_by.setCurrentText(period["certified_by"])
        self.finish_layout()

    def save(self) -> None:
        start = self.valid_from.text()
        end = None if self.open_ended.isChecked() else self.valid_to.text()
        session, pid, cat, dept = self.window.session, self.person_id, self.category.currentText(), \
            self.certified_by.currentText()
        if self.period:
            period_id = self.period["id"]
            self.submit(lambda: registry.update_category(session, period_id, start, end, dept))
        else:
            self.submit(lambda: registry.set_category(session, pid, cat, start, end, dept))


class HeadDialog(FormDialog):
    """设为户主: the selected member becomes the head; the former head's relation to the new one is asked, the other
    members' relations are left for the caseworker to check (the page lists them after saving)."""

    def __init__(self, window, household: dict, member: dict):
        super().__init__(window, f"设为户主 · {member['name']}")
        self.household_id, self.village, self.member = household["id"], household["region_code"], member
        former = next((m for m in household["members"] if m["id"] == household["head_person_id"]), None)
        self.form.add("new_head_person_id", "新户主", QLabel(member["name"]))
        self.relation = self.form.add("former_head_relation",
                                      f"原户主{former['name']}是新户主的" if former else "原户主是新户主的",
                                      member_relations())
        self.layout_.addWidget(wrapped_hint("其他成员的与户主关系不会自动改动：保存后列出他们，请逐一核对，需要改的用"
                                            "“修改成员信息”改正。"))
        self.finish_layout()

    def save(self) -> None:
        session, hid, pid, relation = (self.window.session, self.household_id, self.member["id"],
                                       self.relation.currentText())
        self.submit(lambda: household_changes.change_head(session, hid, pid, relation))


class MoveDialog(FormDialog):
    """迁到另一户: find the household by any member's name, ID number or pinyin initials (as 人员查询 finds people),
    choose the relation to its head, confirm."""

    HEADERS = ("户主", "住址", "村（居）", "查到的成员")

    def __init__(self, window, household: dict, member: dict):
        super().__init__(window, f"迁到另一户 · {member['name']}")
        self.household_id, self.village, self.member = household["id"], household["region_code"], member
        self.form.add("person_id", "迁移的成员", QLabel(f"{member['name']}（现为{member['relation_to_head']}）"))
        self.query = QLineEdit()
        self.query.setPlaceholderText("输入迁入家庭任一成员的姓名、身份证号或拼音首字母（只查本村（居）的家庭）")
        self.query.setClearButtonEnabled(True)
        self.found: list[dict] = []
        self.results = DataTable(self.HEADERS, "迁入的家庭")
        self.results.setMinimumHeight(160)
        self.results.setMinimumWidth(560)  # the form's hint column beside it left the four columns cut off
        self.results.itemSelectionChanged.connect(self._chosen)
        picker = QWidget()
        inner = QVBoxLayout(picker)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self.query)
        inner.addWidget(self.results)
        self.form.add("target_household_id", "迁入的家庭", picker, "在结果中选中一户")
        self.relation = self.form.add("relation_to_head", "与新户主的关系", member_relations())
        self.layout_.addWidget(wrapped_hint("本人的身份类别、参保、账单、结算和发放记录随人迁移，金额不变；"
                                            "原户和新户其他成员的与户主关系不变。"))
        self._generation = 0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(150)
        self.timer.timeout.connect(self.search)
        self.query.textChanged.connect(lambda _: self.timer.start())
        self.finish_layout()
        self.resize(max(900, self.sizeHint().width()), self.sizeHint().height())

    def search(self) -> None:
        """The households found for the text typed, on the search's own thread and connection as 人员查询 searches; an
        answer to an earlier keystroke is dropped."""
        self._generation += 1
        generation, searcher, text, hid = self._generation, self.window.searcher, self.query.text(), self.household_id
        village = self.village
        Op(self, lambda: household_changes.households_matching(searcher, text, exclude=hid, village=village),
           on=self.window.search_pool).success(lambda found: self._show(generation, found)).run()

    def _show(self, generation: int, found: list[dict]) -> None:
        if generation != self._generation:
            return
        self.found = found
        self.results.set_rows([(h["head_name"], h["address"], h["place"], "、".join(h["matched"])) for h in found])
        self.form.rows["target_household_id"].set_hint(f"找到 {len(found)} 户，请选中一户" if found else
                                                       "本村（居）没有找到，请换个姓名或身份证号（只能迁入同一村（居）"
                                                       "的家庭）")
        if len(found) == 1:
            self.results.selectRow(0)

    def chosen(self) -> dict | None:
        row = self.results.current_record()
        return self.found[row] if 0 <= row < len(self.found) and self.results.selectedItems() else None

    def _chosen(self) -> None:
        target = self.chosen()
        if target is not None:
            self.form.rows["target_household_id"].set_hint(f"迁入：{target['head_name']}户（{target['address']}）")

    def save(self) -> None:
        target, relation = self.chosen(), self.relation.currentText()
        if target is not None and relation and QMessageBox.question(
                self, "确认迁移",
                f"把 {self.member['name']} 迁入 {target['place']} {target['head_name']}户（{target['address']}），"
                f"与户主关系为“{relation}”？\n\n本人的身份类别、参保、账单和结算随人迁移，金额不变。"
        ) != QMessageBox.StandardButton.Yes:
            return
        session, pid, tid = self.window.session, self.member["id"], target["id"] if target else ""
        self.submit(lambda: household_changes.move_member(session, pid, tid, relation))
