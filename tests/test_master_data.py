"""Rolling out a new plant from its own exports (issue 17), on SQLite and PostgreSQL: master data
through the ingest, refusals that name the row and field and write nothing, and a year of the
new plant's history reaching MTBF, MTTR and unplanned downtime (hand-computed)."""

import io
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
import yaml
from sqlalchemy import func, select

from data_access import queries
from data_access.ingest import load_file, parse_mapping
from data_access.ingest.__main__ import main as cli
from data_access.kpis import roll_up
from data_access.schema import asset, ingest_load, line, plant, work_order
from data_access.scope import PlantScope
from governance import policies
from tests import tiny_network
from tests.apptest import TEST_LOGINS, log_in

NEW = "FR-LYS"
PLANT_ROW = {
    "Site": NEW,
    "Nom": "Lyon Bottling",
    "Region": "Europe",
    "Pays": "FR",
    "Fuseau": "Europe/Paris",
    "Devise": "EUR",
    "Maturite": "spreadsheet",
    "Maintenance": "paper_forms",
    "Lat": "45,76",
    "Lon": "4,84",
}
PLANT_MAP = {
    "plant": NEW,
    "source": "plant",
    "file": {"decimal": ","},
    "columns": {
        "plant": "Site",
        "name": "Nom",
        "region": "Region",
        "country": "Pays",
        "timezone": "Fuseau",
        "currency": "Devise",
        "data_maturity": "Maturite",
        "maintenance_workflow": "Maintenance",
        "lat": "Lat",
        "lon": "Lon",
    },
}
LINE_MAP = {
    "plant": NEW,
    "source": "line",
    "columns": {"plant": "Site", "line": "Id", "name": "Nom", "line_type": "Type", "local_code": "Code"},
}
ASSET_MAP = {
    "plant": NEW,
    "source": "asset",
    "date_format": "%d/%m/%Y",
    "columns": {
        "asset": "Machine",
        "line": "Ligne",
        "asset_class": "Classe",
        "criticality": "Crit",
        "model": "Modele",
        "install_date": "Mise en service",
        "local_name": "Nom",
    },
}
LINES = [{"Site": NEW, "Id": "FR-LYS-L1", "Nom": "Embouteillage 1", "Type": "filling", "Code": "EMB1"}]
ASSETS = [
    {
        "Machine": "FR-LYS-M1",
        "Ligne": "EMB1",
        "Classe": "filler",
        "Crit": "A",
        "Modele": "KHS Innofill",
        "Mise en service": "15/03/2012",
        "Nom": "Remplisseuse",
    },
    {
        "Machine": "FR-LYS-M2",
        "Ligne": "EMB1",
        "Classe": "capper",
        "Crit": "B",
        "Modele": "Arol EURO-PK",
        "Mise en service": "01/09/2018",
        "Nom": "Boucheuse",
    },
]


@pytest.fixture
def warehouse(empty_engine):
    tiny_network.build(empty_engine)
    return empty_engine


def csv_bytes(rows: list[dict]) -> io.BytesIO:
    """A plant's export as it comes: every value text, quoted where it needs to be."""
    return io.BytesIO(pd.DataFrame(rows, dtype=str).to_csv(index=False).encode("utf-8"))


def load(engine, spec, rows, **options):
    mapping = parse_mapping(spec)
    return load_file(
        engine,
        mapping.plant,
        mapping.source,
        mapping,
        csv_bytes(rows),
        file_name=f"{mapping.source}.csv",
        actor="steward",
        **options,
    )


def onboard(engine):
    for spec, rows in ((PLANT_MAP, [PLANT_ROW]), (LINE_MAP, LINES), (ASSET_MAP, ASSETS)):
        result = load(engine, spec, rows)
        assert result.status == "loaded", result.error
    return result


def table_rows(engine):
    with engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=str) for t in (plant, line, asset)}


