"""Dorset for the demo: localities, their postcode districts, and the designated areas.

Weights are rough shares of the county's population (Bournemouth and Poole
dominate); `rural` is the chance that a crime there is a rural one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Locality:
    name: str
    weight: float  # share of incidents
    rural: float  # chance a crime here is rural
    districts: tuple[str, ...]  # postcode outward codes
    dorset_council: bool  # in Dorset Council's area (not BCP's)


LOCALITIES = (
    Locality("Bournemouth", 30, 0.01, ("BH1", "BH2", "BH3", "BH4", "BH5", "BH6", "BH7", "BH8", "BH9", "BH10", "BH11"),
             False),
    Locality("Poole", 22, 0.03, ("BH12", "BH13", "BH14", "BH15", "BH16", "BH17"), False),
    Locality("Christchurch", 6, 0.08, ("BH23",), False),
    Locality("Weymouth", 8, 0.08, ("DT3", "DT4"), True),
    Locality("Portland", 2, 0.2, ("DT5",), True),
    Locality("Dorchester", 4, 0.25, ("DT1", "DT2"), True),
    Locality("Bridport", 2, 0.4, ("DT6",), True),
    Locality("Lyme Regis", 0.6, 0.3, ("DT7",), True),
    Locality("Sherborne", 1.6, 0.4, ("DT9",), True),
    Locality("Sturminster Newton", 0.6, 0.6, ("DT10",), True),
    Locality("Blandford Forum", 1.5, 0.45, ("DT11",), True),
    Locality("Shaftesbury", 1.1, 0.5, ("SP7",), True),
    Locality("Gillingham", 1.4, 0.45, ("SP8",), True),
    Locality("Wimborne Minster", 2, 0.3, ("BH21",), True),
    Locality("Ferndown", 2.4, 0.2, ("BH22",), True),
    Locality("Verwood", 1.3, 0.4, ("BH31",), True),
    Locality("Swanage", 1.1, 0.3, ("BH19",), True),
    Locality("Wareham", 1.2, 0.5, ("BH20",), True),
)

LOCALITY_BY_NAME = {loc.name: loc for loc in LOCALITIES}


@dataclass(frozen=True)
class DesignatedArea:
    name: str
    locality: str
    asb_priority: bool = False
    sv_hotspot: bool = False
    rural_hotspot: bool = False


AREAS = (
    DesignatedArea("Bournemouth Town Centre", "Bournemouth", asb_priority=True, sv_hotspot=True),
    DesignatedArea("Boscombe", "Bournemouth", asb_priority=True, sv_hotspot=True),
    DesignatedArea("Bournemouth Lower Gardens", "Bournemouth", asb_priority=True),
    DesignatedArea("Winton High Street", "Bournemouth", sv_hotspot=True),
    DesignatedArea("Poole Town Centre", "Poole", asb_priority=True, sv_hotspot=True),
    DesignatedArea("Poole Quay", "Poole", asb_priority=True),
    DesignatedArea("Hamworthy", "Poole", sv_hotspot=True),
    DesignatedArea("Christchurch Quay", "Christchurch", asb_priority=True),
    DesignatedArea("Weymouth Town Centre", "Weymouth", asb_priority=True, sv_hotspot=True),
    DesignatedArea("Weymouth Esplanade", "Weymouth", asb_priority=True),
    DesignatedArea("Littlemoor", "Weymouth", asb_priority=True),
    DesignatedArea("Portland Underhill", "Portland", asb_priority=True),
    DesignatedArea("Portland Quarries", "Portland", rural_hotspot=True),
    DesignatedArea("Dorchester Town Centre", "Dorchester", asb_priority=True),
    DesignatedArea("Maiden Castle", "Dorchester", rural_hotspot=True),
    DesignatedArea("Bridport Town Centre", "Bridport", asb_priority=True),
    DesignatedArea("Marshwood Vale", "Bridport", rural_hotspot=True),
    DesignatedArea("Lyme Regis Seafront", "Lyme Regis", asb_priority=True),
    DesignatedArea("Sherborne Abbey Precinct", "Sherborne"),  # designated, but for none of the three priorities
    DesignatedArea("Blackmore Vale", "Sturminster Newton", rural_hotspot=True),
    DesignatedArea("Blandford Forum Market Place", "Blandford Forum", asb_priority=True),
    DesignatedArea("Cranborne Chase", "Shaftesbury", rural_hotspot=True),
    DesignatedArea("Gillingham Town Centre", "Gillingham", asb_priority=True),
    DesignatedArea("Wimborne Square", "Wimborne Minster", asb_priority=True),
    DesignatedArea("Ferndown Heath", "Ferndown", rural_hotspot=True),
    DesignatedArea("Verwood Heathland", "Verwood", rural_hotspot=True),
    DesignatedArea("Swanage Seafront", "Swanage", asb_priority=True),
    DesignatedArea("Purbeck Heaths", "Wareham", rural_hotspot=True),
)

# The inward code's letters never include C, I, K, M, O or V.
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def areas_in(locality: str, flag: str) -> tuple[DesignatedArea, ...]:
    """The areas of a locality carrying `flag` (`asb_priority`, `sv_hotspot`, `rural_hotspot`, or `any`)."""
    return tuple(a for a in AREAS if a.locality == locality and (flag == "any" or getattr(a, flag)))
