"""pqsign: post-quantum signatures for the software supply chain.

Library entry points (each documented in its module):

* :mod:`pqsign.crypto.algorithms`: the algorithm registry.
* :mod:`pqsign.keys.keyfile`: generate, load and save keys (SPKI / PKCS#8 PEM).
* :mod:`pqsign.keys.keyring`: trusted-key files.
* :mod:`pqsign.files`: sign and verify files with Sigstore-format bundles.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
