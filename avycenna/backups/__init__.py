"""Data stewardship: online backups that restore, copies between SQLite and PostgreSQL.

`flask --app app backup`, `flask --app app restore FILE` and `flask --app app db copy --to URL`
call these functions; the admin status endpoint reads the last backup from `BackupRecord`.
"""
