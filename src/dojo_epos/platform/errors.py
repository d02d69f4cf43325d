"""The platform API's refusal, raised by the services and turned into a response by :mod:`.http`.

Every platform API error has one shape, ``{"error": <code>, "message": <text>}``, where ``code`` is a
short snake_case name a program can branch on (``invalid_api_key``, ``missing_software_house_id``,
``invalid_request``, ``not_found``...) and ``message`` is for people. Dojo publishes no error schema
for its ``/epos`` API, so this is our choice; the EPOS contract's own EPOSError is not used here
because these are not EPOS Data API calls.
"""

from __future__ import annotations

__all__ = ["ApiError"]


class ApiError(Exception):
    """An error answer for a platform API call: status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_wire(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}
