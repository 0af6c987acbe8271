"""The fixed facts the sample network is built from: plants, reasons, classes, materials.

Kept apart from the simulation so a reader can see (and a test can name) what each plant
is meant to look like: its time zone, data maturity, maintenance workflow, shift pattern,
language and naming convention. Random draws happen elsewhere, from seeded generators.
"""

REGIONS = {"NA": "North America", "EU": "Europe", "SEA": "Southeast Asia"}

# Shift patterns: (first working weekday .. last, Mon=0), local start hour, local end hour.
# 24 h patterns run midnight to midnight, so their DST days are 23 h or 25 h long.
SHIFTS = {
    "24x7": (range(0, 7), 0, 24),
    "3x6": (range(0, 6), 0, 24),
    "3x5": (range(0, 5), 0, 24),
    "2x6": (range(0, 6), 6, 22),
    "2x5": (range(0, 5), 6, 22),
}

# How each maintenance workflow behaves: hazard factor on the asset's failure rate, factor on
# repair time, PM interval in calendar days (None: no routine PM), which criticalities get
# PM, share of PMs skipped, routine inspections, the delay before a work order is closed in
# the system (hours), and the work-order numbering of the CMMS (or paper) behind it.
WORKFLOWS = {
    "sap_pm": dict(hazard=0.75, repair=0.9, pm_days=28, pm_for="ABC", pm_skip=0.02, inspect=True,
                   close_lag_h=2, wo_style="sap"),
    "maximo": dict(hazard=0.85, repair=1.0, pm_days=35, pm_for="ABC", pm_skip=0.04, inspect=True,
                   close_lag_h=4, wo_style="maximo"),
    "fiix": dict(hazard=0.95, repair=1.0, pm_days=42, pm_for="AB", pm_skip=0.06, inspect=True,
                 close_lag_h=6, wo_style="fiix"),
    "excel_tracker": dict(hazard=1.15, repair=1.15, pm_days=60, pm_for="AB", pm_skip=0.12, inspect=False,
                          close_lag_h=24, wo_style="excel"),
    "paper_forms": dict(hazard=1.3, repair=1.3, pm_days=90, pm_for="A", pm_skip=0.2, inspect=False,
                        close_lag_h=72, wo_style="paper"),
    "run_to_failure": dict(hazard=1.8, repair=1.4, pm_days=None, pm_for="", pm_skip=0.0, inspect=False,
                           close_lag_h=12, wo_style="breakdown"),
}

# How a plant's data maturity shows in its operations: stop frequency factor, typical
# performance and quality, and the spread (hours) of order completion around plan.
MATURITY = {
    "iot": dict(stops=0.9, perf=0.88, qual=0.985, order_noise_h=1.5),
    "mes": dict(stops=1.0, perf=0.86, qual=0.978, order_noise_h=2.5),
    "spreadsheet": dict(stops=1.3, perf=0.83, qual=0.970, order_noise_h=5.0),
}

