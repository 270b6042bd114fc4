"""The launcher: runs the server in-process and opens the native window."""
