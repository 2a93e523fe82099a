"""What gongkai writes for readers: the report model, charts, score tables and the xlsx/docx/html/pdf writers."""