# The 12 template plants. Ordered so that any prefix mixes maturities and regions (a 4-plant
# network has iot, mes and spreadsheet plants and the plant with a current feed outage).
# `outage` names the feeds that are currently down at that plant.
PLANTS = [
    dict(code="NA-JOL", name="Joliet", region="NA", country="US", tz="America/Chicago", lat=41.525, lon=-88.082,
         currency="USD", maturity="iot", workflow="sap_pm", shift="24x7", lang="en", naming="pkg",
         family="beverage", outage=()),
    dict(code="EU-ZAR", name="Zaragoza", region="EU", country="ES", tz="Europe/Madrid", lat=41.649, lon=-0.889,
         currency="EUR", maturity="mes", workflow="maximo", shift="3x5", lang="es_ES", naming="dotted",
         family="food", outage=("production", "downtime")),
    dict(code="SEA-CKR", name="Cikarang", region="SEA", country="ID", tz="Asia/Jakarta", lat=-6.307, lon=107.172,
         currency="IDR", maturity="spreadsheet", workflow="run_to_failure", shift="3x6", lang="id", naming="slash",
         family="home_care", outage=()),
    dict(code="NA-ATL", name="Atlanta", region="NA", country="US", tz="America/New_York", lat=33.749, lon=-84.388,
         currency="USD", maturity="mes", workflow="maximo", shift="3x5", lang="en_abbr", naming="numeric",
         family="snacks", outage=()),
    dict(code="EU-BER", name="Berlin", region="EU", country="DE", tz="Europe/Berlin", lat=52.520, lon=13.405,
         currency="EUR", maturity="iot", workflow="sap_pm", shift="24x7", lang="de", naming="techid",
         family="beverage", outage=()),
    dict(code="EU-POZ", name="Poznań", region="EU", country="PL", tz="Europe/Warsaw", lat=52.406, lon=16.925,
         currency="PLN", maturity="spreadsheet", workflow="excel_tracker", shift="2x5", lang="pl", naming="excel",
         family="food", outage=()),
    dict(code="SEA-RYG", name="Rayong", region="SEA", country="TH", tz="Asia/Bangkok", lat=12.681, lon=101.281,
         currency="THB", maturity="mes", workflow="fiix", shift="24x7", lang="th", naming="compact",
         family="snacks", outage=()),
    dict(code="NA-MIS", name="Mississauga", region="NA", country="CA", tz="America/Toronto", lat=43.589, lon=-79.644,
         currency="CAD", maturity="spreadsheet", workflow="excel_tracker", shift="2x5", lang="en", naming="excel",
         family="food", outage=()),
    dict(code="NA-MTY", name="Monterrey", region="NA", country="MX", tz="America/Monterrey", lat=25.686, lon=-100.316,
         currency="MXN", maturity="mes", workflow="fiix", shift="3x6", lang="es_MX", naming="slash",
         family="beverage", outage=()),
    dict(code="SEA-PEN", name="Penang", region="SEA", country="MY", tz="Asia/Kuala_Lumpur", lat=5.297, lon=100.266,
         currency="MYR", maturity="iot", workflow="maximo", shift="3x6", lang="en_abbr", naming="maximo",
         family="personal_care", outage=("health",)),
    dict(code="SEA-BDU", name="Binh Duong", region="SEA", country="VN", tz="Asia/Ho_Chi_Minh", lat=11.166, lon=106.652,
         currency="VND", maturity="spreadsheet", workflow="paper_forms", shift="2x6", lang="vi", naming="free_vi",
         family="personal_care", outage=()),
    dict(code="EU-LYO", name="Lyon", region="EU", country="FR", tz="Europe/Paris", lat=45.764, lon=4.836,
         currency="EUR", maturity="mes", workflow="sap_pm", shift="3x5", lang="fr", naming="techid",
         family="home_care", outage=()),
]

# Christmas shutdown of European plants that do not run around the clock: (first day, days).
EU_SHUTDOWN = ((12, 24), 9)

LINE_TYPES_BY_FAMILY = {
    "beverage": ["packaging", "filling", "filling", "processing", "packaging"],
    "food": ["packaging", "processing", "filling", "processing", "packaging"],
    "home_care": ["packaging", "filling", "processing", "filling", "packaging"],
    "snacks": ["packaging", "processing", "packaging", "assembly", "processing"],
    "personal_care": ["packaging", "filling", "assembly", "filling", "processing"],
}

# Equipment of a line in flow order; a line of n assets takes the first n. The bottleneck
# (index) is where changeovers and cleaning are booked.
LINE_ASSETS = {
    "packaging": (["conveyor", "sealer", "labeler", "wrapper", "palletizer", "conveyor", "motor"], 1),
    "filling": (["conveyor", "filler", "capper", "labeler", "conveyor", "pump", "compressor"], 1),
    "processing": (["mixer", "pump", "motor", "conveyor", "compressor", "mixer", "pump"], 0),
    "assembly": (["conveyor", "robot", "motor", "sealer", "labeler", "compressor", "conveyor"], 1),
}

# Seconds per unit at rated speed, by line type (range drawn per line).
IDEAL_CYCLE_S = {"packaging": (1.2, 3.0), "filling": (0.8, 2.0), "processing": (2.5, 6.0), "assembly": (15.0, 40.0)}

# Changeovers, starvation and quality stops per 24 busy hours, by line type.
STOP_RATES = {
    "packaging": dict(changeover=1.4, starved=0.45, quality=0.15),
    "filling": dict(changeover=1.0, starved=0.35, quality=0.2),
    "processing": dict(changeover=0.5, starved=0.3, quality=0.12),
    "assembly": dict(changeover=0.8, starved=0.4, quality=0.1),
}
CLEANING_LINES = ("filling", "processing")

