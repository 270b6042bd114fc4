"""Botify: the API client, the token, project URLs and the export files of the link-graph workflow."""
