"""Notify's error answers: a status code and a list of errors, each a name and a message.

{"errors": [{"error": "BadRequestError", "message": "Template not found"}], "status_code": 400}
"""


class NotifyError(Exception):
    def __init__(self, status_code: int, *errors: tuple[str, str]) -> None:
        super().__init__("; ".join(message for _, message in errors))
        self.status_code = status_code
        self.errors = errors

    def as_json(self) -> dict:
        return {
            "errors": [{"error": error, "message": message} for error, message in self.errors],
            "status_code": self.status_code,
        }


def bad_request(message: str) -> NotifyError:
    return NotifyError(400, ("BadRequestError", message))


def validation_error(*messages: str) -> NotifyError:
    """What Notify says when the request does not match its JSON schema."""
    return NotifyError(400, *(("ValidationError", message) for message in messages))


def auth_error(message: str, status_code: int = 403) -> NotifyError:
    return NotifyError(status_code, ("AuthError", message))


def not_found() -> NotifyError:
    return NotifyError(404, ("NoResultFound", "No result found"))
