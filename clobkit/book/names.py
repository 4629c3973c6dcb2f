"""The one rule for user names, shared by :class:`~clobkit.book.OrderBook` and ``Cluster``.

A user name is what a fill, a live order and a client session are keyed by, and it is shown
in tables, logs and the trace, so it must read unambiguously: a ``str`` of 1 to
:data:`MAX_USER_CHARS` characters, every one printable (no control characters such as
``"\\n"`` or ``"\\x00"``, no tabs or other non-space separators), with no space at either
end. Commands check it when they are built (:class:`~clobkit.book.commands.Place` and
friends), so every path into the book, the cluster and the WAL meets the same rule. The
check is constant time: the length is bounded before the characters are looked at.

>>> check_user("alice")
'alice'
>>> check_user("alice\\n")
Traceback (most recent call last):
...
clobkit.errors.InvalidArgument: user must be 1-64 printable characters with no space at \
either end, got 'alice\\n'
"""

from __future__ import annotations

from clobkit.errors import InvalidArgument, InvalidType

__all__ = ["MAX_USER_CHARS", "check_user", "is_valid_user", "valid_users"]

#: Longest user name accepted.
MAX_USER_CHARS = 64

#: Most names :data:`valid_users` holds before it is emptied.
VALID_USERS_MEMO_SIZE = 4096

#: Names :func:`is_valid_user` found valid. A name's validity never changes, so the quick
#: checks of commands and of ``OrderBook.place``/``cancel`` test ``user in valid_users``
#: (one set lookup) before the rule itself. A cache only: it changes no answer, and it is
#: only ever cleared, never replaced, so modules may bind it once.
valid_users: set[str] = set()


def is_valid_user(user: str) -> bool:
    """Whether the ``str`` ``user`` follows the rule; a valid name is remembered in
    :data:`valid_users`. The same expression as :func:`check_user`'s test. O(1) (bounded).

    >>> is_valid_user("alice"), is_valid_user(" alice"), "alice" in valid_users
    (True, False, True)
    """
    if 0 < len(user) <= MAX_USER_CHARS and user.isprintable() and user[0] != " " != user[-1]:
        if len(valid_users) >= VALID_USERS_MEMO_SIZE:
            valid_users.clear()
        valid_users.add(user)
        return True
    return False


def check_user(value: object, name: str = "user") -> str:
    """Return ``value`` if it is a valid user name, else raise naming ``name``. O(1).

    >>> check_user(" bob")
    Traceback (most recent call last):
    ...
    clobkit.errors.InvalidArgument: user must be 1-64 printable characters with no space at \
either end, got ' bob'

    Raises :class:`~clobkit.errors.InvalidType` for a non-``str`` and
    :class:`~clobkit.errors.InvalidArgument` for an empty, too long, unprintable or
    untrimmed name (the message quotes at most the first 64 characters).
    """
    if not isinstance(value, str):
        raise InvalidType(f"{name} must be a str, not {type(value).__name__}: {value!r}")
    if (
        0 < len(value) <= MAX_USER_CHARS
        and value.isprintable()
        and value[0] != " "
        and value[-1] != " "
    ):
        return value
    shown = repr(value) if len(value) <= MAX_USER_CHARS else f"{value[:MAX_USER_CHARS]!r}..."
    raise InvalidArgument(
        f"{name} must be 1-{MAX_USER_CHARS} printable characters with no space at either end, "
        f"got {shown}" + (f" ({len(value)} chars)" if len(value) > MAX_USER_CHARS else "")
    )
