#!/usr/bin/env python3
"""Writes rules/lexicons/admin_divisions.txt, the gazetteer of administrative
divisions (GB/T 2260 province, prefecture and county codes with their names),
from the adcodes.csv that ships in the PyPI package cpca 0.5.5 (MIT).

    python3 tools/admin_divisions.py WHEEL_OR_CSV [OUT]

WHEEL_OR_CSV: cpca-0.5.5-py3-none-any.whl (`pip download --no-deps cpca==0.5.5`)
or the extracted cpca/resources/adcodes.csv. Placeholders of the standard that
name no place (市辖区, 县, 省直辖县级行政区划) are left out.
"""
import csv
import io
import sys
import zipfile

PLACEHOLDERS = {"市辖区", "县"}


def rows(path):
    if path.endswith(".whl"):
        with zipfile.ZipFile(path) as z:
            text = z.read("cpca/resources/adcodes.csv").decode("utf-8")
    else:
        text = open(path, encoding="utf-8").read()
    return csv.DictReader(io.StringIO(text))


def main():
    src = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "rules/lexicons/admin_divisions.txt"
    seen = set()
    for r in rows(src):
        code, name = r["adcode"][:6], r["name"].strip()
        if name in PLACEHOLDERS or "直辖" in name or not code.isdigit():
            continue
        seen.add((code, name))
    with open(out, "w", encoding="utf-8") as f:
        f.write("# Administrative divisions (GB/T 2260): `code name`, one a line, sorted by code.\n")
        f.write("# Provinces (code ends 0000), prefectures (ends 00) and counties.\n")
        f.write("# Source: adcodes.csv of the PyPI package cpca 0.5.5 (MIT, github.com/DQinYuan/\n")
        f.write("# chinese_province_city_area_mapper); regenerate with tools/admin_divisions.py.\n")
        for code, name in sorted(seen):
            f.write(f"{code} {name}\n")
    print(f"{len(seen)} divisions written to {out}")


if __name__ == "__main__":
    main()
