"""The network's shape: shared dimensions, and each plant's lines, assets and products.

Randomness comes from `numpy.random.SeedSequence(seed, spawn_key=...)`: key (0,) for what
the plants share (costs, bills of material), key (1, i) for plant i. Plant i's data depends
only on the seed, the window and i, so growing a network never changes its first plants.
"""

import unicodedata
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from sample_data import catalog

SHARED_KEY = (0,)
TEMPLATES = len(catalog.PLANTS)


def shared_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=SHARED_KEY))


def plant_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, index)))


@dataclass(frozen=True)
class Shared:
    """Dimensions every plant refers to, as DataFrames shaped like their tables."""

    region: pd.DataFrame
    supplier: pd.DataFrame
    material: pd.DataFrame
    bom: pd.DataFrame
    downtime_reason: pd.DataFrame


def shared_dimensions(seed: int) -> Shared:
    """Regions, suppliers, the material catalog with its bills of material, reason codes."""
    rng = shared_rng(seed)
    rows = []
    for family, products in catalog.PRODUCTS.items():
        for name, pack, cost in products:
            rows.append(
                dict(
                    material_id=f"FG-{1001 + len(rows)}",
                    name=name,
                    material_type="finished",
                    unit="ea",
                    unit_cost=cost,
                    asset_class=None,
                    family=family,
                    pack=pack,
                )
            )
    for n, (name, unit, cost, _families) in enumerate(catalog.RAW):
        rows.append(
            dict(
                material_id=f"RM-{2001 + n}",
                name=name,
                material_type="raw",
                unit=unit,
                unit_cost=cost,
                asset_class=None,
            )
        )
    for n, (name, unit, cost, _families, _per_pack) in enumerate(catalog.PACKAGING):
        rows.append(
            dict(
                material_id=f"PK-{3001 + n}",
                name=name,
                material_type="packaging",
                unit=unit,
                unit_cost=cost,
                asset_class=None,
            )
        )
    n = 0
    for asset_class, parts in catalog.SPARE_PARTS.items():
        for name, cost in parts:
            rows.append(
                dict(
                    material_id=f"SP-{4001 + n}",
                    name=name,
                    material_type="spare_part",
                    unit="ea",
                    unit_cost=cost,
                    asset_class=asset_class,
                )
            )
            n += 1
    materials = pd.DataFrame(rows)
    return Shared(
        region=pd.DataFrame({"region_id": list(catalog.REGIONS), "name": list(catalog.REGIONS.values())}),
        supplier=pd.DataFrame([dict(supplier_id=k, name=v[0], country=v[1]) for k, v in catalog.SUPPLIERS.items()]),
        material=materials,
        bom=_bill_of_materials(rng, materials),
        downtime_reason=pd.DataFrame(
            [
                dict(reason_code=code, category=cat, is_failure=cat == "failure", description=text)
                for code, (cat, text) in catalog.REASONS.items()
            ]
        ),
    )


def _bill_of_materials(rng, materials: pd.DataFrame) -> pd.DataFrame:
    """Each pack uses 1-2 raw materials and 1-2 containers of its family, plus case and wrap."""
    raw_ids = {name: f"RM-{2001 + n}" for n, (name, *_rest) in enumerate(catalog.RAW)}
    rows = []
    for product in materials[materials["material_type"] == "finished"].itertuples():
        raws = [raw_ids[name] for name, _u, _c, fams in catalog.RAW if product.family in fams]
        for mid in rng.choice(raws, size=min(len(raws), rng.integers(1, 3)), replace=False):
            rows.append((product.material_id, mid, round(product.pack * rng.uniform(0.05, 0.4), 4)))
        containers = []
        for n, (_name, unit, _cost, fams, per_pack) in enumerate(catalog.PACKAGING):
            mid = f"PK-{3001 + n}"
            if fams is None:  # every product ships in a case on a wrapped pallet
                qty = 1.0 if unit == "ea" else rng.uniform(0.004, 0.01)
                rows.append((product.material_id, mid, round(qty, 4)))
            elif product.family in fams and per_pack:
                rows.append((product.material_id, mid, round(rng.uniform(0.02, 0.06), 4)))
            elif product.family in fams:
                containers.append((mid, unit))
        for i in rng.choice(len(containers), size=min(len(containers), rng.integers(1, 3)), replace=False):
            mid, unit = containers[i]
            qty = product.pack if unit == "ea" else product.pack * rng.uniform(0.004, 0.02)
            rows.append((product.material_id, mid, round(float(qty), 4)))
    return pd.DataFrame(rows, columns=["product_id", "material_id", "qty_per_unit"]).sort_values(
        ["product_id", "material_id"], ignore_index=True
    )


