"""Synthetic data generators: determinism, exact sizes, layouts and the realism the loaders rely on."""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from segmart.cli import build_parser
from segmart.generate import BANK_PRODUCTS, generate_bank, generate_sales
from segmart.generate.names_ru import PATRONYMICS, SURNAMES, feminine_surname, is_feminine_patronymic
from segmart.generate.sales import CHUNK_ROWS, ONEC_HEADER, UCI2_HEADER, UCI_HEADER

ROWS = 6000


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(path: Path, encoding: str = "utf-8", delimiter: str = ",") -> list[list[str]]:
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.reader(f, delimiter=delimiter))


@pytest.fixture(scope="module")
def uci(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("uci") / "sales.csv"
    stats = generate_sales(path, fmt="uci", rows=ROWS, customers=150, days=365, seed=11)
    return path, stats


@pytest.fixture(scope="module")
def onec(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("onec") / "sales_1c.csv"
    stats = generate_sales(path, fmt="onec", rows=ROWS, customers=150, days=365, seed=11)
    return path, stats


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("bank")
    stats = generate_bank(out, clients=4000, usages=30000, seed=5)
    return out, stats


# ---------------------------------------------------------------- determinism


@pytest.mark.parametrize("fmt", ["uci", "uci2", "onec"])
def test_sales_same_seed_same_bytes_other_seed_differs(tmp_path: Path, fmt: str) -> None:
    args = {"fmt": fmt, "rows": 3000, "customers": 80, "days": 120}
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    generate_sales(a, seed=1, **args)
    generate_sales(b, seed=1, **args)
    generate_sales(c, seed=2, **args)
    assert _sha256(a) == _sha256(b)
    assert _sha256(a) != _sha256(c)


def test_bank_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    digests = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate_bank(tmp_path / name, clients=500, usages=3000, seed=seed)
        digests.append(tuple(_sha256(tmp_path / name / f) for f in ("clients.csv", "product_usage.csv")))
    assert digests[0] == digests[1]
    assert digests[0][0] != digests[2][0] and digests[0][1] != digests[2][1]


def test_gzip_output_is_reproducible_and_round_trips(tmp_path: Path) -> None:
    plain, packed, again = tmp_path / "s.csv", tmp_path / "s.csv.gz", tmp_path / "t.csv.gz"
    for path in (plain, packed, again):
        generate_sales(path, fmt="uci", rows=2000, customers=50, days=60, seed=9)
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    assert packed.read_bytes() == again.read_bytes()  # no timestamp or file name in the gzip header


# ---------------------------------------------------------------- UCI


def test_uci_layout_and_exact_row_count(uci: tuple[Path, dict]) -> None:
    path, stats = uci
    raw = path.read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    rows = _rows(path)
    assert ",".join(rows[0]) == UCI_HEADER
    assert raw.split(b"\n", 1)[0].decode() == UCI_HEADER
    assert len(rows) - 1 == ROWS == stats["rows"]
    assert all(len(r) == 8 for r in rows)
    for inv, code, _desc, qty, stamp, price, cust, country in rows[1:]:
        assert re.fullmatch(r"C?\d{6}", inv)
        assert re.fullmatch(r"\d{5}[A-Z]?|POST|DOT|M|C2", code)
        int(qty)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:00", stamp)
        assert re.fullmatch(r"\d+\.\d+", price) and float(price) > 0
        assert cust == "" or re.fullmatch(r"\d{5}", cust)
        assert country


def test_uci2_header(tmp_path: Path) -> None:
    path = tmp_path / "retail2.csv"
    generate_sales(path, fmt="uci2", rows=500, customers=20, days=30, seed=1)
    assert path.read_text().split("\n", 1)[0] == UCI2_HEADER
    assert len(_rows(path)) == 501


def test_uci_descriptions_with_commas_are_quoted(uci: tuple[Path, dict]) -> None:
    path, _ = uci
    rows = _rows(path)
    with_comma = [r for r in rows[1:] if "," in r[2]]
    assert with_comma, "some descriptions should contain commas"
    assert any(line.count('"') >= 2 for line in path.read_text().splitlines()[1:])


def test_uci_time_order_invoices_and_calendar(uci: tuple[Path, dict]) -> None:
    path, stats = uci
    rows = _rows(path)[1:]
    stamps = [datetime.fromisoformat(r[4]) for r in rows]
    numbers = [int(r[0].lstrip("C")) for r in rows]
    assert stamps == sorted(stamps)
    assert numbers == sorted(numbers) and numbers[0] == 536365
    assert len(set(numbers)) == stats["invoices"]
    assert all(s.weekday() != 5 for s in stamps)  # no Saturday trading
    assert all(7 <= s.hour < 20 for s in stamps)
    first, last = date(2010, 12, 1), date(2010, 12, 1) + timedelta(days=365)
    assert all(first <= s.date() < last for s in stamps)
    # the invoice keeps one customer/date per number
    per_invoice = {(r[0], r[4], r[6]) for r in rows}
    assert len(per_invoice) == stats["invoices"]


def test_uci_guests_cancellations_and_customers(uci: tuple[Path, dict]) -> None:
    path, stats = uci
    rows = _rows(path)[1:]
    guest_share = sum(r[6] == "" for r in rows) / len(rows)
    assert 0.15 <= guest_share <= 0.35
    cancels = [r for r in rows if r[0].startswith("C")]
    assert cancels and stats["cancellations"] > 0
    assert all(int(r[3]) < 0 and r[6] for r in cancels)
    assert all(int(r[3]) > 0 for r in rows if not r[0].startswith("C"))
    # a cancellation reverses something the same customer bought earlier
    bought: dict[str, set[str]] = {}
    for r in rows:
        if r[0].startswith("C"):
            assert r[1] in bought.get(r[6], set())
        elif r[6]:
            bought.setdefault(r[6], set()).add(r[1])
    # customer -> country is fixed; StockCode -> Description is fixed
    country = {}
    description = {}
    for r in rows:
        if r[6]:
            assert country.setdefault(r[6], r[7]) == r[7]
        assert description.setdefault(r[1], r[2]) == r[2]
    assert stats["customers"] == len(country)


def test_uci_realism_at_scale(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    generate_sales(path, fmt="uci", rows=60000, customers=500, days=365, seed=2)
    rows = _rows(path)[1:]
    countries = Counter(r[7] for r in rows)
    assert len(countries) >= 25
    assert 0.82 <= countries["United Kingdom"] / len(rows) <= 0.97
    invoices = Counter(r[0] for r in rows)
    assert 15 <= len(rows) / len(invoices) <= 25
    cancel_docs = sum(1 for inv in invoices if inv.startswith("C"))
    assert 0.01 <= cancel_docs / len(invoices) <= 0.03
    orders = Counter(inv[1] for inv in {(r[0], r[6]) for r in rows if r[6] and not r[0].startswith("C")})
    counts = sorted(orders.values())
    assert counts[len(counts) // 2] <= 3 < counts[-1]  # typical customer: few orders; whales: many
    assert sum(c == 1 for c in counts) / len(counts) >= 0.2
    months = Counter(r[4][:7] for r in rows)
    assert months["2011-11"] > 1.5 * months["2011-02"]
    assert {"POST", "DOT", "M"} <= {r[1] for r in rows}
    prices = [float(r[5]) for r in rows if r[1][:1].isdigit()]
    assert 0.29 <= min(prices) and max(prices) <= 50


# ---------------------------------------------------------------- 1C


def test_onec_layout(onec: tuple[Path, dict]) -> None:
    path, stats = onec
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really cp1251, not UTF-8
    text = raw.decode("cp1251")
    assert text.split("\n", 1)[0] == ONEC_HEADER
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(rows) - 1 == ROWS == stats["rows"]
    assert all(len(r) == 13 for r in rows)
    stamp = re.compile(r"\d{2}\.\d{2}\.\d{4} \d{1,2}:\d{2}:\d{2}")
    for r in rows[1:]:
        assert stamp.fullmatch(r[0]) and stamp.fullmatch(r[2])
        assert re.fullmatch(r"РН-\d{6}", r[1]) and re.fullmatch(r"ЗК-\d{6}", r[3])
        assert re.fullmatch(r"\d+(,\d{1,3})?", r[9])
        assert re.fullmatch(r"\d+,\d{2}", r[10])
        assert r[6].isdigit() and r[4] and r[5] and r[7] and "," in r[11]
        assert r[12] in ("продажа", "возврат")
        sale = datetime.strptime(r[0], "%d.%m.%Y %H:%M:%S")
        order = datetime.strptime(r[2], "%d.%m.%Y %H:%M:%S")
        assert timedelta(0) <= sale - order <= timedelta(days=6)


def test_onec_content(onec: tuple[Path, dict]) -> None:
    path, _ = onec
    rows = _rows(path, "cp1251", ";")[1:]
    assert any("," in r[9] for r in rows), "weight goods have fractional quantities"
    assert any(";" in r[4] for r in rows) and any('"' in r[4] for r in rows)
    assert any(r[8] for r in rows) and any(not r[8] for r in rows)
    docs = Counter(r[1] for r in rows)
    assert max(docs.values()) > 1
    returns = [r for r in rows if r[12] == "возврат"]
    assert returns
    first_sale: dict[str, datetime] = {}
    for r in rows:
        when = datetime.strptime(r[0], "%d.%m.%Y %H:%M:%S")
        if r[12] == "продажа":
            first_sale.setdefault(r[4], when)
        else:
            assert r[4] in first_sale and first_sale[r[4]] <= when
    sale_docs = {r[1] for r in rows if r[12] == "продажа"}
    assert not sale_docs & {r[1] for r in returns}  # a return is its own document


def test_onec_comma_delimiter_quotes_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "comma.csv"
    generate_sales(path, fmt="onec", rows=800, customers=30, days=30, seed=4, delimiter=",", encoding="utf-8")
    rows = _rows(path)
    assert len(rows) == 801 and all(len(r) == 13 for r in rows)
    assert all(re.fullmatch(r"\d+,\d{2}", r[10]) for r in rows[1:])


# ---------------------------------------------------------------- bank


def test_bank_layout_and_counts(bank: tuple[Path, dict]) -> None:
    out, stats = bank
    clients = _rows(out / "clients.csv")
    usage = _rows(out / "product_usage.csv")
    assert clients[0] == ["client_id", "full_name", "income"]
    assert usage[0] == ["usage_id", "client_id", "product_name", "usage_date"]
    assert [int(r[0]) for r in clients[1:]] == list(range(1, 4001))
    assert [int(r[0]) for r in usage[1:]] == list(range(1, 30001))
    assert stats["clients"] == 4000 and stats["usages"] == 30000
    assert not (out / "clients.csv").read_bytes().count(b"\r")


def test_bank_incomes_and_names(bank: tuple[Path, dict]) -> None:
    out, _ = bank
    clients = _rows(out / "clients.csv")[1:]
    incomes = [int(r[2]) for r in clients]
    assert 30000 <= min(incomes) and max(incomes) <= 500000
    incomes.sort()
    assert incomes[len(incomes) // 2] < sum(incomes) / len(incomes)  # right-skewed
    masculine = re.compile(r"(ов|ев|ёв|ин|ын|ий|ой)$")
    feminine = 0
    for _, name, _ in clients:
        parts = name.split(" ")
        assert len(parts) == 3
        surname, _, patronymic = parts
        if is_feminine_patronymic(patronymic):
            feminine += 1
            assert not masculine.search(surname), name
        else:
            assert patronymic.endswith("ич"), name
            assert not re.search(r"(ова|ева|ёва|ина|ая)$", surname), name
    assert 0.4 < feminine / len(clients) < 0.7


def test_bank_products_and_usage(bank: tuple[Path, dict]) -> None:
    out, stats = bank
    usage = _rows(out / "product_usage.csv")[1:]
    names = [p.name for p in BANK_PRODUCTS]
    assert len(BANK_PRODUCTS) == 11 and len(set(names)) == 11
    assert {p.code for p in BANK_PRODUCTS} >= {"credit_card", "debit_card", "mortgage", "investment_account"}
    counts = Counter(r[2] for r in usage)
    assert set(counts) == set(names)
    ranked = [name for name, _ in counts.most_common()]
    assert ranked[0] == "Дебетовая карта" and ranked[1] == "Кредитная карта"
    assert counts["Дебетовая карта"] > 2 * counts["Кредитная карта"]
    assert counts["Ипотека"] < counts["Накопительный счёт"]
    orphans = [r for r in usage if int(r[1]) > 4000]
    assert 5 <= len(orphans) <= 100 and len(orphans) == stats["orphan_usages"]
    first, last = date(2023, 1, 1), date(2023, 1, 1) + timedelta(days=730)
    assert all(first <= date.fromisoformat(r[3]) < last for r in usage)
    used = {int(r[1]) for r in usage}
    without = sum(1 for cid in range(1, 4001) if cid not in used)
    assert without == stats["clients_without_usage"]
    assert 0.02 * 4000 <= without <= 0.12 * 4000


def test_bank_products_grow_with_income(bank: tuple[Path, dict]) -> None:
    out, _ = bank
    income = {int(r[0]): int(r[2]) for r in _rows(out / "clients.csv")[1:]}
    held: dict[int, set[str]] = {}
    for r in _rows(out / "product_usage.csv")[1:]:
        if int(r[1]) in income:
            held.setdefault(int(r[1]), set()).add(r[2])
    low = [len(held.get(c, ())) for c, inc in income.items() if inc < 45000]
    high = [len(held.get(c, ())) for c, inc in income.items() if inc > 150000]
    assert sum(high) / len(high) > sum(low) / len(low) + 0.5


def test_feminine_surnames() -> None:
    assert feminine_surname("Иванов") == "Иванова"
    assert feminine_surname("Ильин") == "Ильина"
    assert feminine_surname("Высоцкий") == "Высоцкая"
    assert feminine_surname("Толстой") == "Толстая"
    assert feminine_surname("Шевченко") == "Шевченко"
    assert all(feminine_surname(s) != s or s.endswith(("о", "ых", "их")) for s, _ in SURNAMES)
    assert all(is_feminine_patronymic(f) and not is_feminine_patronymic(m) for m, f, _ in PATRONYMICS)


# ---------------------------------------------------------------- CLI


def test_cli_generate_sales_and_bank(tmp_path: Path) -> None:
    parser = build_parser()
    sales = tmp_path / "cli.csv"
    args = parser.parse_args(
        ["generate", "sales", "--format", "onec", "--rows", "700", "--customers", "40", "--seed", "3", str(sales)]
    )
    assert args.func(args) == 0
    assert len(sales.read_bytes().decode("cp1251").splitlines()) == 701
    args = parser.parse_args(["generate", "bank", "--clients", "200", "--usages", "1500", str(tmp_path / "bank")])
    assert args.func(args) == 0
    assert len((tmp_path / "bank" / "product_usage.csv").read_text().splitlines()) == 1501
    with pytest.raises(SystemExit):
        parser.parse_args(["generate", "sales", "--format", "xml", str(sales)])


def test_sales_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    rows_wanted = CHUNK_ROWS + 7001
    stats = generate_sales(path, fmt="uci", rows=rows_wanted, customers=3000, days=400, seed=8)
    lines = path.read_text().splitlines()[1:]
    assert len(lines) == rows_wanted == stats["rows"]
    invoices = [line.split(",", 1)[0] for line in lines]
    runs = [inv for i, inv in enumerate(invoices) if i == 0 or inv != invoices[i - 1]]
    assert len(runs) == len(set(runs)) == stats["invoices"]  # every invoice is one contiguous block
    numbers = [int(inv.lstrip("C")) for inv in runs]
    assert numbers == list(range(536365, 536365 + len(numbers)))


def test_bank_across_blocks(tmp_path: Path) -> None:
    stats = generate_bank(tmp_path, clients=70000, usages=150000, seed=1)
    clients = (tmp_path / "clients.csv").read_text().splitlines()
    usage = (tmp_path / "product_usage.csv").read_text().splitlines()
    assert len(clients) == 70001 and len(usage) == 150001
    assert clients[-1].startswith("70000,")
    assert stats["orphan_usages"] == sum(int(line.split(",")[1]) > 70000 for line in usage[1:]) == 150


def test_zero_rows_writes_header_only(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    stats = generate_sales(path, fmt="uci", rows=0, customers=5, days=10, seed=1)
    assert path.read_text() == UCI_HEADER + "\n" and stats["rows"] == 0


def test_utf8_bom_is_written_once(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    generate_sales(path, fmt="uci", rows=200, customers=20, days=10, seed=4, encoding="utf-8-sig")
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    assert data.count(codecs.BOM_UTF8) == 1
    plain = tmp_path / "plain.csv"
    generate_sales(plain, fmt="uci", rows=200, customers=20, days=10, seed=4)
    assert data[len(codecs.BOM_UTF8) :] == plain.read_bytes()
