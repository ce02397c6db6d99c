"""How outputs name things for people: councils by name beside their codes, functions by
title, platforms in words, and the statements the data's licences ask for."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Labels:
    """Names for the codes a plan holds, from its instance and model."""

    instance: str
    title: str  # the instance's title
    model: str
    council_names: dict[str, str]
    function_titles: dict[str, str]
    attribution: tuple[str, ...]
    tiers: dict[str, str] = field(default_factory=dict)
    counties: dict[str, str] = field(default_factory=dict)  # district code -> its county's code ("" when none)

    @classmethod
    def of(cls, instance, model) -> "Labels":
        councils = instance.councils
        county = councils["county"] if "county" in councils else [""] * len(councils)
        return cls(instance.name, instance.title, model.name,
                   dict(zip(councils["code"], councils["name"])),
                   {f.id: f.title for f in model.functions},
                   tuple(instance.attribution),
                   dict(zip(councils["code"], councils["tier"])),
                   {code: (c or "") for code, c in zip(councils["code"], county)})

    def council(self, code: str | None) -> str:
        """A council's name (its code when the instance does not know it)."""
        if code is None:
            return ""
        return self.council_names.get(code, code)

    def councils(self, codes) -> str:
        return ", ".join(self.council(c) for c in codes)

    def function(self, function_id: str) -> str:
        return self.function_titles.get(function_id, function_id)

    def platform(self, label: str | None) -> str:
        """``own:E07000200`` reads ``own system (Babergh)``; a shared platform keeps its name;
        None (a depth without a common platform) reads ``no common platform``."""
        if label is None:
            return "no common platform"
        if label.startswith("own:"):
            return f"own system ({self.council(label[4:])})"
        return label

    def attribution_text(self) -> str:
        return " ".join(self.attribution) if self.attribution else "No attribution statements are given for this data."


def pounds(value: float | None) -> int | None:
    """Money for a spreadsheet: whole pounds."""
    return None if value is None else int(round(value))


def area_names(instance, codes) -> str:
    """The run's --area as people name it: ``Kent (county)``, ``Wales (nation)``."""
    from ..io.names import KINDS, places_of

    places = places_of(instance)
    named = []
    for code in codes:
        p = places.find(code)
        named.append(code if p is None else p.name if p.kind == "council" else f"{p.name} ({KINDS.get(p.kind, p.kind)})")
    return "; ".join(named)
