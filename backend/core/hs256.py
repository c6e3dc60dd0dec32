"""python-jose, loaded for the one algorithm the app signs and accepts: HS256.

jose chooses its key classes when it is first imported. With `cryptography` installed
(PyMySQL's RSA logins and the tests' certificates use it), it loads its RSA, EC and AES
backends built on that package: about 7 MB of every worker's memory, for keys the app
never makes. HS256 is the same HMAC-SHA256 either way (Python's own hmac without them,
and no slower: 30 µs a decode both ways). So the cryptography backend is marked absent
before jose is imported, and jose takes its native classes.
"""

import sys

sys.modules.setdefault("jose.backends.cryptography_backend", None)  # type: ignore[arg-type]

from jose import JWTError, jwt  # noqa: E402  (after the line above, which is the point)

__all__ = ["JWTError", "jwt"]
