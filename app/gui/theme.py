"""The look: the bundled CJK font on every laptop, high-DPI scaling, a calm office style sheet."""

from __future__ import annotations

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication

from app.resources import resource_path

STYLE = """
QWidget { font-size: 10.5pt; }
QMainWindow, QDialog { background: #f6f7f9; }
QListWidget#nav { background: #24476b; color: #e9eef5; border: none; font-size: 11pt; }
QListWidget#nav::item { padding: 10px 14px; }
QListWidget#nav::item:selected { background: #3a6ea5; color: white; }
QLabel[role="title"] { font-size: 14pt; font-weight: bold; color: #1f3550; }
QLabel[role="error"] { color: #b3261e; }
QLabel[role="hint"] { color: #5f6b7a; }
QLabel[role="done"] { color: #1b5e20; font-weight: bold; }
QLineEdit[invalid="true"], QComboBox[invalid="true"], QDateEdit[invalid="true"] { border: 1px solid #b3261e; background: #fff4f3; }
QGroupBox { font-weight: bold; border: 1px solid #d5dbe3; border-radius: 4px; margin-top: 12px; background: white; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
QTableView { background: white; alternate-background-color: #f3f6fa; selection-background-color: #cfe0f5; selection-color: black; }
QPushButton[primary="true"] { background: #2f6db3; color: white; padding: 5px 16px; border-radius: 3px; }
QPushButton[primary="true"]:disabled { background: #9bb3cf; }
"""


def apply(app: QApplication) -> str:
    """Load the bundled font, Qt's own Chinese texts (确定, 取消 …), the icon and the style; returns the font family."""
    translator = QTranslator(app)
    if translator.load(QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase", "_",
                       QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(translator)
    family = "WenQuanYi Micro Hei"
    font_id = QFontDatabase.addApplicationFont(str(resource_path("resources", "fonts", "wqy-microhei.ttc")))
    if font_id >= 0:
        family = QFontDatabase.applicationFontFamilies(font_id)[0]
    app.setFont(QFont(family, 10))
    app.setWindowIcon(QIcon(str(resource_path("resources", "icons", "jiuzhu.png"))))
    app.setStyleSheet(STYLE)
    return family