# Per asset class: Weibull scale of time between failures (operating days), Weibull shape,
# vibration baseline (mm/s RMS), temperature baseline (deg C), nominal current (A),
# default criticality, and the abbreviation local codes use.
ASSET_CLASSES = {
    "conveyor": dict(mtbf=90, shape=1.6, vib=2.2, temp=38, amps=6, crit="B", abbr="CNV"),
    "sealer": dict(mtbf=50, shape=2.2, vib=2.8, temp=55, amps=14, crit="A", abbr="SEA"),
    "labeler": dict(mtbf=60, shape=1.8, vib=2.0, temp=40, amps=5, crit="B", abbr="LBL"),
    "wrapper": dict(mtbf=70, shape=1.8, vib=2.4, temp=42, amps=8, crit="B", abbr="WRP"),
    "palletizer": dict(mtbf=80, shape=1.7, vib=2.6, temp=44, amps=16, crit="B", abbr="PAL"),
    "motor": dict(mtbf=120, shape=2.5, vib=1.8, temp=58, amps=12, crit="C", abbr="MOT"),
    "filler": dict(mtbf=45, shape=2.3, vib=3.0, temp=45, amps=18, crit="A", abbr="FIL"),
    "capper": dict(mtbf=50, shape=2.1, vib=2.7, temp=43, amps=9, crit="A", abbr="CAP"),
    "pump": dict(mtbf=95, shape=2.0, vib=2.5, temp=50, amps=20, crit="C", abbr="PMP"),
    "compressor": dict(mtbf=110, shape=2.4, vib=3.2, temp=65, amps=40, crit="C", abbr="CMP"),
    "mixer": dict(mtbf=70, shape=2.2, vib=2.9, temp=52, amps=25, crit="A", abbr="MIX"),
    "robot": dict(mtbf=115, shape=1.9, vib=1.5, temp=41, amps=10, crit="A", abbr="ROB"),
}

CLASS_NAMES = {
    "en": dict(conveyor="Conveyor", sealer="Sealer", labeler="Labeler", wrapper="Wrapper", palletizer="Palletizer",
               motor="Motor", filler="Filler", capper="Capper", pump="Pump", compressor="Compressor", mixer="Mixer",
               robot="Robot"),
    "de": dict(conveyor="Förderband", sealer="Siegler", labeler="Etikettierer", wrapper="Wickler",
               palletizer="Palettierer", motor="Antrieb", filler="Füller", capper="Verschließer", pump="Pumpe",
               compressor="Kompressor", mixer="Mischer", robot="Roboter"),
    "es": dict(conveyor="Transportador", sealer="Selladora", labeler="Etiquetadora", wrapper="Envolvedora",
               palletizer="Paletizadora", motor="Motor", filler="Llenadora", capper="Taponadora", pump="Bomba",
               compressor="Compresor", mixer="Mezcladora", robot="Robot"),
    "fr": dict(conveyor="Convoyeur", sealer="Scelleuse", labeler="Étiqueteuse", wrapper="Banderoleuse",
               palletizer="Palettiseur", motor="Moteur", filler="Remplisseuse", capper="Boucheuse", pump="Pompe",
               compressor="Compresseur", mixer="Mélangeur", robot="Robot"),
    "pl": dict(conveyor="Przenośnik", sealer="Zgrzewarka", labeler="Etykieciarka", wrapper="Owijarka",
               palletizer="Paletyzator", motor="Silnik", filler="Nalewarka", capper="Zakręcarka", pump="Pompa",
               compressor="Sprężarka", mixer="Mieszalnik", robot="Robot"),
    "vi": dict(conveyor="Băng tải", sealer="Máy hàn", labeler="Máy dán nhãn", wrapper="Máy quấn màng",
               palletizer="Máy xếp pallet", motor="Động cơ", filler="Máy chiết rót", capper="Máy đóng nắp",
               pump="Bơm", compressor="Máy nén khí", mixer="Máy trộn", robot="Robot"),
    "id": dict(conveyor="Konveyor", sealer="Mesin segel", labeler="Mesin label", wrapper="Mesin wrapping",
               palletizer="Paletizer", motor="Motor", filler="Mesin pengisi", capper="Mesin tutup", pump="Pompa",
               compressor="Kompresor", mixer="Mixer", robot="Robot"),
}
LANG_FAMILY = {"en": "en", "en_abbr": "en", "th": "en", "de": "de", "es_ES": "es", "es_MX": "es", "fr": "fr",
               "pl": "pl", "vi": "vi", "id": "id"}
