"""CycloneDX SBOMs: generate them, and ship them as post-quantum signed attestations."""
