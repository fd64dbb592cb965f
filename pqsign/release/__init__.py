"""M-of-N release approval: a policy of release managers, a manifest, detached approvals.

See :mod:`pqsign.release.policy`, :mod:`pqsign.release.manifest` and
:mod:`pqsign.release.approval`.
"""
