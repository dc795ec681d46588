"""The desktop app (PySide6 only here): windows, views, table models, dialogs and background operations."""
