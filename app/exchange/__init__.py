"""Exchange with other departments and the county: identity lists from Excel, export packages, county sync."""
