"""Rule kinds registered only by the tests: what adding a kind to gongkai takes (issue 29)."""
