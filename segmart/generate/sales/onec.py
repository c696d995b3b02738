"""The 1C:ERP «Реализация» line export: Russian catalogue, buyers and contractors, and the writer."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import BinaryIO

import numpy as np

from segmart.generate import names_ru
from segmart.generate.sales.engine import (
    ONEC_HEADER,
    OPEN_HOUR,
    Array,
    Catalogue,
    Engine,
    FileSpec,
    Profile,
    customer_weights,
    seasonal_day_weights,
)
from segmart.generate.sales.output import ascii_pieces, assemble, encoded, quote
from segmart.generate.sampling import draw_cdf, pick, weighted_cdf, zipf_cdf

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- 1C


# "head|tail" so that the brand goes in between: Молоко «Зорька» 3,2% 1 л
_RU_PACKAGED = (
    "Молоко|3,2% 1 л", "Кефир|2,5% 900 г", "Масло сливочное|82,5% 180 г", "Сметана|20% 350 г", "Творог|9% 400 г",
    "Йогурт питьевой|клубника 270 г", "Сыр плавленый|200 г", "Кофе молотый|250 г", "Кофе растворимый|95 г",
    "Чай чёрный|100 пак.", "Чай зелёный|25 пак.", "Макароны спагетти|450 г", "Рис круглозёрный|900 г",
    "Гречка ядрица|800 г", "Мука пшеничная|2 кг", "Сахар-рафинад|500 г", "Масло подсолнечное|1 л",
    "Майонез|67% 400 г", "Кетчуп томатный|350 г", "Шоколад молочный|90 г", "Печенье овсяное|300 г",
    "Конфеты ассорти|200 г", "Сок яблочный|1 л", "Вода минеральная|1,5 л", "Тунец консервированный|185 г",
    "Горошек зелёный|400 г", "Хлопья овсяные|500 г", "Мёд цветочный|250 г", "Джем клубничный|320 г",
    "Соль поваренная|1 кг",
)  # fmt: skip
_RU_WEIGHT = (
    "Сахар-песок|весовой", "Картофель|", "Морковь|", "Лук репчатый|", "Яблоки|Гала", "Бананы|", "Апельсины|",
    "Огурцы|среднеплодные", "Томаты|сливовидные", "Сыр Российский|50%", "Колбаса Докторская|варёная",
    "Филе куриное|охлаждённое", "Свинина|шейка", "Говядина|лопатка", "Орехи грецкие|очищенные",
    "Печенье|весовое", "Минтай|с/м", "Креветки|в/м 70/90",
)  # fmt: skip
_RU_HOUSEHOLD = (
    "Средство для мытья посуды|500 мл", "Стиральный порошок|3 кг", "Гель для стирки|1,3 л",
    "Бумага туалетная|4 рул.", "Полотенца бумажные|2 рул.", "Мешки для мусора|60 л, 20 шт.",
    "Губки для посуды|5 шт.", "Мыло жидкое|500 мл", "Шампунь|400 мл", "Зубная паста|100 мл",
    "Освежитель воздуха|300 мл", "Салфетки влажные|100 шт.",
)  # fmt: skip
_RU_CLOTHES = (
    "Футболка мужская|хлопок", "Футболка женская|хлопок", "Джинсы мужские|прямые", "Джинсы женские|скинни",
    "Свитер вязаный|", "Куртка демисезонная|", "Толстовка|с капюшоном", "Платье летнее|", "Брюки спортивные|",
    "Рубашка офисная|", "Шапка вязаная|",
)  # fmt: skip
_RU_SHOES = ("Кроссовки беговые|", "Ботинки зимние|", "Туфли женские|", "Сандалии детские|")
_RU_TECH = (
    "Кабель USB-C|1 м", "Зарядное устройство|20 Вт", "Лампа светодиодная|E27 10 Вт", "Батарейки AA|4 шт.",
    "Удлинитель|3 розетки, 5 м", "Наушники беспроводные|", "Чайник электрический|1,7 л", "Утюг|2200 Вт",
    "Набор отвёрток|6 шт.", "Дрель-шуруповёрт|аккумуляторная", "Рулетка|5 м", "Перчатки рабочие|х/б",
)  # fmt: skip
_RU_BRANDS = (
    "Зорька", "Северная долина", "Зелёный луг", "Домовёнок", "Хозяюшка", "Лесная сказка", "Уют", "Золотой колос",
    "Волжские просторы", "Сибирский край", "Уральские мастера", "ТехноЛайн", "ЭнергоПлюс", "Мастерок", "Скиф",
    "Ладога", "Приокское", "Кубанский фермер", "Алтайские травы", "Белый медведь", "Семейный стол",
    "Вкусное утро", "Чистодом", "Светлячок", "Арктика", "Байкал", "Добрыня", "Бархат", "Калинка", "Северянка",
    "Первый выбор", "Городской", "Деревенское", "Лукоморье", "Тайга", "Солнечный", "Родные просторы",
)  # fmt: skip
# (bases, price median RUB, price sigma, kind) kind: 0 piece, 1 weight, 2 clothes, 3 shoes
_RU_GROUPS = (
    (_RU_PACKAGED, 130.0, 0.55, 0),
    (_RU_WEIGHT, 320.0, 0.7, 1),
    (_RU_HOUSEHOLD, 260.0, 0.5, 0),
    (_RU_CLOTHES, 1900.0, 0.5, 2),
    (_RU_SHOES, 3500.0, 0.45, 3),
    (_RU_TECH, 900.0, 1.0, 0),
)
_RU_CLOTHES_SIZES = ("44", "46", "48", "50", "52", "54", "56")
_RU_SHOE_SIZES = ("36", "37", "38", "39", "40", "41", "42", "43", "44", "45")
_RU_COLOURS = ("чёрный", "белый", "синий", "серый", "красный", "зелёный", "бежевый")
_RU_N_PRODUCTS = 1800

_RU_CITIES: tuple[tuple[str, str, int, float], ...] = (
    # city, postcode prefix, home site, weight
    ("г. Москва", "1", 1, 30.0),
    ("г. Санкт-Петербург", "19", 2, 12.0),
    ("г. Новосибирск", "630", 3, 4.0),
    ("г. Екатеринбург", "620", 4, 4.0),
    ("г. Казань", "420", 5, 3.5),
    ("г. Нижний Новгород", "603", 5, 3.0),
    ("г. Челябинск", "454", 4, 2.5),
    ("г. Самара", "443", 5, 2.5),
    ("г. Омск", "644", 3, 2.0),
    ("г. Ростов-на-Дону", "344", 6, 2.5),
    ("г. Уфа", "450", 4, 2.0),
    ("г. Красноярск", "660", 3, 2.0),
    ("г. Воронеж", "394", 6, 2.0),
    ("г. Пермь", "614", 4, 2.0),
    ("г. Волгоград", "400", 6, 1.8),
    ("г. Краснодар", "350", 6, 2.2),
    ("г. Тюмень", "625", 4, 1.5),
    ("г. Ярославль", "150", 1, 1.2),
    ("г. Тверь", "170", 1, 1.0),
    ("г. Калининград", "236", 2, 1.0),
    ("Московская обл., г. Химки", "141", 1, 2.0),
    ("Московская обл., г. Подольск", "142", 1, 1.5),
    ("Ленинградская обл., г. Всеволожск", "188", 2, 0.8),
)
_RU_STREETS = (
    "ул. Ленина", "ул. Советская", "ул. Мира", "ул. Садовая", "ул. Лесная", "ул. Школьная", "ул. Гагарина",
    "ул. Молодёжная", "ул. Центральная", "пр-т Победы", "ул. Пушкина", "ул. Кирова", "ул. Октябрьская",
    "ул. Заводская", "ул. Набережная", "пер. Почтовый", "ш. Энтузиастов", "ул. Строителей", "ул. Новая",
    "пр-т Ленинский", "ул. Маяковского", "б-р Гоголевский", "ул. Чкалова", "ул. Комсомольская",
)  # fmt: skip
_RU_COMPANY_ROOTS = (
    "Альфа", "Вектор", "Север", "Восток", "Гранит", "Меридиан", "Спектр", "Орион", "Стройинвест", "Техносфера",
    "Агроторг", "Промресурс", "Волга", "Урал", "Сибирь", "Балтика", "Лидер", "Прогресс", "Феникс", "Атлант",
    "Магистраль", "Импульс", "Континент", "Престиж", "Горизонт", "Кристалл", "Омега", "Парус", "Рассвет",
    "Стандарт", "Фортуна", "Эталон", "Янтарь", "Зенит", "Пульс", "Радуга", "Меркурий", "Ника", "Титан", "Вега",
    "Авангард", "Бастион", "Гефест", "Дельта", "Исток", "Каскад", "Лотос", "Монолит", "Новатор", "Оптима",
    "Полюс", "Ресурс", "Сфера", "Тандем", "Форвард", "Квант", "Элемент", "Азимут", "Вертикаль", "Гарант",
)  # fmt: skip
_RU_COMPANY_SUFFIX = (
    "", "-Трейд", "-Сервис", "-Снаб", "-М", "-Опт", " Плюс", "-Групп", "-Логистик", "-Строй", "-Юг", "-Центр",
    "-Пром", "-Маркет",
)  # fmt: skip
_RU_COMPANY_PREFIX = ("", "", "", "Гранд", "Евро", "Нео", "Мега", "Про", "Интер", "Техно")
_RU_BRANCH_CITIES = ("Казань", "Самара", "Тула", "Пермь", "Уфа", "Омск", "Тверь")
_RETAIL_BUYER = "Розничный покупатель"
_RETAIL_CONTRACTOR = "Частное лицо"
_RU_SITES = 6


def _onec_catalogue(rng: np.random.Generator, d: str) -> tuple[Catalogue, list[str], list[str], Array]:
    """Catalogue plus the quoted product name per product, the quoted feature texts and each product's
    offset into them."""
    entries: list[tuple[str, str, int, float, float]] = []
    for bases, median, sigma, kind in _RU_GROUPS:
        for base in bases:
            head, tail = base.split("|")
            entries.append((head, tail, kind, median, sigma))
    combos = rng.choice(len(entries) * len(_RU_BRANDS), size=_RU_N_PRODUCTS, replace=False)
    quote_style = rng.random(_RU_N_PRODUCTS)
    u_price = rng.normal(0.0, 1.0, _RU_N_PRODUCTS)
    u_pack = rng.random(_RU_N_PRODUCTS)
    names: list[str] = []
    kinds = np.empty(_RU_N_PRODUCTS, dtype=np.int64)
    cents = np.empty(_RU_N_PRODUCTS, dtype=np.int64)
    pack = np.empty(_RU_N_PRODUCTS, dtype=np.int64)
    for j, combo in enumerate(combos.tolist()):
        head, tail, kind, median, sigma = entries[combo // len(_RU_BRANDS)]
        brand = _RU_BRANDS[combo % len(_RU_BRANDS)]
        branded = f'"{brand}"' if quote_style[j] < 0.3 else f"«{brand}»"
        names.append(f"{head} {branded} {tail}".strip() + (", кг" if kind == 1 else ""))
        rub = float(np.clip(median * math.exp(sigma * u_price[j]), 19.0, 60000.0))
        kop = round(rub * 10) * 10
        if kop >= 10000 and quote_style[j] > 0.6:
            kop -= 1  # ...,99 price endings
        kinds[j] = kind
        cents[j] = kop
        options = (1, 2, 6, 10, 12, 20) if kind == 0 and rub < 400 else (1, 1, 2, 4)
        pack[j] = options[int(u_pack[j] * len(options))]
    clothes_features = [f"Размер {s}, {c}" for s in _RU_CLOTHES_SIZES for c in _RU_COLOURS]
    shoe_features = [f"{s}, {c}" for s in _RU_SHOE_SIZES for c in _RU_COLOURS[:5]]
    features = [quote(f, d) for f in clothes_features + shoe_features]
    n_features = np.where(kinds == 2, len(clothes_features), np.where(kinds == 3, len(shoe_features), 0))
    feat_offset = np.where(kinds == 3, len(clothes_features), 0).astype(np.int64)
    catalogue = Catalogue(
        cdf=zipf_cdf(rng, _RU_N_PRODUCTS, offset=20.0, exponent=0.9),
        price_cents=cents,
        pack=np.where(kinds == 1, 1, pack),
        weight_goods=kinds == 1,
        n_features=n_features.astype(np.int64),
    )
    return catalogue, [quote(n, d) for n in names], features, feat_offset


def _person_names(u: Array) -> list[tuple[str, str, str]]:
    """(surname, first name, patronymic) per row of ``u`` (4 uniforms), with gender agreement."""
    female = (u[:, 0] < 0.5).tolist()
    surname = draw_cdf(weighted_cdf(np.array([w for _, w in names_ru.SURNAMES])), u[:, 1]).tolist()
    male_first = draw_cdf(weighted_cdf(np.array([w for _, w in names_ru.MALE_FIRST_NAMES])), u[:, 2]).tolist()
    female_first = draw_cdf(weighted_cdf(np.array([w for _, w in names_ru.FEMALE_FIRST_NAMES])), u[:, 2]).tolist()
    patronymic = draw_cdf(weighted_cdf(np.array([w for _, _, w in names_ru.PATRONYMICS])), u[:, 3]).tolist()
    out = []
    for fem, s, m, f, p in zip(female, surname, male_first, female_first, patronymic, strict=True):
        masculine = names_ru.SURNAMES[s][0]
        if fem:
            out.append(
                (
                    names_ru.feminine_surname(masculine),
                    names_ru.FEMALE_FIRST_NAMES[f][0],
                    names_ru.PATRONYMICS[p][1],
                )
            )
        else:
            out.append((masculine, names_ru.MALE_FIRST_NAMES[m][0], names_ru.PATRONYMICS[p][0]))
    return out


@dataclass(frozen=True)
class _OnecCustomers:
    party: list[str]  # pre-quoted "buyer<d>contractor"
    address: list[str]  # pre-quoted address
    home_site: Array
    weight: Array
    scale: Array


def _onec_customers(rng: np.random.Generator, n: int, d: str) -> _OnecCustomers:
    kind = pick(rng, np.array([0.5, 0.2, 0.3]), n)  # company, sole trader, private person
    u = rng.random((n, 8))
    city = pick(rng, np.array([w for *_, w in _RU_CITIES]), n)
    people = _person_names(u[:, :4])
    rows = u.tolist()
    kinds = kind.tolist()
    cities = city.tolist()
    buyers: list[str] = []
    contractors: list[str] = []
    addresses: list[str] = []
    taken: dict[str, int] = {}
    for i in range(n):
        row = rows[i]
        k = kinds[i]
        if k == 0:
            root = _RU_COMPANY_ROOTS[int(row[1] * len(_RU_COMPANY_ROOTS))]
            suffix = _RU_COMPANY_SUFFIX[int(row[2] * len(_RU_COMPANY_SUFFIX))]
            prefix = _RU_COMPANY_PREFIX[int(row[0] * len(_RU_COMPANY_PREFIX))]
            brand = (f"{prefix}{root.lower()}" if prefix else root) + suffix
            form = "АО" if row[3] < 0.1 else "ООО"
            legal = f'{form} "{brand}"'
            if row[4] < 0.15:
                buyer = f'ТД "{brand}"'
            elif row[4] < 0.25:
                buyer = f"{brand}; филиал {_RU_BRANCH_CITIES[int(row[5] * len(_RU_BRANCH_CITIES))]}"
            else:
                buyer = brand
        else:
            surname, first, patronymic = people[i]
            if k == 1:
                buyer = f"ИП {surname} {first[0]}.{patronymic[0]}."
                legal = f"ИП {surname} {first} {patronymic}"
            else:
                buyer = legal = f"{surname} {first} {patronymic}"
        count = taken.get(buyer, 0) + 1
        taken[buyer] = count
        if count > 1:  # 1C keeps duplicate names apart the same way
            buyer = f"{buyer} ({count})"
            legal = f"{legal} ({count})"
        buyers.append(buyer)
        contractors.append(legal)
        town, postcode, _, _ = _RU_CITIES[cities[i]]
        index = postcode + str(int(row[6] * 10**6)).zfill(6)[: 6 - len(postcode)]
        street = _RU_STREETS[int(row[7] * len(_RU_STREETS))]
        house = 1 + int(row[5] * 120)
        tail = f", кв. {1 + int(row[2] * 200)}" if k == 2 else (f", оф. {1 + int(row[3] * 40)}" if k == 0 else "")
        addresses.append(f"{index}, {town}, {street}, д. {house}{tail}")
    boost = np.where(kind == 0, 3.0, np.where(kind == 1, 1.5, 0.6))
    weight, scale = customer_weights(rng, n, boost)
    return _OnecCustomers(
        party=[f"{quote(b, d)}{d}{quote(c, d)}" for b, c in zip(buyers, contractors, strict=True)],
        address=[quote(a, d) for a in addresses],
        home_site=np.array([_RU_CITIES[c][2] for c in city.tolist()], dtype=np.int64),
        weight=weight,
        scale=scale,
    )


def _onec_day_weights(rng: np.random.Generator, start: date, days: int) -> Array:
    def closed(d: date) -> float:
        if d.month == 1 and d.day <= 8:  # New Year holidays
            return 0.15
        if d.month == 12 and d.day >= 15:  # pre-New Year rush
            return 1.6
        return 1.0

    return seasonal_day_weights(rng, start, days, (1.0, 1.05, 1.05, 1.1, 1.15, 0.6, 0.3), closed)


def _quantity_text(milli: Array) -> list[str]:
    """Thousandths of a unit as the shortest decimal-comma text: 3, 1,5, 0,75."""
    whole = (milli // 1000).tolist()
    frac = (milli % 1000).tolist()
    return [str(w) if f == 0 else f"{w},{f:03d}".rstrip("0") for w, f in zip(whole, frac, strict=True)]


def write_onec(out: BinaryIO, rng: np.random.Generator, spec: FileSpec) -> tuple[int, int, int, int]:
    rows, customers, days, start, encoding, d = spec
    catalogue, product_text, feature_text, feat_offset = _onec_catalogue(rng, d)
    cust = _onec_customers(rng, customers, d)
    profile = Profile(
        guest_share=0.08,
        day_weights=_onec_day_weights(rng, start, days),
        hour_weights=np.array([0.2, 0.7, 1.2, 1.6, 1.7, 1.5, 1.6, 1.7, 1.6, 1.3, 1.0, 0.6, 0.3]),
        whole_minutes=False,
    )
    engine = Engine(
        rng, rows=rows, profile=profile, catalogue=catalogue, cust_weight=cust.weight, cust_scale=cust.scale
    )
    back = 8  # order dates may precede the first sale date
    day_text = [(start + timedelta(days=i - back)).strftime("%d.%m.%Y") for i in range(days + back)]
    minsec_text = [f"{s // 60:02d}:{s % 60:02d}" for s in range(3600)]
    retail_party = f"{quote(_RETAIL_BUYER, d)}{d}{quote(_RETAIL_CONTRACTOR, d)}"
    site_address = [
        quote(f"{_RU_CITIES[i][1].ljust(6, '0')}, {_RU_CITIES[i][0]}, {_RU_STREETS[i]}, д. {10 + i}", d)
        for i in range(_RU_SITES)
    ]
    # with a comma delimiter the decimal-comma numbers must be quoted
    nq = '"' if d == "," else ""
    product_b = encoded([f"{t}{d}" for t in product_text], encoding)
    feature_b = encoded([f"{t}{d}" for t in [*feature_text, ""]], encoding)
    cents_b = encoded([f",{c:02d}{nq}{d}" for c in range(100)], encoding)
    no_feature = len(feature_text)
    order_no = 0
    written = n_inv = n_cancel = 0
    out.write((ONEC_HEADER.replace(";", d) + "\n").encode(encoding))
    for chunk in engine.chunks():
        n = len(chunk.sizes)
        lag = np.minimum(np.where(rng.random(n) < 0.6, 0, rng.geometric(0.5, n)), 5)
        u_order = rng.random(n)
        order_sec = np.where(
            lag == 0,
            OPEN_HOUR * 3600 + (u_order * (chunk.sec - OPEN_HOUR * 3600)).astype(np.int64),
            (8 + u_order * 12) * 3600,
        ).astype(np.int64)
        order_step = 1 + np.where(rng.random(n) < 0.08, rng.geometric(0.5, n), 0)
        orders = order_no + np.cumsum(order_step)
        order_no = int(orders[-1])
        at_home = (rng.random(n) < 0.85) & (chunk.cust >= 0)
        site = np.where(at_home, cust.home_site[np.maximum(chunk.cust, 0)], rng.integers(1, _RU_SITES + 1, n))
        heads = []
        tails = []
        for dd, ss, doc, on, lg, osec, c, st, cancel in zip(
            chunk.day.tolist(),
            chunk.sec.tolist(),
            chunk.doc_no.tolist(),
            orders.tolist(),
            lag.tolist(),
            order_sec.tolist(),
            chunk.cust.tolist(),
            site.tolist(),
            chunk.cancel.tolist(),
            strict=True,
        ):
            party = cust.party[c] if c >= 0 else retail_party
            address = cust.address[c] if c >= 0 else site_address[st - 1]
            heads.append(
                f"{day_text[dd + back]} {ss // 3600}:{minsec_text[ss % 3600]}{d}РН-{doc + 1:06d}{d}"
                f"{day_text[dd + back - lg]} {osec // 3600}:{minsec_text[osec % 3600]}{d}ЗК-{on:06d}{d}"
                f"{party}{d}{st}{d}"
            )
            tails.append(f"{address}{d}{'возврат' if cancel else 'продажа'}\n")
        li = chunk.line_inv
        feat_idx = np.where(catalogue.n_features[chunk.prod] > 0, feat_offset[chunk.prod] + chunk.feat, no_feature)
        qty_values, qty_index = np.unique(chunk.qty, return_inverse=True)
        qty_b = encoded([f"{nq}{q}{nq}{d}" for q in _quantity_text(qty_values)], encoding)[qty_index]
        total = (chunk.qty * chunk.price + 500) // 1000
        whole_b = ascii_pieces([f"{nq}{w}" for w in (total // 100).tolist()])
        out.write(
            assemble(
                [
                    encoded(heads, encoding)[li],
                    product_b[chunk.prod],
                    feature_b[feat_idx],
                    qty_b,
                    whole_b,
                    cents_b[total % 100],
                    encoded(tails, encoding)[li],
                ]
            )
        )
        written += len(li)
        n_inv += n
        n_cancel += int(chunk.cancel.sum())
    return written, n_inv, int(engine.seen.sum()), n_cancel
