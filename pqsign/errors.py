"""The one error hierarchy of pqsign.

Every failure the library raises is a :class:`PqsignError`. The CLI maps the two families
to exit codes in one place (``pqsign/cli/app.py``):

* :class:`VerificationError` (exit 1): the input was well formed, but what it claims is not
  true: a bad signature, an untrusted key, a digest that does not match.
* :class:`InputError` (exit 2): the input could not be used at all: a missing or unreadable
  file, a malformed, truncated or oversized bundle, a wrong passphrase, an unknown or
  unavailable algorithm, a file that would be overwritten.

Each error carries a ``hint`` that tells a person what to do next.
"""

from __future__ import annotations

__all__ = [
    "PqsignError",
    "InputError",
    "VerificationError",
    "UnsupportedAlgorithmError",
    "WrongPassphraseError",
    "PassphraseRequiredError",
]


class PqsignError(Exception):
    """Base of every error pqsign raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """Text for people: what is wrong and, when known, what to do about it."""
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message


class InputError(PqsignError):
    """The input cannot be used: missing, unreadable, malformed, oversized or refused."""


class VerificationError(PqsignError):
    """The input is well formed, but the signature or the claim it makes does not hold."""


class UnsupportedAlgorithmError(InputError):
    """The algorithm is unknown, or no backend for it is available on this machine."""


class PassphraseRequiredError(InputError):
    """A private key is encrypted and no passphrase was supplied."""


class WrongPassphraseError(InputError):
    """A private key could not be decrypted with the passphrase given."""
