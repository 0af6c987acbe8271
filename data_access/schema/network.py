"""Dimensions: region -> plant -> line -> asset, materials, suppliers and reasons.

Every dimension keeps the plant's own local code beside the canonical id.
"""

from sqlalchemy import Boolean, Column, Float, ForeignKey, Integer, String, Table

from data_access.schema.base import metadata

region = Table(
    "region",
    metadata,
    Column("region_id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
)

plant = Table(
    "plant",
    metadata,
    Column("plant_id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("region_id", ForeignKey("region.region_id"), nullable=False),
    Column("country", String(2), nullable=False),
    Column("timezone", String(64), nullable=False),  # IANA zone, e.g. Europe/Berlin
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("data_maturity", String(16), nullable=False),  # iot | mes | spreadsheet
    Column("maintenance_workflow", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
)

line = Table(
    "line",
    metadata,
    Column("line_id", String(48), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("line_type", String(32), nullable=False),  # packaging | filling | processing | assembly
    Column("local_code", String(64), nullable=False),
)

asset = Table(
    "asset",
    metadata,
    Column("asset_id", String(64), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("line_id", ForeignKey("line.line_id"), nullable=False, index=True),
    Column("asset_class", String(32), nullable=False),  # canonical class, e.g. conveyor
    Column("criticality", String(1), nullable=False),  # A (line stops) | B | C
    Column("local_code", String(64), nullable=False),
    Column("local_name", String(100), nullable=False),
    Column("install_year", Integer, nullable=False),
)

material = Table(
    "material",
    metadata,
    Column("material_id", String(48), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("material_type", String(16), nullable=False),  # spare_part | raw | packaging | finished
    Column("unit", String(8), nullable=False),
    Column("unit_cost", Float, nullable=False),
    Column("asset_class", String(32)),  # spare parts: the asset class they fit
)

supplier = Table(
    "supplier",
    metadata,
    Column("supplier_id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("country", String(2), nullable=False),
)

# The material-plant view (as in an ERP's plant data for a material): which plant stocks
# which material, its local code, its supplier and its stocking policy.
plant_material = Table(
    "plant_material",
    metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("material_id", ForeignKey("material.material_id"), primary_key=True),
    Column("local_code", String(64), nullable=False),
    Column("supplier_id", ForeignKey("supplier.supplier_id")),
    Column("lead_time_days", Float),
    Column("safety_stock", Float, nullable=False, default=0.0),
    Column("reorder_point", Float, nullable=False, default=0.0),
)

# Bill of material: how much of each input one unit of a finished product consumes.
bom = Table(
    "bom",
    metadata,
    Column("product_id", ForeignKey("material.material_id"), primary_key=True),
    Column("material_id", ForeignKey("material.material_id"), primary_key=True),
    Column("qty_per_unit", Float, nullable=False),
)

downtime_reason = Table(
    "downtime_reason",
    metadata,
    Column("reason_code", String(32), primary_key=True),
    Column("category", String(24), nullable=False),  # failure | planned | changeover | starved | quality
    Column("is_failure", Boolean, nullable=False),
    Column("description", String(200), nullable=False),
)