LINE_WORD = {"en": "Line", "de": "Linie", "es": "Línea", "fr": "Ligne", "pl": "Linia", "vi": "Chuyền", "id": "Lini"}

# The canonical downtime reasons: code -> (category, description). Only `failure` counts as
# a failure (MTBF, MTTR, unplanned downtime).
REASONS = {
    "MECH_FAIL": ("failure", "Mechanical failure"),
    "ELEC_FAIL": ("failure", "Electrical failure"),
    "PNEU_FAIL": ("failure", "Pneumatic or hydraulic failure"),
    "CTRL_FAIL": ("failure", "Control system or sensor fault"),
    "PM": ("planned", "Preventive maintenance"),
    "CLEAN": ("planned", "Cleaning and sanitation"),
    "CO_PRODUCT": ("changeover", "Product changeover"),
    "CO_FORMAT": ("changeover", "Format or size changeover"),
    "NO_MATERIAL": ("starved", "Material not available"),
    "NO_OPERATOR": ("starved", "No operator available"),
    "UPSTREAM": ("starved", "Starved by upstream process"),
    "QA_HOLD": ("quality", "Quality hold"),
    "QA_ADJUST": ("quality", "Quality adjustment or rework"),
}
FAILURE_MIX = {"MECH_FAIL": 0.45, "ELEC_FAIL": 0.25, "PNEU_FAIL": 0.15, "CTRL_FAIL": 0.15}

