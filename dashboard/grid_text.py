"""Dutch words for the grids (dash-ag-grid speaks English by itself)."""

from __future__ import annotations

#: AG Grid's ``localeText`` keys for paging, filtering and selecting, in Dutch
NL = {
    "page": "Pagina",
    "of": "van",
    "to": "tot",
    "more": "meer",
    "pageSizeSelectorLabel": "Regels per pagina:",
    "firstPage": "Eerste pagina",
    "previousPage": "Vorige pagina",
    "nextPage": "Volgende pagina",
    "lastPage": "Laatste pagina",
    "filterOoo": "Filter…",
    "equals": "Is gelijk aan",
    "notEqual": "Is niet gelijk aan",
    "contains": "Bevat",
    "notContains": "Bevat niet",
    "startsWith": "Begint met",
    "endsWith": "Eindigt op",
    "blank": "Leeg",
    "notBlank": "Niet leeg",
    "lessThan": "Kleiner dan",
    "greaterThan": "Groter dan",
    "inRange": "Tussen",
    "andCondition": "EN",
    "orCondition": "OF",
    "applyFilter": "Toepassen",
    "resetFilter": "Wissen",
    "clearFilter": "Wissen",
    "noRowsToShow": "Geen regels",
    "loadingOoo": "Laden…",
    "selectAll": "Alles kiezen",
    "searchOoo": "Zoeken…",
}


def grid_options(lang: str, **options: object) -> dict[str, object]:
    """``dashGridOptions`` with the grid's own words in ``lang`` (Dutch; English as AG Grid has it)."""
    return {**options, **({"localeText": NL} if lang == "nl" else {})}