def test_a_new_plant_with_lines_and_assets_from_its_files(warehouse):
    onboard(warehouse)
    with warehouse.connect() as conn:
        p = conn.execute(select(plant).where(plant.c.plant_id == NEW)).one()
        assets = conn.execute(select(asset).where(asset.c.plant_id == NEW).order_by(asset.c.asset_id)).all()
        loads = conn.execute(
            select(ingest_load.c.source, ingest_load.c.status, ingest_load.c.inserted)
            .where(ingest_load.c.plant_id == NEW)
            .order_by(ingest_load.c.load_id)
        ).all()
    assert (p.name, p.region_id, p.timezone, p.currency, p.lat, p.lon) == (
        "Lyon Bottling",
        "EU",
        "Europe/Paris",
        "EUR",
        45.76,
        4.84,
    )
    assert [(a.asset_id, a.line_id, a.model, a.install_date, a.install_year, a.local_code) for a in assets] == [
        ("FR-LYS-M1", "FR-LYS-L1", "KHS Innofill", date(2012, 3, 15), 2012, "FR-LYS-M1"),
        ("FR-LYS-M2", "FR-LYS-L1", "Arol EURO-PK", date(2018, 9, 1), 2018, "FR-LYS-M2"),
    ]
    assert [tuple(r) for r in loads] == [("plant", "loaded", 1), ("line", "loaded", 1), ("asset", "loaded", 2)]
    # it appears among the plants (the overview's list) and inherits the enterprise policies
    assert NEW in set(queries.plants(warehouse, PlantScope.everything())["plant_id"])
    assert policies.effective(warehouse, NEW).values == policies.effective(warehouse, None).values
    # master-data loads are no feed of the data-quality page
    from data_access.quality import feed_quality

    assert set(feed_quality(warehouse, PlantScope.only([NEW]))["source"]) == set()
    # loading the same files again changes nothing
    again = load(warehouse, ASSET_MAP, ASSETS)
    assert (again.inserted, again.replaced, again.unchanged) == (0, 0, 2)


@pytest.mark.parametrize(
    "spec, rows, message",
    [
        (
            PLANT_MAP,
            [{**PLANT_ROW, "Fuseau": "UTC+1"}],
            "row 2, timezone (column 'Fuseau'): 'UTC+1' is not an IANA time zone",
        ),
        (
            PLANT_MAP,
            [{**PLANT_ROW, "Fuseau": "CEST"}],
            "row 2, timezone (column 'Fuseau'): 'CEST' is not an IANA time zone",
        ),
        (LINE_MAP, [{**LINES[0], "Site": "XX-NOPE"}], "row 2, plant (column 'Site'): 'XX-NOPE' is not a known plant"),
        (
            ASSET_MAP,
            [ASSETS[0], {**ASSETS[1], "Machine": "A-L1-CAP"}],
            "row 3, asset (column 'Machine'): asset id 'A-L1-CAP' is used by plant A",
        ),
        (
            ASSET_MAP,
            [ASSETS[0], {**ASSETS[1], "Machine": "FR-LYS-M1"}],
            "row 3, asset (column 'Machine'): asset 'FR-LYS-M1' is already in row 2 of this file",
        ),
        (
            ASSET_MAP,
            [{**ASSETS[0], "Ligne": "NOPE"}],
            "row 2, line (column 'Ligne'): 'NOPE' is not a line of plant FR-LYS",
        ),
        (
            ASSET_MAP,
            [{**ASSETS[0], "Mise en service": "2012-03-15"}],
            "row 2, install_date (column 'Mise en service'): '2012-03-15' is not a date in format '%d/%m/%Y'",
        ),
    ],
)
def test_bad_master_data_is_refused_by_row_and_field_and_nothing_is_written(warehouse, spec, rows, message):
    if spec is not PLANT_MAP:
        onboard(warehouse)
    before = table_rows(warehouse)
    result = load(warehouse, spec, rows)
    assert result.status == "failed" and result.exit_code == 2
    assert message in result.error and "nothing was written" in result.error
    assert table_rows(warehouse) == before


def test_a_master_data_file_does_not_rename_an_existing_plant(warehouse):
    before = table_rows(warehouse)
    result = load(warehouse, {**PLANT_MAP, "plant": "A"}, [{**PLANT_ROW, "Site": "A", "Nom": "Alpha Munich"}])
    assert result.status == "failed"
    assert (
        "row 2, name (column 'Nom'): the file renames plant 'A' from 'Alpha Berlin' to 'Alpha Munich'" in result.error
    )
    assert table_rows(warehouse) == before


def test_only_a_steward_or_admin_creates_a_plant(warehouse):
    result = load(warehouse, PLANT_MAP, [PLANT_ROW], may_create_plant=False)
    assert result.status == "failed" and "only a data steward or admin may create a plant" in result.error
    assert NEW not in set(queries.plants(warehouse, PlantScope.everything())["plant_id"])


