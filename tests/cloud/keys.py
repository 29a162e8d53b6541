"""RSA signing keys published as JWKs, and the JWTs the fakes mint with them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


@dataclass(frozen=True)
class SigningKey:
    """A key id, its RSA private key and the Bot Framework `endorsements` its JWK advertises (channel ids)."""

    kid: str
    private_key: rsa.RSAPrivateKey
    endorsements: tuple[str, ...] = ()

    @classmethod
    def generate(cls, kid: str, endorsements: tuple[str, ...] = ()) -> SigningKey:
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), endorsements)

    def jwk(self) -> dict[str, Any]:
        """The public JWK as a JWKS endpoint publishes it."""
        key: dict[str, Any] = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        key.update(kid=self.kid, use="sig", alg="RS256")
        if self.endorsements:
            key["endorsements"] = list(self.endorsements)
        return key

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        """An RS256 JWT; `kid` overrides the header's key id (to fake unknown or mismatched keys)."""
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": kid or self.kid, "typ": "JWT"})

    def verify(self, token: str, *, audience: str | None = None) -> dict[str, Any] | None:
        """The claims when `token` is signed by this key, unexpired and (if given) for `audience`; else None."""
        try:
            if jwt.get_unverified_header(token).get("kid") != self.kid:
                return None
            claims: dict[str, Any] = jwt.decode(
                token, self.private_key.public_key(), algorithms=["RS256"], audience=audience,
                options={"verify_aud": audience is not None},
            )
        except jwt.PyJWTError:
            return None
        return claims
