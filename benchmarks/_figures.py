"""Repeated measurements and the table every benchmark prints: median and worst against the
target, PASS/FAIL on the median."""

from __future__ import annotations

import math
import os
import platform
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Series:
    """Repeated measurements of one figure."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def worst(self) -> float:
        return max(self.values)

    @property
    def best(self) -> float:
        return min(self.values)


def percentile(values: Iterable[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with ``fraction`` of them at or below."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Row:
    """One line of a table: a figure, its target (if it has one) and the verdict on it."""

    name: str
    median: str
    worst: str = ""
    target: str = ""
    passed: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.passed is None else ("PASS" if self.passed else "FAIL")


def print_table(title: str, rows: list[Row], notes: Iterable[str] = ()) -> bool:
    """Print the table; True when every target is met."""
    headers = ("figure", "median", "worst", "target", "")
    cells = [headers] + [(r.name, r.median, r.worst, r.target, r.verdict) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [title]
    for i, row in enumerate(cells):
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if i == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    lines += [f"  {note}" for note in notes]
    print("\n" + "\n".join(line.rstrip() for line in lines), flush=True)
    return all(r.passed is not False for r in rows)


def machine() -> str:
    from django.conf import settings

    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {cache}, "
        f"load average {load} at the end"
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def times(value: float) -> str:
    return f"{value:.2f}x"


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def kb(size: int) -> str:
    return f"{size / 1000:.1f} kB"


def per_second(value: float) -> str:
    return f"{value:.1f}/s"