# Local reason texts as each plant's people write them; several per code where plants keep
# finer local catalogs than the canonical one.
LOCAL_REASONS = {
    "en": dict(MECH_FAIL=["Mechanical breakdown", "Bearing failure", "Chain broke"],
               ELEC_FAIL=["Electrical fault", "Motor tripped"], PNEU_FAIL=["Air leak", "Hydraulic leak"],
               CTRL_FAIL=["PLC fault", "Sensor fault"], PM=["Scheduled PM"], CLEAN=["Sanitation"],
               CO_PRODUCT=["Product changeover"], CO_FORMAT=["Size change"],
               NO_MATERIAL=["Waiting on material"], NO_OPERATOR=["No operator"], UPSTREAM=["Starved upstream"],
               QA_HOLD=["QA hold"], QA_ADJUST=["Quality adjustment"]),
    "en_abbr": dict(MECH_FAIL=["mech brkdwn", "brg fail"], ELEC_FAIL=["elec flt", "mtr trip"],
                    PNEU_FAIL=["air lk"], CTRL_FAIL=["plc flt", "snsr flt"], PM=["PM sched"], CLEAN=["CIP"],
                    CO_PRODUCT=["c/o prod"], CO_FORMAT=["c/o size"], NO_MATERIAL=["no mat'l"],
                    NO_OPERATOR=["no opr"], UPSTREAM=["starved"], QA_HOLD=["QA hold"], QA_ADJUST=["qual adj"]),
    "de": dict(MECH_FAIL=["Mechanischer Defekt", "Lagerschaden", "Kette gerissen"],
               ELEC_FAIL=["Motorschaden", "Elektrische Störung"],
               PNEU_FAIL=["Druckluftleckage", "Hydraulikleck"], CTRL_FAIL=["SPS-Störung", "Sensorfehler"],
               PM=["Wartung (geplant)"], CLEAN=["Reinigung"], CO_PRODUCT=["Sortenwechsel"],
               CO_FORMAT=["Formatwechsel"], NO_MATERIAL=["Materialmangel"], NO_OPERATOR=["Kein Personal"],
               UPSTREAM=["Vorprozess fehlt"], QA_HOLD=["QS-Sperre"], QA_ADJUST=["Qualitätsnachregelung"]),
    "es_ES": dict(MECH_FAIL=["Avería mecánica", "Rodamiento roto"], ELEC_FAIL=["Avería eléctrica"],
                  PNEU_FAIL=["Fuga neumática"], CTRL_FAIL=["Fallo de autómata"],
                  PM=["Mantenimiento preventivo"], CLEAN=["Limpieza"], CO_PRODUCT=["Cambio de producto"],
                  CO_FORMAT=["Cambio de formato"], NO_MATERIAL=["Falta de material"],
                  NO_OPERATOR=["Falta de personal"], UPSTREAM=["Espera proceso anterior"],
                  QA_HOLD=["Bloqueo calidad"], QA_ADJUST=["Ajuste de calidad"]),
    "es_MX": dict(MECH_FAIL=["Falla mecánica", "Falla de balero"], ELEC_FAIL=["Falla eléctrica"],
                  PNEU_FAIL=["Fuga de aire"], CTRL_FAIL=["Falla PLC"], PM=["Mantto. preventivo"],
                  CLEAN=["Sanitización"], CO_PRODUCT=["Cambio de producto"],
                  CO_FORMAT=["Cambio de presentación"], NO_MATERIAL=["Falta de material"],
                  NO_OPERATOR=["Falta de operador"], UPSTREAM=["Sin producto de proceso anterior"],
                  QA_HOLD=["Retención calidad"], QA_ADJUST=["Ajuste calidad"]),
    "fr": dict(MECH_FAIL=["Panne mécanique", "Casse roulement"], ELEC_FAIL=["Panne électrique"],
               PNEU_FAIL=["Fuite pneumatique"], CTRL_FAIL=["Défaut automate"], PM=["Maintenance préventive"],
               CLEAN=["Nettoyage NEP"], CO_PRODUCT=["Changement de produit"],
               CO_FORMAT=["Changement de format"], NO_MATERIAL=["Manque matière"],
               NO_OPERATOR=["Manque personnel"], UPSTREAM=["Manque amont"], QA_HOLD=["Blocage qualité"],
               QA_ADJUST=["Réglage qualité"]),
    "pl": dict(MECH_FAIL=["Awaria mechaniczna", "Uszkodzenie łożyska"], ELEC_FAIL=["Awaria elektryczna"],
               PNEU_FAIL=["Wyciek powietrza"], CTRL_FAIL=["Błąd sterownika"], PM=["Przegląd planowy"],
               CLEAN=["Mycie"], CO_PRODUCT=["Przezbrojenie"], CO_FORMAT=["Zmiana formatu"],
               NO_MATERIAL=["Brak materiału"], NO_OPERATOR=["Brak operatora"],
               UPSTREAM=["Brak z poprzedniego etapu"], QA_HOLD=["Blokada jakościowa"],
               QA_ADJUST=["Korekta jakości"]),
    "th": dict(MECH_FAIL=["เครื่องจักรเสีย", "mech BD"], ELEC_FAIL=["ไฟฟ้าขัดข้อง"], PNEU_FAIL=["ลมรั่ว"],
               CTRL_FAIL=["PLC ขัดข้อง"], PM=["PM ตามแผน"], CLEAN=["ล้างเครื่อง"],
               CO_PRODUCT=["เปลี่ยนผลิตภัณฑ์"], CO_FORMAT=["เปลี่ยนขนาด"], NO_MATERIAL=["รอวัตถุดิบ"],
               NO_OPERATOR=["ขาดพนักงาน"], UPSTREAM=["รองานจากขั้นตอนก่อน"], QA_HOLD=["QC กักสินค้า"],
               QA_ADJUST=["ปรับคุณภาพ"]),
    "vi": dict(MECH_FAIL=["Hỏng cơ khí", "Hỏng vòng bi"], ELEC_FAIL=["Sự cố điện"], PNEU_FAIL=["Rò rỉ khí nén"],
               CTRL_FAIL=["Lỗi PLC"], PM=["Bảo trì định kỳ"], CLEAN=["Vệ sinh máy"],
               CO_PRODUCT=["Chuyển đổi sản phẩm"], CO_FORMAT=["Đổi quy cách"],
               NO_MATERIAL=["Thiếu nguyên liệu"], NO_OPERATOR=["Thiếu công nhân"],
               UPSTREAM=["Chờ công đoạn trước"], QA_HOLD=["Giữ hàng QC"], QA_ADJUST=["Điều chỉnh chất lượng"]),
    "id": dict(MECH_FAIL=["Kerusakan mesin", "Bearing rusak"], ELEC_FAIL=["Gangguan listrik"],
               PNEU_FAIL=["Bocor angin"], CTRL_FAIL=["Error PLC"], PM=["Perawatan rutin"],
               CLEAN=["Pembersihan"], CO_PRODUCT=["Ganti produk"], CO_FORMAT=["Ganti ukuran"],
               NO_MATERIAL=["Material kosong"], NO_OPERATOR=["Operator tidak ada"],
               UPSTREAM=["Menunggu proses sebelumnya"], QA_HOLD=["Tahan QC"],
               QA_ADJUST=["Penyesuaian kualitas"]),
}

