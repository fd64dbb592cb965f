"""Container image signatures stored in OCI registries as OCI 1.1 referrers."""
