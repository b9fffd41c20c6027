"""The one error type a user sees: a single line naming the file, the node and the op."""
from __future__ import annotations


class MobilecError(Exception):
    """A user-facing error. The CLI prints str(err) on one line and exits with code 2."""

    def __init__(self, message: str, *, path: str | None = None, node: str | None = None,
                 op: str | None = None, stage: str | None = None) -> None:
        self.message = message
        self.path = path
        self.node = node
        self.op = op
        self.stage = stage
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.stage:
            where.append(f"pass {self.stage}")
        if self.node is not None:
            where.append(f"node '{self.node}'")
        if self.op:
            where.append(f"op {self.op}")
        prefix = ": ".join([", ".join(where)]) + ": " if where else ""
        return (prefix + self.message).replace("\n", " ")