# Suppliers: id -> (name, country, delivery profile). Profiles: share of deliveries late,
# mean days late when late, share a day early.
SUPPLIER_PROFILES = {
    "reliable": dict(p_late=0.03, late_days=1.5, p_early=0.08),
    "average": dict(p_late=0.18, late_days=2.5, p_early=0.05),
    "chronic": dict(p_late=0.55, late_days=6.0, p_early=0.02),
}
SUPPLIERS = {
    "SUP-01": ("Nordpack GmbH", "DE", "reliable"),
    "SUP-02": ("Polska Opakowania Sp. z o.o.", "PL", "average"),
    "SUP-03": ("Iberia Ingredientes S.A.", "ES", "average"),
    "SUP-04": ("Midwest Resin Co.", "US", "reliable"),
    "SUP-05": ("Great Lakes Corrugated Ltd.", "CA", "reliable"),
    "SUP-06": ("Empaques del Norte S.A. de C.V.", "MX", "chronic"),
    "SUP-07": ("Siam Polymer Co., Ltd.", "TH", "average"),
    "SUP-08": ("Saigon Packaging JSC", "VN", "chronic"),
    "SUP-09": ("PT Jaya Kimia Tbk", "ID", "chronic"),
    "SUP-10": ("Penang Precision Sdn Bhd", "MY", "reliable"),
    "SUP-11": ("Rheinland Antriebstechnik GmbH", "DE", "reliable"),
    "SUP-12": ("Lombardia Ricambi S.p.A.", "IT", "average"),
    "SUP-13": ("Shenzhen Motion Parts Co.", "CN", "chronic"),
    "SUP-14": ("Osaka Seal Industries K.K.", "JP", "reliable"),
    "SUP-15": ("Carolina Flavors Inc.", "US", "average"),
}
SUPPLIER_REGION = {"DE": "EU", "PL": "EU", "ES": "EU", "IT": "EU", "US": "NA", "CA": "NA", "MX": "NA",
                   "TH": "SEA", "VN": "SEA", "ID": "SEA", "MY": "SEA", "CN": "ASIA", "JP": "ASIA"}
SUPPLIERS_BY_TYPE = {
    "raw": ["SUP-03", "SUP-04", "SUP-07", "SUP-09", "SUP-15"],
    "packaging": ["SUP-01", "SUP-02", "SUP-05", "SUP-06", "SUP-08", "SUP-07"],
    "spare_part": ["SUP-10", "SUP-11", "SUP-12", "SUP-13", "SUP-14"],
}
BASE_LEAD_DAYS = {"raw": (5, 12), "packaging": (4, 10), "spare_part": (10, 28)}

