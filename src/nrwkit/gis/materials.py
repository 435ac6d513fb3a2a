"""Hazen-Williams roughness from pipe material and age, when a layer has no roughness.

The default table gives C for new pipe from the EPANET 2.2 manual (Rossman et al. 2020,
Table 3.2: cast iron 130-140, concrete 120-140, galvanised iron 120, plastic 140-150,
steel 140-150) and a linear loss with age for unlined metallic pipe, floored at a minimum.
The loss rates are rounded from the commonly quoted ageing of unlined cast iron (about
C 130 new, 100 at 20 years, 80 at 40 years; Walski et al., *Advanced Water Distribution
Modeling and Management*, 2003, ch. 2). They are defaults for a first model: calibrate,
and override them in the mapping's ``materials`` section with local values.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MATERIALS", "MATERIAL_ALIASES", "MaterialRoughness", "hazen_williams_c"]


#: Floor of C for an ageing material with no ``c_min`` (a badly tuberculated main).
MIN_C = 40.0


@dataclass(frozen=True)
class MaterialRoughness:
    """Hazen-Williams C of a material: new, lost per year of age, and the floor."""

    c_new: float
    c_loss_per_year: float = 0.0
    c_min: float | None = None

    def at_age(self, years: float | None) -> float:
        """Return C for a pipe ``years`` old (new pipe when the age is unknown)."""
        if years is None or years <= 0 or self.c_loss_per_year == 0:
            return self.c_new
        floor = self.c_min if self.c_min is not None else MIN_C
        return max(floor, self.c_new - self.c_loss_per_year * years)


#: Default roughness by material code (see the module docstring for sources).
DEFAULT_MATERIALS: dict[str, MaterialRoughness] = {
    "PVC": MaterialRoughness(150.0),
    "PE": MaterialRoughness(140.0),
    "GRP": MaterialRoughness(145.0),
    "DI": MaterialRoughness(140.0, 0.25, 120.0),    # cement-mortar lined ductile iron
    "CI": MaterialRoughness(130.0, 1.25, 60.0),     # unlined cast iron
    "STEEL": MaterialRoughness(145.0, 1.0, 80.0),
    "GI": MaterialRoughness(120.0, 1.5, 60.0),      # galvanised iron
    "AC": MaterialRoughness(140.0, 0.25, 120.0),    # asbestos cement
    "CONCRETE": MaterialRoughness(130.0, 0.25, 110.0),
    "COPPER": MaterialRoughness(140.0),
    "CLAY": MaterialRoughness(110.0),
}

#: Spellings found in utility layers, mapped to the codes above (compared upper-case).
MATERIAL_ALIASES: dict[str, str] = {
    "UPVC": "PVC", "PVC-U": "PVC", "PVC-O": "PVC", "MPVC": "PVC", "POLYVINYL CHLORIDE": "PVC",
    "HDPE": "PE", "MDPE": "PE", "LDPE": "PE", "PEAD": "PE", "POLYETHYLENE": "PE", "PE100": "PE",
    "PE80": "PE", "FIBREGLASS": "GRP", "FIBERGLASS": "GRP", "GRP/FRP": "GRP", "FRP": "GRP",
    "DUCTILE IRON": "DI", "DUCTILE": "DI", "DIP": "DI", "FD": "DI",
    "CAST IRON": "CI", "GREY IRON": "CI", "GRAY IRON": "CI", "CIP": "CI", "FG": "CI",
    "ST": "STEEL", "STL": "STEEL", "ACERO": "STEEL",
    "GALVANISED": "GI", "GALVANIZED": "GI", "GS": "GI", "GALVANISED IRON": "GI",
    "ASBESTOS CEMENT": "AC", "ACP": "AC", "FIBROCEMENTO": "AC", "FC": "AC",
    "CONC": "CONCRETE", "RCP": "CONCRETE", "PCCP": "CONCRETE", "CU": "COPPER",
    "VC": "CLAY", "VITRIFIED CLAY": "CLAY",
}


def hazen_williams_c(
    material: str | None,
    *,
    install_year: float | None = None,
    reference_year: int,
    table: dict[str, MaterialRoughness] | None = None,
) -> float | None:
    """Return the Hazen-Williams C for a material and age, or None if the material is unknown.

    Parameters
    ----------
    material : str or None
        The layer's material code or name (case and spaces do not matter).
    install_year : float, optional
        Year laid; the age is ``reference_year - install_year``.
    reference_year : int
        The year the model represents.
    table : dict, optional
        Material table (default :data:`DEFAULT_MATERIALS`, with the mapping's overrides).

    Examples
    --------
    >>> hazen_williams_c("Cast Iron", install_year=1990, reference_year=2010)
    105.0
    >>> hazen_williams_c("HDPE", reference_year=2026)
    140.0
    """
    if material is None:
        return None
    table = DEFAULT_MATERIALS if table is None else table
    key = " ".join(str(material).upper().split())
    key = MATERIAL_ALIASES.get(key, key)
    entry = table.get(key)
    if entry is None:
        return None
    age = None if install_year is None else reference_year - float(install_year)
    return entry.at_age(age)
