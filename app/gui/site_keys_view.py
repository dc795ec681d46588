"""站点密钥 on the 同步与交换 page: this site's fingerprint and key card; the county's card taken in; at the county's
installation, the sites registered in the county database, registered and revoked there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.exchange import keys, territory, trust
from app.gui import files
from app.gui.forms import styled_label
from app.gui.ops import Op
from app.gui.tables import DataTable
from app.services import site_keys

CARD = "公钥卡 (*.json)"


class SiteKeysBox(QGroupBox):
    """The keys group; `address` gives the county database's address with the typed password (empty if none)."""

    def __init__(self, window, address: Callable[[], str]):
        super().__init__("站点密钥（县里登记本站的公钥后，才能同步和报送交换包）")
        self.window = window
        self.address = address
        box = QVBoxLayout(self)
        self.mine = styled_label("", "hint")
        self.mine.setWordWrap(True)
        box.addWidget(self.mine)
        row = QHBoxLayout()
        self.card_button = QPushButton("导出本站公钥卡…")
        self.card_button.clicked.connect(self.export_card)
        self.trust_button = QPushButton("导入县级公钥卡…")
        self.trust_button.clicked.connect(self.take_county_card)
        self.register_button = QPushButton("登记站点…")
        self.register_button.clicked.connect(self.register)
        self.revoke_button = QPushButton("吊销所选站点…")
        self.revoke_button.clicked.connect(self.revoke)
        self.list_button = QPushButton("刷新登记列表")
        self.list_button.clicked.connect(self.load_sites)
        for b in (self.card_button, self.trust_button, self.register_button, self.revoke_button, self.list_button):
            row.addWidget(b)
        row.addStretch(1)
        box.addLayout(row)
        self.result = styled_label("", "hint")
        self.result.setWordWrap(True)
        box.addWidget(self.result)
        self.sites = DataTable(["站点", "站点编号", "辖区", "公钥指纹", "登记", "状态"], "登记的站点", sortable=False)
        self.sites.setMaximumHeight(200)
        box.addWidget(self.sites)
        self.site_warning = styled_label("", "error")
        self.site_warning.setWordWrap(True)
        self.site_warning.setVisible(False)
        box.addWidget(self.site_warning)
        self._site_ids: list[str] = []

    def refresh(self) -> None:
        session = self.window.session
        mine = site_keys.card(session)
        county = trust.county(session.store)
        at_county = county is not None and county.signing == mine.signing
        self.mine.setText(f"本站：{mine.name}，公钥指纹 {mine.fingerprint}；"
                          + ("本机是县级站点（县级密钥在本机）" if at_county else
                             f"县级公钥指纹 {county.fingerprint}" if county else "尚未取得县级公钥（同步一次，或导入县级公钥卡）"))
        manage = session.may("manage_site_keys").allowed
        self.trust_button.setVisible(manage and not at_county)
        for w in (self.register_button, self.revoke_button, self.list_button, self.sites):
            w.setVisible(manage and at_county)
        self.site_warning.setVisible(manage and at_county and bool(self.site_warning.text()))

    def export_card(self) -> None:
        path = files.save_path(self, "导出本站公钥卡", "本站公钥卡.json", CARD)
        if path:
            card = site_keys.card(self.window.session)
            keys.write_card(card, Path(path))
            self.result.setText(f"已写出 {path}。交县管理员登记时，请电话核对指纹 {card.fingerprint}")

    def _card(self, title: str) -> keys.PublicKeys | None:
        path = files.open_path(self, title, f"{CARD};;所有文件 (*)")
        if not path:
            return None
        card = keys.read_card(Path(path))
        asked = QMessageBox.question(self, title, f"{card.name or '（未命名）'}\n站点编号 {card.site_id}\n公钥指纹 "
                                                  f"{card.fingerprint}\n\n请与对方电话核对指纹，一致再确定。")
        return card if asked == QMessageBox.StandardButton.Yes else None

    def take_county_card(self) -> None:
        card = self._card("导入县级公钥卡")
        if card:
            site_keys.trust_county(self.window.session, card)
            self.result.setText(f"已设定县级公钥，指纹 {card.fingerprint}")
            self.refresh()

    def _url(self) -> str | None:
        url = self.address()
        if not url:
            self.result.setText("请先在上方填写县级数据库地址和密码")
        return url or None

    def register(self) -> None:
        url = self._url()
        card = self._card("登记站点") if url else None
        if not card:
            return
        code, ok = QInputDialog.getText(
            self, "站点辖区", f"{card.name or card.site_id} 的辖区（全县 6 位、乡镇 9 位、村 12 位统计用区划代码）。\n"
                             "此后它送来的记录须在这个辖区之内，之外的不采用：", text=card.jurisdiction)
        if ok:
            session = self.window.session
            Op(self, lambda: site_keys.register_site(session, url, card, code)).success(
                lambda outside: self._done(self._registered(card, code, outside))).failure(self._failed).run()

    @staticmethod
    def _registered(card: keys.PublicKeys, code: str, outside: dict[str, int]) -> str:
        text = f"已登记站点 {card.name or card.site_id}，指纹 {card.fingerprint}，辖区 {territory.describe(code.strip())}"
        if outside:
            text += (f"。注意：县级数据库中已有该站点在这个辖区之外的记录（{'、'.join(f'{k} {n} 条' for k, n in outside.items())}），"
                     f"请核对")
        return text

    def revoke(self) -> None:
        url, row = self._url(), self.sites.currentRow()
        if url and not 0 <= row < len(self._site_ids):
            self.result.setText("请先刷新登记列表，选中要吊销的站点")
            return
        if not url:
            return
        reason, ok = QInputDialog.getText(self, "吊销站点", "吊销的原因（如：电脑丢失、站点撤并）：")
        if ok:
            session, site = self.window.session, self._site_ids[row]
            Op(self, lambda: site_keys.revoke_site(session, url, site, reason)).success(
                lambda s: self._done(f"已吊销站点 {s.name or s.site_id}：此后它的交换包和同步都不再被接受")).failure(
                self._failed).run()

    def load_sites(self) -> None:
        url = self._url()
        if url:
            Op(self, lambda: site_keys.registered(url)).success(self._show_sites).failure(self._failed).run()

    def _done(self, text: str) -> None:
        self.result.setText(text)
        self.load_sites()

    def _failed(self, exc: BaseException) -> None:
        self.result.setText(f"没有完成：{exc}")

    def _show_sites(self, sites: list[dict]) -> None:
        warning = territory.unstated_warning(sites)
        self.site_warning.setText(warning or "")
        self.site_warning.setVisible(bool(warning))
        self._site_ids = [s["site_id"] for s in sites]
        self.sites.setRowCount(len(sites))
        for i, s in enumerate(sites):
            state = f"已吊销（{s['revoked_at']:%Y-%m-%d}，{s['revoked_reason']}）" if s["revoked_at"] else "有效"
            for j, value in enumerate((s["name"], s["site_id"], territory.describe(s["jurisdiction"]), s["fingerprint"],
                                       f"{s['registered_at']:%Y-%m-%d} {s['registered_by']}", state)):
                self.sites.setItem(i, j, QTableWidgetItem(value))
