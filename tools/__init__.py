"""Controller-side development tools: layer tar corpora and legacy Docker 1.9 stores for tests."""
