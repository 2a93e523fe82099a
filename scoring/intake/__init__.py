"""Evidence as it arrives: reading CSV/XLSX, resolving names, validating rows, import templates."""
