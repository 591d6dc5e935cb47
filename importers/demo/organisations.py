"""Who works on Kyiv's appeals in the demo, and which appeals go to whom.

The organisations are real (the demo uses their public names as its executors); their
structure below the district administrations — how many housing offices, which streets
each serves — is generated. Routing follows Kyiv 1551's practice as far as the published
data shows it: housing questions go to the housing office (ЖЕД) of the building's territory,
city networks to the city utility that runs them, anything else in a district to its
district administration, and what has no place on the map to the contact centre.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CODE_PREFIX = "demo-"  # executors' codes; a city's own executors never start with it
RULE_NOTE_PREFIX = "[demo] "  # routing rules the demo made (the table has no `generated`)


@dataclass(frozen=True)
class Org:
    key: str
    name: str
    short_name: str
    kind: str
    phone: str | None = None
    email: str | None = None


_KMDA = "виконавчого органу Київської міської ради (Київської міської державної адміністрації)"
CONTACT_CENTRE = Org(
    "kbu-1551", 'КБУ "Контактний центр міста Києва"', "КЦ 1551", "contact_centre", "1551"
)
CITY_ORGS = (
    Org("vodokanal", 'ПАТ "Київводоканал"', "Київводоканал", "utility"),
    Org("teploenergo", 'КП "Київтеплоенерго"', "Київтеплоенерго", "utility"),
    Org("lifts", 'КП "Київжитлоспецексплуатація"', "Київжитлоспецексплуатація", "utility"),
    Org("avtodor", 'КК "Київавтодор"', "Київавтодор", "utility"),
    Org("svitlo", 'КП "Київміськсвітло"', "Київміськсвітло", "utility"),
    Org("zelenbud", 'КО "Київзеленбуд"', "Київзеленбуд", "utility"),
    Org("reklama", 'КП "Київреклама"', "Київреклама", "utility"),
    Org("blagoustrii", 'КП "Київблагоустрій"', "Київблагоустрій", "utility"),
    Org("electro", 'ПрАТ "ДТЕК Київські електромережі"', "ДТЕК Київські електромережі", "utility"),
    Org("gas", 'АТ "Київгаз"', "Київгаз", "utility"),
    Org("pastrans", 'КП "Київпастранс"', "Київпастранс", "utility"),
    Org("komunservis", 'КП "Київкомунсервіс"', "Київкомунсервіс", "utility"),
    Org("trade", f"Департамент промисловості та розвитку підприємництва {_KMDA}",
        "Департамент промисловості та розвитку підприємництва", "department"),
    Org("health", f"Департамент охорони здоров'я {_KMDA}", "Департамент охорони здоров'я",
        "department"),
    Org("education", f"Департамент освіти і науки {_KMDA}", "Департамент освіти і науки",
        "department"),
    Org("ecology", f"Департамент захисту довкілля та адаптації до зміни клімату {_KMDA}",
        "Департамент захисту довкілля", "department"),
    Org("architecture", f"Департамент містобудування та архітектури {_KMDA}",
        "Департамент містобудування та архітектури", "department"),
    Org("control", "Департамент територіального контролю міста Києва",
        "Департамент територіального контролю", "department"),
    Org("vet", "Київська міська державна лікарня ветеринарної медицини",
        "Київська міська держлікарня ветмедицини", "department"),
    Org("police", "Головне управління Національної поліції у м. Києві", "ГУНП у м. Києві",
        "police", "102"),
)  # fmt: skip

# 1551 kinds (their real names, see kyiv_1551_profile.json) → who takes them.
HOUSING = "housing"  # the housing office of the territory; else the district's КП «КК»
DISTRICT = "district"  # the district administration
HOUSING_KINDS = (
    "Утримання будинку",
    "Обслуговування зовнішніх та внутрішньобудинкових систем",
    "Житлове господарство",
    "Залиття квартири",
    "Освітлення приміщень",
    "Прибирання; санітарне утримання території; приміщень та об'єктів благоустрою",
    "Санітарний стан приміщень; територій та об'єктів благоустрою",
    "Антисанітарний стан",
    "Перерахунки; нарахування плати та боргу; укладання договорів",
    "Питання квитанцій",
    "Прибирання снігу та льодяного покрову",
)
DISTRICT_KINDS = ("Укриття", "Облаштування майданчиків", "Соціальне забезпечення")
CITY_KINDS = {
    "Гаряче водопостачання": "teploenergo",
    "Опалення": "teploenergo",
    "Холодне водопостачання": "vodokanal",
    "Робота бюветів": "vodokanal",
    "Ліфт": "lifts",
    "Ремонт та укладання асфальтного покриття": "avtodor",
    "Дорожнє господарство": "avtodor",
    "Освітлення територій": "svitlo",
    "Утримання зелених насаджень": "zelenbud",
    "Зовнішня реклама": "reklama",
    "Функціонування МАФ": "blagoustrii",
    "Утримання МАФ та прилеглої до нього території": "blagoustrii",
    "Перевірка наявності дозвільної документації; в разі її відсутності - демонтаж": "blagoustrii",
    "Торгівля": "trade",
    "Порушення громадського порядку і безпеки": "police",
    "Електропостачання": "electro",
    "Газифікація": "gas",
    "Транспорт": "pastrans",
    "Сміття": "komunservis",
    "Охорона здоров'я": "health",
    "Освіта і наука": "education",
    "Екологічна безпека": "ecology",
    "Архітектура; капітальне будівництво та реконструкція": "architecture",
    "Порушення правил виконання робіт на об'єктах благоустрою": "control",
    "Ветеринарна медицина та догляд за тваринами": "vet",
}
# Kyiv's 2017 decision: appeals about drug advertising go to the police, before anything else.
DRUG_ADVERTISING = re.compile(r"наркот", re.IGNORECASE)

# Priorities: lower is tried first, so the most specific rule wins.
PRIORITY_DRUGS = 5
PRIORITY_TERRITORY = 10  # a housing office's own territory
PRIORITY_DISTRICT_CATEGORY = 20  # a category within a district
PRIORITY_CITY_CATEGORY = 30  # a category anywhere in the city
PRIORITY_DISTRICT_FALLBACK = 90  # anything else in a district
PRIORITY_CITY_FALLBACK = 100  # anything at all


def normalise(name: str) -> str:
    """Category names compared loosely: case, apostrophe forms and spacing do not matter."""
    return re.sub(r"\s+", " ", re.sub(r"[’ʼ`‘]", "'", name)).strip().casefold()


def district_forms(name: str) -> tuple[str, str]:
    """'Голосіївський район' → ('Голосіївська', 'Голосіївського'): the adjective as it stands
    before «районна … адміністрація» and before «району»."""
    word = name.split()[0]
    if word.endswith("ий"):
        return word[:-2] + "а", word[:-2] + "ого"
    return word, word


def district_orgs(district_name: str, district_code: str, ordinal: int,
                  n_offices: int) -> tuple[Org, Org, list[Org]]:  # fmt: skip
    """The district administration, its housing company, and the company's housing offices
    (numbered like 1551's «ЖЕД - 903»: the district's ordinal, then the office)."""
    fem, gen = district_forms(district_name)
    rda = Org(f"rda-{district_code}", f"{fem} районна в місті Києві державна адміністрація",
              f"{fem} РДА", "district_administration")  # fmt: skip
    kk = Org(
        f"kk-{district_code}",
        f'КП "Керуюча компанія з обслуговування житлового фонду {gen} району м. Києва"',
        f'КП "Керуюча компанія" ({fem} РДА)', "housing_office",
    )  # fmt: skip
    offices = [
        Org(
            f"zhed-{district_code}-{j + 1}",
            f"ЖЕД - {ordinal}{j + 1:02d} ({fem} РДА)",
            f"ЖЕД - {ordinal}{j + 1:02d}",
            "housing_office",
        )  # fmt: skip
        for j in range(n_offices)
    ]
    return rda, kk, offices
