"""A user's plant scope: the plants whose rows a query may return.

Every query in `data_access` takes a scope and filters on it in SQL, so no page can
receive rows of a plant outside the user's scope, whatever it asks for.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, true


@dataclass(frozen=True)
class PlantScope:
    """`plants` is None for network-wide roles (every plant), else the allowed plant ids."""

    plants: frozenset[str] | None = None

    @classmethod
    def everything(cls) -> "PlantScope":
        return cls(None)

    @classmethod
    def only(cls, plant_ids) -> "PlantScope":
        return cls(frozenset(plant_ids))

    @property
    def is_network(self) -> bool:
        return self.plants is None

    def allows(self, plant_id: str) -> bool:
        return self.plants is None or plant_id in self.plants

    def narrowed(self, plant_ids) -> "PlantScope":
        """The scope cut down to a selection (a filter never widens the scope)."""
        if plant_ids is None:
            return self
        wanted = frozenset(plant_ids)
        return PlantScope(wanted if self.plants is None else wanted & self.plants)

    def clause(self, plant_column) -> ColumnElement[bool]:
        """A WHERE clause restricting `plant_column` to this scope (bound parameters)."""
        if self.plants is None:
            return true()
        if not self.plants:
            return false()
        return plant_column.in_(sorted(self.plants))
