"""The QA console: static pages at /__mock/ui/ that drive the admin API of the API they are served by."""
