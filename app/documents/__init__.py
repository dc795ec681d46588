"""Printed documents (reportlab): settlement slips, the approval form, notices and rosters, on A4 with the bundled font."""