@dataclass
class Layout:
    """One plant's dimensions and the per-line and per-asset parameters its simulation uses."""

    template: dict
    plant: dict
    lines: pd.DataFrame  # line table columns + line_type params (ideal_cycle_s, perf, qual, bottleneck)
    assets: pd.DataFrame  # asset table columns + class params and line index
    products: list  # material ids of the finished goods this plant makes
    line_mix: np.ndarray  # lines x products: share of each line's output per product


def plant_layout(index: int, start: date, shared: Shared, rng: np.random.Generator) -> Layout:
    """Plant `index`: template index % 12; later generations get a suffix and a nearby site."""
    template = catalog.PLANTS[index % TEMPLATES]
    generation = index // TEMPLATES
    plant_id = template["code"] + (str(generation + 1) if generation else "")
    lat, lon = template["lat"], template["lon"]
    if generation:
        lat, lon = lat + rng.uniform(-1.5, 1.5), lon + rng.uniform(-2.0, 2.0)
    plant = dict(
        plant_id=plant_id,
        name=template["name"] + (f" {generation + 1}" if generation else ""),
        region_id=template["region"],
        country=template["country"],
        timezone=template["tz"],
        lat=round(lat, 4),
        lon=round(lon, 4),
        data_maturity=template["maturity"],
        maintenance_workflow=template["workflow"],
        currency=template["currency"],
    )
    maturity = catalog.MATURITY[template["maturity"]]
    lang = catalog.LANG_FAMILY[template["lang"]]
    city = _ascii(template["name"])[:3].upper()
    n_lines = int(rng.integers(3, 6))
    plant_perf = maturity["perf"] + rng.uniform(-0.03, 0.03)
    line_rows, asset_rows = [], []
    type_counts: dict[str, int] = {}
    for li, line_type in enumerate(catalog.LINE_TYPES_BY_FAMILY[template["family"]][:n_lines]):
        n = li + 1
        type_counts[line_type] = type_counts.get(line_type, 0) + 1
        classes, bottleneck = catalog.LINE_ASSETS[line_type]
        n_assets = int(rng.integers(4, 8))
        line_code = _line_code(template, lang, n, line_type, type_counts[line_type], city)
        line_id = f"{plant_id}-L{n}"
        line_rows.append(
            dict(
                line_id=line_id,
                plant_id=plant_id,
                local_code=line_code,
                line_type=line_type,
                name=f"{line_type.capitalize()} {type_counts[line_type]}",
                ideal_cycle_s=round(rng.uniform(*catalog.IDEAL_CYCLE_S[line_type]), 3),
                perf=plant_perf + rng.uniform(-0.03, 0.03),
                qual=maturity["qual"] + rng.uniform(-0.008, 0.008),
                first_asset=len(asset_rows),
                bottleneck=len(asset_rows) + bottleneck,
                n_assets=n_assets,
            )
        )
        for k, asset_class in enumerate(classes[:n_assets]):
            params = catalog.ASSET_CLASSES[asset_class]
            crit = params["crit"] if rng.random() < 0.8 else "ABC"[int(rng.integers(0, 3))]
            if li == 0 and k == bottleneck:
                crit = "A"  # the packaging line's bottleneck stops the line: the seed scenario's asset
            code, local_name = _asset_code(template, lang, n, line_code, k, asset_class, city)
            asset_rows.append(
                dict(
                    asset_id=f"{line_id}-A{k + 1:02d}",
                    plant_id=plant_id,
                    line_id=line_id,
                    asset_class=asset_class,
                    criticality=crit,
                    local_code=code,
                    local_name=local_name,
                    install_year=int(start.year - rng.integers(1, 28)),
                    line=li,
                    **params,
                )
            )
    lines, assets = pd.DataFrame(line_rows), pd.DataFrame(asset_rows)
    family = shared.material[
        (shared.material["material_type"] == "finished") & (shared.material["family"] == template["family"])
    ]["material_id"].tolist()
    products = sorted(rng.choice(family, size=min(len(family), int(rng.integers(2, 5))), replace=False).tolist())
    mix = np.zeros((n_lines, len(products)))
    for p in range(len(products)):  # every product has a line...
        mix[p % n_lines, p] = 1.0
    for li in range(n_lines):  # ...every line a product, some lines two
        mix[li, li % len(products)] = 1.0
        if rng.random() < 0.5:
            mix[li, int(rng.integers(0, len(products)))] += rng.uniform(0.2, 0.8)
    return Layout(template, plant, lines, assets, products, mix / mix.sum(axis=1, keepdims=True))


