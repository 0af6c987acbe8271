"""Writes the bad-file corpus next to this script: python -m tests.ingest_corpus.make_corpus

The files are committed; this script documents how each was made (encodings, BOMs and a
huge field are easier to make than to type). manifest.yaml says what each must produce.
Plant A of tests/tiny_network.py: asset VP1-VS-01 (A-L1-CAP), time zone Europe/Berlin;
asset FILLER#1 belongs to plant B.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = "asset,start,end,reason\n"
GOOD = [
    "VP1-VS-01,2026-03-20 08:00,2026-03-20 09:00,Motorschaden\n",
    "VP1-VS-01,2026-03-20 10:00,2026-03-20 10:30,Wartung\n",
]


def write(name: str, data: bytes | str, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(data if isinstance(data, bytes) else data.encode(encoding))


def main() -> None:
    write("good.csv", HEADER + "".join(GOOD))
    write("wrong_delimiter.csv", HEADER + "".join(GOOD))  # read with a mapping that says ';'
    write(
        "wrong_encoding.csv",
        HEADER + "".join(GOOD) + "VP1-VS-01,2026-03-20 12:00,2026-03-20 12:20,Störung\n",
        encoding="cp1252",
    )
    write("bom.csv", "\ufeff" + HEADER + "".join(GOOD))
    write("utf16_bom_tabs.csv", (HEADER + "".join(GOOD)).replace(",", "\t"), encoding="utf-16")
    write("missing_columns.csv", "asset,start,reason\nVP1-VS-01,2026-03-20 08:00,Motorschaden\n")
    write(
        "extra_columns.csv",
        "asset,start,end,reason,shift,comment\n"
        "VP1-VS-01,2026-03-20 08:00,2026-03-20 09:00,Motorschaden,1,belt\n"
        "VP1-VS-01,2026-03-20 10:00,2026-03-20 10:30,Wartung,1,\n",
    )
    write(
        "impossible_dates.csv",
        HEADER
        + "".join(GOOD)
        + "VP1-VS-01,2026-02-30 08:00,2026-02-30 09:00,Motorschaden\n"
        + "VP1-VS-01,2026-13-01 08:00,2026-13-01 09:00,Motorschaden\n"
        + "VP1-VS-01,yesterday,2026-03-21 09:00,Motorschaden\n",
    )
    write("end_before_start.csv", HEADER + "".join(GOOD) + "VP1-VS-01,2026-03-21 09:00,2026-03-21 08:00,Motorschaden\n")
    write(
        "negative_durations.csv",
        "asset,start,minutes,reason\n"
        "VP1-VS-01,2026-03-20 08:00,60,Motorschaden\n"
        "VP1-VS-01,2026-03-20 10:00,30,Wartung\n"
        "VP1-VS-01,2026-03-21 10:00,-30,Wartung\n",
    )
    write(
        "text_in_numbers.csv",
        "asset,start,minutes,reason\n"
        "VP1-VS-01,2026-03-20 08:00,60,Motorschaden\n"
        'VP1-VS-01,2026-03-20 10:00,"30,5",Wartung\n'
        "VP1-VS-01,2026-03-21 10:00,about 30,Wartung\n",
    )
    write(
        "duplicates.csv",
        HEADER + "".join(GOOD) + GOOD[0] + "VP1-VS-01,2026-03-20 08:00,2026-03-20 09:45,Motorschaden\n",
    )
    write(
        "unknown_plant_or_asset.csv",
        "plant,asset,start,end,reason\n"
        "A,VP1-VS-01,2026-03-20 08:00,2026-03-20 09:00,Motorschaden\n"
        "A,VP1-VS-01,2026-03-20 10:00,2026-03-20 10:30,Wartung\n"
        "B,FILLER#1,2026-03-20 08:00,2026-03-20 09:00,Motorschaden\n"
        "A,B-L1-FIL,2026-03-20 11:00,2026-03-20 12:00,Motorschaden\n"
        "A,XX-99,2026-03-20 13:00,2026-03-20 14:00,Motorschaden\n"
        "Atlantis,VP1-VS-01,2026-03-20 15:00,2026-03-20 16:00,Motorschaden\n",
    )
    write(
        "unmapped_codes.csv",
        HEADER
        + "".join(GOOD)
        + "VP1-VS-01,2026-03-21 08:00,2026-03-21 09:00,Kette gerissen\n"
        + "VP1-VS-01,2026-03-21 10:00,2026-03-21 11:00,Kette gerissen\n",
    )
    write("empty.csv", b"")
    write("header_only.csv", HEADER)
    write(
        "huge_field.csv",
        HEADER + "".join(GOOD) + "VP1-VS-01,2026-03-21 08:00,2026-03-21 09:00," + "Motorschaden " * 20_000 + "\n",
    )
    write(
        "formula.csv",
        HEADER
        + "".join(GOOD)
        + 'VP1-VS-01,2026-03-21 08:00,2026-03-21 09:00,"=HYPERLINK(""http://x.example"",""Motorschaden"")"\n'
        + "VP1-VS-01,2026-03-21 10:00,2026-03-21 11:00,@SUM(A1:A9)\n"
        + "VP1-VS-01,2026-03-21 12:00,2026-03-21 13:00,+cmd|' /C calc'!A0\n",
    )
    write(
        "ragged_rows.csv",
        HEADER
        + "".join(GOOD)
        + "VP1-VS-01,2026-03-21 08:00,2026-03-21 09:00,Motorschaden,belt, torn\n"
        + "VP1-VS-01,2026-03-21 10:00\n",
    )
    write(
        "production_text_in_numbers.csv",
        "line;day;busy_h;run_h;cycle_s;made;good\n"
        "VP1;2026-03-20;8;6,5;2;9000;8100\n"
        "VP1;2026-03-21;8;sechs;2;9000;8100\n"
        "VP1;2026-03-22;8;9;2;9000;8100\n"
        "VP1;2026-03-23;8;6;2;9000;9100\n",
    )


if __name__ == "__main__":
    main()