def test_the_command_names_the_master_sources_and_creates_a_plant(warehouse, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli(["--help"])
    assert "plant, line, asset, material, supplier" in " ".join(capsys.readouterr().out.split())
    (tmp_path / "plant.yaml").write_text(yaml.safe_dump(PLANT_MAP))
    (tmp_path / "plant.csv").write_bytes(csv_bytes([PLANT_ROW]).getvalue())
    url = warehouse.url.render_as_string(hide_password=False)
    code = cli(
        [
            "--url",
            url,
            "--plant",
            NEW,
            "--source",
            "plant",
            "--mapping",
            str(tmp_path / "plant.yaml"),
            "--no-progress",
            str(tmp_path / "plant.csv"),
        ]
    )
    assert code == 0 and "1 loaded" in capsys.readouterr().out
    assert NEW in set(queries.plants(warehouse, PlantScope.everything())["plant_id"])


# --- a year of the new plant's history reaches its KPIs -----------------------------------------

DOWNTIME_MAP = {
    "plant": NEW,
    "source": "downtime",
    "datetime_format": "%d/%m/%Y %H:%M",
    "columns": {"asset": "Machine", "start": "Debut", "end": "Fin", "reason": "Motif"},
    "codes": {"reason": {"Panne": "MECH_FAIL", "Entretien": "PM"}},
}
WO_MAP = {
    "plant": NEW,
    "source": "work_orders",
    "datetime_format": "%d/%m/%Y %H:%M",
    "columns": {"wo_number": "OT", "asset": "Machine", "wo_type": "Type", "created": "Cree", "completed": "Clos"},
    "codes": {"wo_type": {"CORR": "corrective", "PREV": "preventive"}},
}
PRODUCTION_MAP = {
    "plant": NEW,
    "source": "production",
    "columns": {
        "line": "Ligne",
        "day": "Jour",
        "planned_busy": {"column": "Ouverture", "unit": "h"},
        "run": {"column": "Marche", "unit": "h"},
        "ideal_cycle": "Cadence",
        "produced_qty": "Produit",
        "good_qty": "Bon",
    },
}


def year_of_history():
    """2025 at Lyon: 20 h of run time a day; a 2 h failure of M1 on the 10th of every month at
    10:00; a 1 h planned stop of M2 on the 20th of each quarter's first month; a corrective work
    order per failure."""
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(365)]
    production = [
        {
            "Ligne": "EMB1",
            "Jour": d.isoformat(),
            "Ouverture": "22",
            "Marche": "20",
            "Cadence": "1",
            "Produit": "60000",
            "Bon": "59000",
        }
        for d in days
    ]
    failures = [datetime(2025, m, 10, 10) for m in range(1, 13)]
    stops = [
        {
            "Machine": "FR-LYS-M1",
            "Debut": f"{s:%d/%m/%Y %H:%M}",
            "Fin": f"{s + timedelta(hours=2):%d/%m/%Y %H:%M}",
            "Motif": "Panne",
        }
        for s in failures
    ]
    stops += [
        {
            "Machine": "FR-LYS-M2",
            "Debut": f"20/{m:02d}/2025 06:00",
            "Fin": f"20/{m:02d}/2025 07:00",
            "Motif": "Entretien",
        }
        for m in (1, 4, 7, 10)
    ]
    orders = [
        {
            "OT": f"OT-{i:03d}",
            "Machine": "FR-LYS-M1",
            "Type": "CORR",
            "Cree": f"{s:%d/%m/%Y %H:%M}",
            "Clos": f"{s + timedelta(hours=3):%d/%m/%Y %H:%M}",
        }
        for i, s in enumerate(failures, 1)
    ]
    return production, stops, orders


