"""Given-name variants the `nicknames` package does not know.

The `nicknames` package (Apache-2.0, hand-curated) covers English diminutives
only (bill -> william, peggy -> margaret). Bank customers in a European
registry are also called Sasha, Pepe, Gosia and Mohd, so this table adds, per
canonical given name, its diminutives in the same language and its common
Latin spellings from other scripts (Yury/Iurii/Juri, Mohamed/Mohd).

Deliberately absent: translations across languages (John / Juan / Jean /
Giovanni). Banks copy the legal name from an identity document, where a
translation is a different name; merging them would make every Juan a
candidate for every John. (The `nicknames` package itself keeps a few
anglicisations seen in US records, such as Ivan -> John; we take it as it is.)
Spellings that the phonetic key already merges (Aleksandr / Alexander) are
listed only where the nickname channel needs them to meet a diminutive.

Canonical names use the English spelling when the `nicknames` package has one,
so both tables meet on the same key. All entries are folded (ASCII, lower case).
"""

from __future__ import annotations

NAME_VARIANTS: dict[str, tuple[str, ...]] = {
    # English diminutives the `nicknames` package lacks (found among the quality
    # benchmark's misses), and the Scandinavian and German spellings of Margaret that
    # Greta is short for. Not Jackie for John or Jo for Joseph: they are as often
    # Jacqueline and Joanna, and a shared given name can merge two records (with the
    # same birth date), so it must not cross from one person's name to another's.
    "arthur": ("artie",),
    "herbert": ("herbie",),
    "margaret": ("greta", "margareta", "margarete"),
    # Russian, Ukrainian and Belarusian: diminutive and transliteration variants.
    "alexander": ("aleksandr", "alexandr", "aleksander", "sasha", "sascha", "sacha", "sanya",
                  "shura", "shurik", "olek", "alek"),
    "alexandra": ("aleksandra", "sasha", "sascha", "sacha", "shura"),
    "alexey": ("alexei", "aleksei", "aleksey", "aleksej", "alyosha", "lyosha", "lesha"),
    "anatoly": ("anatoli", "anatolii", "anatoliy", "tolya", "tolik"),
    "andrei": ("andrey", "andrej", "andrii", "andriy", "andryusha"),
    "anna": ("anya", "anechka", "nyura", "annushka", "ania", "anka"),
    "boris": ("borya",),
    "daria": ("darya", "dariya", "dasha"),
    "dmitry": ("dmitri", "dmitriy", "dmitrii", "dimitri", "dimitry", "dima", "mitya"),
    "ekaterina": ("yekaterina", "katerina", "katya", "katia", "katja", "katyusha"),
    "elena": ("yelena", "jelena", "lena", "lenochka"),
    "evgeny": ("evgeni", "evgeniy", "evgenii", "yevgeny", "yevgeniy", "jewgeni", "zhenya",
               "zhenia"),
    "fyodor": ("fedor", "feodor", "fiodor", "fedya"),
    "grigory": ("grigori", "grigoriy", "grigorii", "grisha"),
    "ivan": ("vanya", "vania", "vanechka"),
    "julia": ("yulia", "yuliya", "iuliia", "julija", "yulya", "julja"),
    "konstantin": ("kostya", "kostia"),
    "ksenia": ("kseniya", "kseniia", "xenia", "ksyusha"),
    "lyudmila": ("ludmila", "liudmila", "lyuda", "luda", "mila"),
    "maria": ("mariya", "mariia", "marya", "masha", "manya", "marysia"),
    "mikhail": ("mihail", "michail", "misha", "mischa"),
    "nadezhda": ("nadya", "nadia", "nadja"),
    "natalia": ("natalya", "nataliya", "natalija", "natasha", "natascha", "natacha"),
    "nikolai": ("nikolay", "nikolaj", "kolya", "kolia"),
    "olga": ("olya", "olia", "olenka"),
    "pavel": ("pasha", "pashka"),
    "pyotr": ("petr", "pjotr", "petya"),
    "sergei": ("sergey", "sergej", "sergii", "serhiy", "serguei", "seryozha", "serezha"),
    "stanislav": ("stas", "stanislaw", "staszek"),
    "svetlana": ("sveta",),
    "tatiana": ("tatyana", "tatjana", "tetiana", "tanya", "tania", "tanja"),
    "viktor": ("vitya",),
    "vladimir": ("volodya", "volodia", "vova", "wladimir", "vladimer"),
    "vyacheslav": ("viacheslav", "vjaceslav", "wjatscheslaw", "slava"),
    "yuri": ("yury", "yuriy", "yurii", "iurii", "iouri", "juri", "jurij", "yura"),
    # German.
    "elisabeth": ("liesel", "lisl", "sissi", "sisi", "elsbeth", "lisbeth"),
    "franziska": ("franzi",),
    "friedrich": ("fritz",),
    "gerhard": ("gerd", "gert"),
    "heinrich": ("heinz", "heini"),
    "johannes": ("hans", "hannes", "johann", "jan", "joop", "johan"),
    "josef": ("sepp", "seppl", "pepa", "pepik", "jozef", "jozek"),
    "margarete": ("grete", "gretel", "gretchen"),
    "maximilian": ("max", "maxi"),
    "sebastian": ("basti", "bastian"),
    "ulrich": ("ulli", "uli"),
    "wilhelm": ("willi",),
    "wolfgang": ("wolfi",),
    # Dutch.
    "cornelis": ("kees", "cor"),
    "hendrik": ("henk", "rik"),
    "jacobus": ("jaap", "koos"),
    "petrus": ("piet",),
    "willem": ("wim", "pim"),
    # Spanish and Portuguese.
    "alfonso": ("poncho",),
    "concepcion": ("concha", "conchita"),
    "consuelo": ("chelo",),
    "dolores": ("lola", "loli"),
    "eduardo": ("lalo",),
    "enrique": ("quique",),
    "fernando": ("nando",),
    "francisco": ("paco", "pancho", "curro", "quico", "kiko", "chico"),
    "guillermo": ("memo", "guille"),
    "ignacio": ("nacho",),
    "jesus": ("chucho", "chuy"),
    "joaquin": ("quino",),
    "jose": ("pepe", "pepito", "chepe", "ze"),
    "manuel": ("manolo", "manu"),
    "mercedes": ("merche",),
    "rafael": ("rafa",),
    "rosario": ("charo",),
    # Italian.
    "domenico": ("mimmo",),
    "giovanni": ("gianni", "vanni"),
    "giuseppe": ("beppe", "peppe", "pino", "peppino"),
    "luigi": ("gigi",),
    "salvatore": ("toto", "turi", "salvo"),
    "vincenzo": ("enzo",),
    # Polish and Czech.
    "agnieszka": ("aga",),
    "andrzej": ("jedrek",),
    "barbara": ("basia",),
    "elzbieta": ("ela", "elka"),
    "frantisek": ("franta",),
    "grzegorz": ("grzes", "grzesiek"),
    "jakub": ("kuba",),
    "jaroslav": ("jarda",),
    "joanna": ("asia",),
    "katarzyna": ("kasia", "kaska"),
    "krzysztof": ("krzys", "krzysiek"),
    "malgorzata": ("gosia", "malgosia"),
    "miroslav": ("mirek",),
    "piotr": ("piotrek",),
    "tomasz": ("tomek",),
    "vaclav": ("vasek",),
    "wojciech": ("wojtek",),
    "zbigniew": ("zbyszek",),
    # Greek: official (ELOT 743) forms and everyday short forms.
    "athanasios": ("thanasis", "thanos", "sakis"),
    "charalampos": ("charalambos", "babis", "haris", "charis"),
    "dimitrios": ("dimitris", "mitsos"),
    "eleftherios": ("lefteris",),
    "evangelos": ("vangelis",),
    "georgios": ("giorgos", "yorgos", "giorgis"),
    "ioannis": ("giannis", "yannis", "iannis", "yiannis"),
    "konstantinos": ("kostas", "kostis", "dinos", "ntinos"),
    "nikolaos": ("nikos",),
    "panagiotis": ("panos", "takis"),
    "spyridon": ("spyros", "spiros"),
    "vasileios": ("vasilis", "vassilis"),
    # Arabic, Persian and Turkish spellings; Mohd, Muhd and Md are the
    # abbreviations printed on Malaysian and Bangladeshi identity cards.
    "abdullah": ("abdallah", "abdulla", "abdollah"),
    "ahmed": ("ahmad", "ahmet", "achmed", "akhmed"),
    "aisha": ("ayesha", "aysha", "aishah", "aicha"),
    "fatima": ("fatimah", "fatma", "fatemeh"),
    "hassan": ("hasan",),
    "hussein": ("husain", "hussain", "husayn", "hossein", "hosein", "huseyin"),
    "ibrahim": ("ebrahim", "ibrahem"),
    "ismail": ("ismael", "esmail"),
    "khalid": ("khaled", "halid", "chalid"),
    "mahmoud": ("mahmud", "mahmood"),
    "muhammad": ("mohammed", "mohamed", "mohammad", "muhammed", "mohamad", "mehmet", "mohd",
                 "muhd", "md", "mhd"),
    "mustafa": ("mostafa", "moustafa", "mustapha"),
    "omar": ("umar", "omer"),
    "osama": ("usama", "usamah"),
    "sulaiman": ("suleiman", "sulayman", "suleyman", "soliman"),
    "tariq": ("tarek", "tarik", "tareq"),
    "walid": ("waleed",),
    "yasser": ("yasir", "yaser"),
    "yusuf": ("yousef", "youssef", "yousuf", "yusif", "jusuf"),
    # Hebrew and Yiddish.
    "avraham": ("avi", "avrum"),
    "moshe": ("moishe",),
    "shmuel": ("shmulik",),
    "yaakov": ("yankel", "kobi"),
    "yitzhak": ("itzik", "yitzchak"),
}
