"""Request and response bodies of the API, one module per area."""

from hub.api.schemas.auth import (
    CreatedTokenOut,
    LoginBody,
    MeOut,
    SetupBody,
    TeamRef,
    TokenBody,
    TokenOut,
    UserOut,
)

__all__ = [
    "CreatedTokenOut",
    "LoginBody",
    "MeOut",
    "SetupBody",
    "TeamRef",
    "TokenBody",
    "TokenOut",
    "UserOut",
]
