"""Countries: the cities, postcodes and address layout a bank would record.

Cities are real so that addresses look like the ones analysts read every day;
streets come from Faker where its locale has credible street names, otherwise
from a short fixed list or a pattern filled with local family names (Faker's
fallback for those locales is US-style "Plains" and "Villages").
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    """How people and companies of one country are named and addressed."""

    code: str
    culture: str  # key of the name pool, see seed.names
    currency: str
    postcode: str  # '#' is a digit, '@' a capital letter, '' for none
    layout: str  # str.format with street, no, postcode, city
    cities: tuple[str, ...]
    streets: tuple[str, ...] = ()  # empty: Faker street names of the culture

    def address(self, rng: random.Random, street_pool: tuple[str, ...]) -> str:
        street = rng.choice(street_pool)
        number = str(rng.randint(1, 180))
        if self.code in _LETTERED_HOUSES and rng.random() < 0.08:
            number += rng.choice("abc")
        text = self.layout.format(
            street=street, no=number, postcode=self.make_postcode(rng), city=rng.choice(self.cities)
        )
        return text.strip(", ")

    def make_postcode(self, rng: random.Random) -> str:
        return "".join(_postcode_char(rng, c) for c in self.postcode)


def _postcode_char(rng: random.Random, pattern: str) -> str:
    if pattern == "#":
        return str(rng.randint(0, 9))
    if pattern == "@":
        return chr(rng.randint(65, 90))
    return pattern


_LETTERED_HOUSES = {"DE", "AT", "NL", "HR", "PL"}

_CITY_FIRST = "{street} {no}, {postcode} {city}"

COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country("DE", "de_DE", "EUR", "#####", _CITY_FIRST, (
            "Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf",
            "Leipzig", "Dortmund", "Essen", "Bremen", "Dresden", "Hannover", "Nürnberg",
            "Duisburg", "Bochum", "Bielefeld", "Bonn", "Münster", "Mannheim", "Karlsruhe",
            "Augsburg", "Wiesbaden", "Freiburg im Breisgau", "Lübeck", "Würzburg", "Göttingen",
            "Osnabrück",
        )),
        Country("AT", "de_AT", "EUR", "####", _CITY_FIRST, (
            "Wien", "Graz", "Linz", "Salzburg", "Innsbruck", "Klagenfurt am Wörthersee", "Villach",
            "Wels", "Sankt Pölten", "Dornbirn", "Wiener Neustadt", "Steyr", "Feldkirch", "Bregenz",
            "Leoben",
        )),
        Country("FR", "fr_FR", "EUR", "#####", "{no} {street}, {postcode} {city}", (
            "Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Nantes", "Strasbourg",
            "Montpellier", "Bordeaux", "Lille", "Rennes", "Reims", "Saint-Étienne", "Toulon",
            "Le Havre", "Grenoble", "Dijon", "Angers", "Nîmes", "Aix-en-Provence",
            "Clermont-Ferrand", "Besançon",
        )),
        Country("IT", "it_IT", "EUR", "#####", "{street}, {no}, {postcode} {city}", (
            "Roma", "Milano", "Napoli", "Torino", "Palermo", "Genova", "Bologna", "Firenze",
            "Bari", "Catania", "Venezia", "Verona", "Messina", "Padova", "Trieste", "Brescia",
            "Parma", "Taranto", "Prato", "Modena", "Reggio Calabria", "Perugia", "Forlì",
        )),
        Country("ES", "es_ES", "EUR", "#####", "{street}, {no}, {postcode} {city}", (
            "Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Murcia", "Palma",
            "Las Palmas de Gran Canaria", "Bilbao", "Alicante", "Córdoba", "Valladolid", "Vigo",
            "Gijón", "A Coruña", "Granada", "Vitoria-Gasteiz", "Elche", "Oviedo", "Cádiz",
            "Logroño",
        )),
        Country("NL", "nl_NL", "EUR", "#### @@", _CITY_FIRST, (
            "Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen", "Tilburg",
            "Almere", "Breda", "Nijmegen", "Apeldoorn", "Haarlem", "Arnhem", "Enschede",
            "Amersfoort", "Zaanstad", "'s-Hertogenbosch", "Zwolle", "Leiden", "Maastricht",
            "Dordrecht",
        )),
        Country("PL", "pl_PL", "PLN", "##-###", "ul. {street} {no}, {postcode} {city}", (
            "Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk", "Szczecin", "Bydgoszcz",
            "Lublin", "Białystok", "Katowice", "Gdynia", "Częstochowa", "Radom", "Toruń", "Kielce",
            "Rzeszów", "Gliwice", "Olsztyn", "Bielsko-Biała",
        )),
        Country("PT", "pt_PT", "EUR", "####-###", "{street}, {no}, {postcode} {city}", (
            "Lisboa", "Porto", "Vila Nova de Gaia", "Amadora", "Braga", "Funchal", "Coimbra",
            "Setúbal", "Almada", "Queluz", "Aveiro", "Évora", "Faro", "Viseu", "Guimarães",
            "Leiria",
        )),
        Country("GR", "el_GR", "EUR", "### ##", _CITY_FIRST, (
            "Αθήνα", "Θεσσαλονίκη", "Πάτρα", "Ηράκλειο", "Λάρισα", "Βόλος", "Ιωάννινα", "Τρίκαλα",
            "Χαλκίδα", "Σέρρες", "Αλεξανδρούπολη", "Ξάνθη", "Κατερίνη", "Καλαμάτα", "Χανιά",
            "Ρόδος",
        )),
        Country("CY", "el_GR", "EUR", "####", _CITY_FIRST, (
            "Nicosia", "Limassol", "Larnaca", "Paphos", "Paralimni", "Kyrenia",
        ), streets=(
            "Makariou III Avenue", "Archbishop Kyprianou Street", "Griva Digeni Avenue",
            "Spyrou Kyprianou Avenue", "Evagorou Avenue", "Ledras Street", "Agiou Andreou Street",
            "Anexartisias Street", "Themistokli Dervi Avenue", "Omirou Avenue", "Kennedy Avenue",
            "Stasikratous Street", "Gladstonos Street",
        )),
        Country("LU", "lu", "EUR", "L-####", "{no}, {street}, {postcode} {city}", (
            "Luxembourg", "Esch-sur-Alzette", "Differdange", "Dudelange", "Ettelbruck", "Diekirch",
            "Wiltz", "Echternach", "Grevenmacher", "Remich", "Mersch", "Bertrange", "Strassen",
        ), streets=(
            "rue de la Gare", "avenue de la Liberté", "boulevard Royal", "route d'Arlon",
            "rue de Hollerich", "Grand-Rue", "rue du Fossé", "avenue John F. Kennedy",
            "rue de l'Alzette", "route de Longwy", "rue des Bains",
            "boulevard Grande-Duchesse Charlotte",
        )),
        Country("RO", "ro_RO", "RON", "######", "{street} nr. {no}, {postcode} {city}", (
            "București", "Cluj-Napoca", "Timișoara", "Iași", "Constanța", "Craiova", "Brașov",
            "Galați", "Ploiești", "Oradea", "Brăila", "Arad", "Pitești", "Sibiu", "Bacău",
            "Târgu Mureș", "Baia Mare", "Suceava",
        )),
        Country("HR", "hr_HR", "EUR", "#####", _CITY_FIRST, (
            "Zagreb", "Split", "Rijeka", "Osijek", "Zadar", "Velika Gorica", "Slavonski Brod",
            "Pula", "Karlovac", "Sisak", "Varaždin", "Šibenik", "Dubrovnik", "Bjelovar",
            "Koprivnica", "Vukovar",
        )),
        Country("LT", "lt_LT", "EUR", "LT-#####", _CITY_FIRST, (
            "Vilnius", "Kaunas", "Klaipėda", "Šiauliai", "Panevėžys", "Alytus", "Marijampolė",
            "Mažeikiai", "Jonava", "Utena", "Kėdainiai", "Telšiai", "Tauragė",
        ), streets=(
            "Gedimino pr.", "Vilniaus g.", "Laisvės al.", "Savanorių pr.", "Konstitucijos pr.",
            "Ukmergės g.", "Kalvarijų g.", "Žirmūnų g.", "Pylimo g.", "Didžioji g.", "Taikos pr.",
            "Aušros g.", "Basanavičiaus g.", "Maironio g.", "Kęstučio g.",
        )),
        Country("LV", "lv_LV", "EUR", "LV-####", _CITY_FIRST, (
            "Rīga", "Daugavpils", "Liepāja", "Jelgava", "Jūrmala", "Ventspils", "Rēzekne",
            "Valmiera", "Jēkabpils", "Ogre", "Tukums", "Cēsis", "Sigulda",
        ), streets=(
            "Brīvības iela", "Elizabetes iela", "Krišjāņa Valdemāra iela", "Tērbatas iela",
            "Dzirnavu iela", "Lāčplēša iela", "Gertrūdes iela", "Maskavas iela", "Ganību dambis",
            "Kalnciema iela", "Avotu iela", "Raiņa bulvāris", "Stabu iela",
        )),
        Country("GB", "en_GB", "GBP", "@@# #@@", "{no} {street}, {city} {postcode}", (
            "London", "Birmingham", "Manchester", "Leeds", "Glasgow", "Liverpool", "Bristol",
            "Sheffield", "Edinburgh", "Leicester", "Cardiff", "Coventry", "Nottingham",
            "Newcastle upon Tyne", "Belfast", "Brighton", "Oxford", "Cambridge",
        ), streets=(
            "{name} Road", "{name} Street", "{name} Lane", "{name} Avenue", "{name} Close",
            "{name} Gardens", "{name} Crescent",
        )),
        Country("RU", "ru_RU", "RUB", "######", "{street}, д. {no}, {city}, {postcode}", (
            "Москва", "Санкт-Петербург", "Новосибирск", "Екатеринбург", "Казань",
            "Нижний Новгород", "Челябинск", "Самара", "Омск", "Ростов-на-Дону", "Уфа",
            "Красноярск", "Воронеж", "Пермь", "Волгоград", "Краснодар", "Калининград",
        )),
        Country("UA", "uk_UA", "UAH", "#####", "вул. {street}, буд. {no}, {city}, {postcode}", (
            "Київ", "Харків", "Одеса", "Дніпро", "Львів", "Запоріжжя", "Кривий Ріг", "Миколаїв",
            "Вінниця", "Полтава", "Чернігів", "Черкаси", "Житомир", "Суми", "Рівне",
            "Івано-Франківськ", "Тернопіль", "Луцьк", "Ужгород",
        )),
        Country("TR", "tr_TR", "TRY", "#####", "{street} No:{no}, {postcode} {city}", (
            "İstanbul", "Ankara", "İzmir", "Bursa", "Antalya", "Adana", "Konya", "Gaziantep",
            "Şanlıurfa", "Kocaeli", "Mersin", "Diyarbakır", "Kayseri", "Eskişehir", "Samsun",
            "Trabzon", "Denizli", "Malatya",
        ), streets=(
            "{name} Sokak", "{name} Sokak", "{name} Caddesi", "Atatürk Bulvarı",
            "Cumhuriyet Caddesi", "İstiklal Caddesi", "İnönü Caddesi",
        )),
        Country("CN", "zh_CN", "CNY", "######", "{city}市{street}{no}号 {postcode}", (
            "北京", "上海", "广州", "深圳", "天津", "重庆", "成都", "武汉",
            "杭州", "南京", "西安", "沈阳", "青岛", "大连", "厦门", "苏州",
        )),
        Country("SY", "ar", "SYP", "", "{street} {no}, {city}", (
            "Damascus", "Aleppo", "Homs", "Latakia", "Hama", "Tartus", "Deir ez-Zor",
        ), streets=(
            "{name} Street",
        )),
        Country("IQ", "ar", "IQD", "#####", "{street} {no}, {city} {postcode}", (
            "Baghdad", "Basra", "Mosul", "Erbil", "Najaf", "Kirkuk", "Sulaymaniyah",
        ), streets=(
            "{name} Street",
        )),
        Country("EG", "ar", "EGP", "#####", "{no} {street}, {city} {postcode}", (
            "Cairo", "Alexandria", "Giza", "Port Said", "Suez", "Luxor", "Mansoura", "Tanta",
        ), streets=(
            "{name} Street",
        )),
        Country("MA", "ar", "MAD", "#####", "{no} Rue {street}, {postcode} {city}", (
            "Casablanca", "Rabat", "Marrakech", "Fès", "Tanger", "Agadir", "Meknès", "Oujda",
        ), streets=(
            "{name}",
        )),
        Country("LB", "ar", "LBP", "", "{street} {no}, {city}", (
            "Beirut", "Tripoli", "Sidon", "Tyre", "Zahlé", "Jounieh",
        ), streets=(
            "{name} Street",
        )),
        Country("SA", "ar", "SAR", "#####", "{no} {street}, {city} {postcode}", (
            "Riyadh", "Jeddah", "Mecca", "Medina", "Dammam", "Khobar", "Taif",
        ), streets=(
            "{name} Street", "King Fahd Road", "Prince Sultan Street",
        )),
        Country("MT", "en_GB", "EUR", "@@@ ####", _CITY_FIRST, (
            "Valletta", "Sliema", "Birkirkara", "St. Julian's", "Mosta", "Qormi", "Msida",
        ), streets=(
            "Triq il-Kbira", "Triq ir-Repubblika", "Triq San Pawl", "Tower Road", "The Strand",
            "Triq Dun Karm", "Triq l-Imsida",
        )),
        Country("CH", "de_DE", "CHF", "####", _CITY_FIRST, (
            "Zürich", "Genève", "Basel", "Lausanne", "Bern", "Zug", "Lugano", "Luzern",
            "St. Gallen",
        ), streets=(
            "Bahnhofstrasse", "Rue du Rhône", "Baarerstrasse", "Via Nassa", "Löwenstrasse",
            "Seestrasse", "Poststrasse", "Talstrasse", "Quai du Mont-Blanc",
        )),
        Country("LI", "de_DE", "CHF", "94##", _CITY_FIRST, (
            "Vaduz", "Schaan", "Balzers", "Triesen", "Eschen", "Ruggell",
        ), streets=(
            "Städtle", "Aeulestrasse", "Landstrasse", "Herrengasse", "Austrasse", "Kirchstrasse",
            "Pradafant",
        )),
        Country("VG", "en_GB", "USD", "VG11##", "{street} {no}, {city}, Tortola {postcode}", (
            "Road Town",
        ), streets=(
            "Main Street", "Wickhams Cay I", "Wickhams Cay II", "Waterfront Drive",
            "Flemming Street", "Pasea Estate",
        )),
        Country("PA", "es_ES", "USD", "", "{street}, {no}, {city}", (
            "Ciudad de Panamá", "Colón", "David",
        ), streets=(
            "Calle 50", "Avenida Balboa", "Calle Aquilino de la Guardia", "Vía España",
            "Avenida Samuel Lewis", "Calle 53 Este",
        )),
        Country("AE", "ar", "AED", "", "Office {no}, {street}, {city}", (
            "Dubai", "Abu Dhabi", "Sharjah", "Ras Al Khaimah", "Ajman",
        ), streets=(
            "Sheikh Zayed Road", "Al Wasl Road", "Jumeirah Lake Towers", "Dubai Marina Walk",
            "Al Maktoum Road", "Business Bay",
        )),
        Country("SC", "en_GB", "SCR", "", "{street} {no}, {city}, Mahé", (
            "Victoria",
        ), streets=(
            "Francis Rachel Street", "Providence Industrial Estate", "Eden Island",
            "Independence Avenue", "Albert Street",
        )),
    )
}

# Where the banks of a national book sit. Restricted to countries whose IBAN has
# an account code of at least ten digits and whose national check digits
# schwifty can compute, so every generated IBAN validates with validate_bban.
BANK_COUNTRIES: tuple[str, ...] = (
    "DE", "FR", "IT", "ES", "NL", "AT", "PL", "PT", "GR", "LU", "RO", "HR", "LT", "LV", "CY",
)

# Countries of origin of customers who are not nationals of the bank's country,
# weighted roughly like the EU's largest foreign-born groups.
MIGRANT_ORIGINS: tuple[tuple[str, int], ...] = (
    ("TR", 14), ("UA", 10), ("PL", 9), ("RO", 9), ("RU", 7), ("SY", 6), ("IT", 5),
    ("MA", 4), ("PT", 4), ("CN", 4), ("IQ", 3), ("ES", 3), ("GR", 3), ("HR", 3),
    ("GB", 3), ("DE", 3), ("FR", 3), ("EG", 2), ("LT", 2), ("NL", 1), ("LV", 1),
    ("AT", 1), ("LB", 1), ("SA", 1),
)

# Where companies outside the bank's country are registered: holding and
# special-purpose vehicles cluster in a few jurisdictions.
FOREIGN_REGISTRATIONS: tuple[tuple[str, int], ...] = (
    ("CY", 6), ("LU", 5), ("GB", 5), ("NL", 4), ("MT", 3), ("VG", 3), ("AE", 3),
    ("CH", 3), ("LI", 2), ("PA", 1), ("SC", 1), ("DE", 3), ("FR", 2), ("IT", 2),
    ("AT", 2), ("PL", 1),
)