def test_a_year_of_the_new_plants_history_reaches_its_kpis(warehouse):
    onboard(warehouse)
    production, stops, orders = year_of_history()
    for spec, rows in ((PRODUCTION_MAP, production), (DOWNTIME_MAP, stops), (WO_MAP, orders)):
        result = load(warehouse, spec, rows)
        assert (result.status, result.loadable, result.marts_error) == ("loaded", len(rows), None), result.error
    with warehouse.connect() as conn:
        assert conn.execute(select(func.count()).where(work_order.c.plant_id == NEW)).scalar_one() == 12
    components = queries.plant_kpi_components(warehouse, PlantScope.only([NEW]), date(2025, 1, 1), date(2025, 12, 31))
    assert list(components["days"]) == [365]
    kpi = roll_up(components)
    # 12 failures of 2 h; run time 365 x 20 h = 7,300 h
    assert kpi["failures"] == 12
    assert kpi["unplanned_downtime_h"] == pytest.approx(24.0)
    assert kpi["mttr_h"] == pytest.approx(2.0)
    assert kpi["mtbf_h"] == pytest.approx(7300 / 12)
    assert kpi["planned_downtime_s"] == pytest.approx(4 * 3600)


def test_an_asset_master_with_excel_serial_install_dates(warehouse):
    onboard(warehouse)
    spec = {
        **ASSET_MAP,
        "columns": {**ASSET_MAP["columns"], "install_date": {"column": "Mise en service", "format": "excel"}},
    }
    result = load(warehouse, spec, [{**ASSETS[0], "Mise en service": "40983"}])  # 2012-03-15
    assert (result.status, result.unchanged) == ("loaded", 1)
    bad = load(warehouse, spec, [{**ASSETS[0], "Mise en service": "15/03/2012"}])
    assert "row 2, install_date (column 'Mise en service'): '15/03/2012' is not a date in format 'excel'" in bad.error


def test_the_overview_shows_the_new_plants_year(warehouse, start_app):
    onboard(warehouse)
    production, stops, orders = year_of_history()
    for spec, rows in ((PRODUCTION_MAP, production), (DOWNTIME_MAP, stops), (WO_MAP, orders)):
        load(warehouse, spec, rows)
    at = log_in(start_app(warehouse.url.render_as_string(hide_password=False)), "coo", TEST_LOGINS["coo"][0])
    at.date_input(key="filters_dates").set_value((date(2025, 1, 1), date(2025, 12, 31))).run()
    assert not at.exception, at.exception
    ranking = next(df.value for df in at.dataframe if "oee" in df.value.columns).set_index("plant_id")
    assert ranking.loc[NEW, "mttr_h"] == pytest.approx(2.0)
    assert ranking.loc[NEW, "mtbf_h"] == pytest.approx(7300 / 12)
    assert ranking.loc[NEW, "unplanned_downtime_h"] == pytest.approx(24.0)


def test_materials_and_suppliers_from_the_plants_files(warehouse):
    from data_access.schema import material, plant_material, supplier

    onboard(warehouse)
    sup = load(
        warehouse,
        {"plant": NEW, "source": "supplier", "columns": {"supplier": "Id", "name": "Nom", "country": "Pays"}},
        [{"Id": "S-LYS", "Nom": "Verallia", "Pays": "FR"}],
    )
    mat = load(
        warehouse,
        {
            "plant": NEW,
            "source": "material",
            "file": {"decimal": ","},
            "columns": {
                "material": "Id",
                "name": "Nom",
                "material_type": "Type",
                "unit": "Unite",
                "unit_cost": "Cout",
                "local_code": "Article",
            },
        },
        [
            {
                "Id": "BOT-750",
                "Nom": "Bouteille 75cl",
                "Type": "packaging",
                "Unite": "pcs",
                "Cout": "0,21",
                "Article": "ART-1",
            }
        ],
    )
    assert (sup.status, sup.inserted, mat.status, mat.inserted) == ("loaded", 1, "loaded", 1)
    with warehouse.connect() as conn:
        assert conn.execute(select(supplier.c.name).where(supplier.c.supplier_id == "S-LYS")).scalar_one() == "Verallia"
        assert (
            conn.execute(select(material.c.unit_cost).where(material.c.material_id == "BOT-750")).scalar_one() == 0.21
        )
        assert (
            conn.execute(
                select(plant_material.c.local_code).where(
                    plant_material.c.plant_id == NEW, plant_material.c.material_id == "BOT-750"
                )
            ).scalar_one()
            == "ART-1"
        )
    wrong = load(
        warehouse,
        {"plant": NEW, "source": "supplier", "columns": {"supplier": "Id", "name": "Nom", "country": "Pays"}},
        [{"Id": "S-X", "Nom": "X", "Pays": "France"}],
    )
    assert "row 2, country (column 'Pays'):" in wrong.error