# Finished goods: (name, units per pack, unit cost) by product family.
PRODUCTS = {
    "beverage": [("Sparkling water 12x0.5L", 12, 4.2), ("Orange juice 6x1L", 6, 7.9), ("Cola 24x0.33L can", 24, 9.6),
                 ("Iced tea 12x0.5L", 12, 5.1), ("Energy drink 24x0.25L can", 24, 14.4)],
    "food": [("Tomato sauce 12x400g", 12, 11.5), ("Pasta sauce 6x680g", 6, 10.2), ("Vegetable soup 12x500ml", 12, 13.0),
             ("Mayonnaise 12x430ml", 12, 16.8)],
    "home_care": [("Liquid detergent 4x2L", 4, 18.0), ("Dish soap 12x750ml", 12, 15.6),
                  ("Surface cleaner 12x1L", 12, 14.4), ("Fabric softener 4x2L", 4, 12.8)],
    "snacks": [("Potato chips 20x150g", 20, 19.0), ("Cereal bars 24ct", 24, 8.4), ("Crackers 12x200g", 12, 13.2),
               ("Roasted nuts 12x250g", 12, 27.0)],
    "personal_care": [("Shampoo 6x400ml", 6, 16.2), ("Shower gel 6x250ml", 6, 10.8), ("Hand soap 12x300ml", 12, 15.0),
                      ("Body lotion 6x400ml", 6, 21.0)],
}
# Inputs: (name, unit, unit cost, families that use it). Kilogram inputs are used per pack
# component; 'ea' packaging once per unit in the pack unless marked per_pack.
RAW = [
    ("Sugar", "kg", 0.9, ("beverage", "snacks")), ("Fruit concentrate", "kg", 3.4, ("beverage",)),
    ("CO2", "kg", 0.3, ("beverage",)), ("Tomato paste", "kg", 1.8, ("food",)),
    ("Vegetable oil", "kg", 1.6, ("food", "snacks")), ("Modified starch", "kg", 1.2, ("food",)),
    ("Surfactant blend", "kg", 2.2, ("home_care", "personal_care")),
    ("Fragrance oil", "kg", 24.0, ("home_care", "personal_care")), ("Glycerin", "kg", 1.4, ("personal_care",)),
    ("Potatoes", "kg", 0.4, ("snacks",)), ("Oat flakes", "kg", 1.1, ("snacks",)),
    ("Wheat flour", "kg", 0.6, ("snacks", "food")),
]
PACKAGING = [
    ("PET preform 28g", "ea", 0.05, ("beverage",), False),
    ("Closure 28mm", "ea", 0.02, ("beverage", "personal_care"), False),
    ("Aluminium can 330ml", "ea", 0.09, ("beverage",), False),
    ("Glass jar 400ml", "ea", 0.21, ("food",), False), ("Metal lid 70mm", "ea", 0.04, ("food",), False),
    ("Stand-up pouch", "ea", 0.07, ("food", "snacks"), False),
    ("HDPE bottle 1L", "ea", 0.16, ("home_care",), False),
    ("Trigger sprayer", "ea", 0.19, ("home_care",), False),
    ("PET bottle 400ml", "ea", 0.09, ("personal_care",), False),
    ("Pump dispenser", "ea", 0.14, ("personal_care",), False),
    ("Metallized film", "kg", 4.8, ("snacks",), False), ("Shrink film", "kg", 2.1, ("beverage", "food"), True),
    ("Corrugated case", "ea", 0.38, None, True), ("Stretch wrap", "kg", 2.6, None, True),
]
# Spare parts per asset class: (name, unit cost); the first is the wear part PM replaces.
SPARE_PARTS = {
    "conveyor": [("Conveyor belt 600mm", 420.0), ("Drive roller", 260.0)],
    "sealer": [("Sealing jaw set", 880.0), ("Heating element", 140.0)],
    "labeler": [("Glue roller", 190.0), ("Label sensor", 310.0)],
    "wrapper": [("Pre-stretch belt", 150.0), ("Film carriage roller", 230.0)],
    "palletizer": [("Gripper pad set", 340.0), ("Layer sensor", 290.0)],
    "motor": [("Bearing 6205-2RS", 18.0), ("Motor 5.5 kW", 1450.0)],
    "filler": [("Filling valve seal kit", 120.0), ("Level probe", 640.0)],
    "capper": [("Capping chuck", 210.0), ("Torque clutch", 780.0)],
    "pump": [("Mechanical seal", 360.0), ("Impeller", 520.0)],
    "compressor": [("Air filter element", 85.0), ("Valve plate kit", 690.0)],
    "mixer": [("Agitator shaft seal", 410.0), ("Gearbox", 2400.0)],
    "robot": [("Vacuum cup set", 95.0), ("Servo cable", 370.0)],
}

# Feeds every plant sends, and health where sensors exist. Cadence in hours: the warehouse
# loads daily; spreadsheet plants upload weekly, inventory after the weekly count.
FEED_CADENCE_H = {
    "iot": dict(production=24, downtime=24, inventory=24, purchase_orders=24, health=24),
    "mes": dict(production=24, downtime=24, inventory=24, purchase_orders=24),
    "spreadsheet": dict(production=168, downtime=168, inventory=192, purchase_orders=24),
}
