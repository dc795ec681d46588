"""The local SQLite store: connection, migrations, audit chain and backups."""
