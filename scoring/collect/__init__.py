"""The web collector (網站採集): polite fetching archived as WARC (fetch, archive), what a page says
(extract: title, text, publication date and where it came from), and a scheme's `collect` hints
turned into proposed evidence rows (match, pure). Nothing here touches the database: the workflows
store crawls, captures and proposals."""
