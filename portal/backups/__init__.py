"""备份与恢复 pages (第十九条): policies, runs, backups, restores, extractions; the decommission guard."""
