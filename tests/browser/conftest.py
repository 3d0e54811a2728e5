"""tests/browser/ is the browser test (`make test-browser`), not part of `make test`: pytest collects nothing here."""

collect_ignore_glob = ["*"]
