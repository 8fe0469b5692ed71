"""Domain rules: one function per operation, called by the thin views."""