_TYPE_CODE = {"packaging": "PKG", "filling": "FIL", "processing": "PRC", "assembly": "ASM"}


def _line_code(template, lang, n, line_type, type_no, city):
    style = template["naming"]
    word = catalog.LINE_WORD[lang]
    return {
        "pkg": f"{_TYPE_CODE[line_type]}{type_no}",
        "dotted": f"LIN{n:02d}",
        "slash": f"Ln {n}",
        "numeric": f"{n}00",
        "techid": f"L{n}",
        "excel": f"{word}{n}",
        "maximo": f"{city}-LN{n:02d}",
        "free_vi": f"{word} {n}",
        "compact": f"{city}{n}",
    }[style]


def _asset_code(template, lang, n, line_code, k, asset_class, city):
    """(local code, local name) in the plant's own convention and language."""
    style = template["naming"]
    local = catalog.CLASS_NAMES[lang][asset_class]
    english = catalog.CLASS_NAMES["en"][asset_class]
    abbr = catalog.ASSET_CLASSES[asset_class]["abbr"]
    return {
        "pkg": (f"{line_code}_{english}_{'ABCDEFG'[k]}", f"{english} {'ABCDEFG'[k]} ({line_code})"),
        "dotted": (f"{city}.L{n:02d}.{_ascii(local)[:3].upper()}{k + 1}", f"{local} {k + 1} L{n}"),
        "slash": (f"Ln {n} / {local.lower()} #{k + 1}", f"{local} #{k + 1}"),
        "numeric": (f"{n}{k + 1:02d}-{abbr}", f"{english} {n}{k + 1:02d}"),
        "techid": (f"{template['country']}-{city}-L{n}-{abbr}-{k + 1:02d}", f"{local} {k + 1}"),
        "excel": (f"{line_code}-{local}{k + 1}", f"{local} {k + 1}"),
        "maximo": (f"{city}-{10000 + n * 100 + k + 1}", f"{english} {k + 1} Line {n}"),
        "free_vi": (f"C{n}-{local} {k + 1}", f"{local} số {k + 1} - {line_code}"),
        "compact": (f"{line_code}{abbr}{k + 1:02d}", f"{english} {k + 1} {line_code}"),
    }[style]


def material_local_code(template, material_id: str, name: str) -> str:
    """How the plant's ERP or spreadsheet keys a shared material."""
    num = int(material_id.split("-")[1])
    return {
        "pkg": f"M-{num + 50000}",
        "dotted": f"MAT.{num:06d}",
        "slash": f"{_ascii(name)[:6].upper()}-{num % 1000}",
        "numeric": f"{num * 10 + 7}",
        "techid": f"{10000000 + num * 13}",
        "excel": name,
        "maximo": f"ITM{num:06d}",
        "free_vi": f"VT{num:05d}",
        "compact": f"R{num:05d}",
    }[template["naming"]]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
