"""A resolver fake for the webhook ``Resolver`` port: names answer from a table, lookup by lookup."""

from __future__ import annotations

from application.webhooks.errors import HostNotFound


class StaticResolver:
    """Each name answers its lists of addresses in turn, one list per lookup (the last one repeats), so a
    test can have a name answer a public address at registration and loopback when the sender looks.
    A name not in the table resolves to nothing (``HostNotFound``). Every lookup is kept in ``lookups``."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self._answers = {name.lower(): list(lists) for name, lists in answers.items()}
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        answers = self._answers.get(host.lower())
        if not answers or not answers[0]:
            raise HostNotFound(host)
        return list(answers.pop(0) if len(answers) > 1 else answers[0])
