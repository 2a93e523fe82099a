"""The website inspection (網站檢查): indicators, polls and their judging."""
