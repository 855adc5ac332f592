"""The run details page: overview, params, metrics and tags, the artifacts tree, file previews
and syntax highlighting."""
