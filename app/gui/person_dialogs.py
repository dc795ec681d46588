"""Dialogs to register a household, add a member and record a category period; errors shown beside the field."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
)

from app.domain.idnumber import IdNumberError, parse_id_number
from app.domain.regions import regions
from app.gui.date_field import DateField
from app.gui.forms import Form, FormDialog, styled_label
from app.services import registry
from app.store import clock


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
            self.relation = QComboBox()
            self.relation.addItems([r for r in registry.RELATIONS if r != "户主"])
            self.relation.setPlaceholderText("请选择…")
            self.relation.setCurrentIndex(-1)  # no guess: a wrong default (配偶) is saved unnoticed
            form.add(f"{prefix}.relation_to_head", "与户主关系", self.relation)
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
        hint = styled_label("保存后，本人在这段期间内已登记的账单会按新的身份类别重新结算（补差记入审计日志）。", "hint")
        hint.setWordWrap(True)
        self.layout_.addWidget(hint)
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
