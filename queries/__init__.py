"""The only package with SQL: named query functions over the spatial store."""
