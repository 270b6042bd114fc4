"""The link-graph viewer's server side: CSV → cached typed arrays, and the list of graphs on disk."""
