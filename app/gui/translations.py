"""Qt's own Chinese translations, so standard dialogs and buttons (file dialogs, 确定/取消, context menus) read in Chinese."""

from __future__ import annotations

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication


def install(app: QApplication) -> bool:
    """Load qtbase_zh_CN from Qt's translations folder (bundled with PySide6 and by PyInstaller); False if absent."""
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load("qtbase_zh_CN", folder):
        return False
    app.installTranslator(translator)
    app._jiuzhu_translator = translator  # the translator must outlive this call
    return True
