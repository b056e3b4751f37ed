#!/usr/bin/env python3
"""Build the hand-made dev gold (set "a") for seeds/001_3885a6e84abb0fe1.txt.

Annotations are held here as (surface, type, wikipedia, occurrences) per message; offsets are
computed by searching inside the message span, so that text[start:end] == surface always holds.
occurrences: None = every occurrence (word-bounded, case-sensitive) inside the message span,
or a list of 0-based indices among those occurrences.
Run:  python3 _build.py      (writes messages.jsonl and mentions.jsonl next to this file)
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FILE = "001_3885a6e84abb0fe1.txt"
SEED = os.path.join(HERE, "..", "..", "..", "seeds", FILE)
TEXT = open(SEED, encoding="utf-8", newline="").read()

# ---------------------------------------------------------------- link constants
STALIN = "Joseph Stalin"
CHURCHILL = "Winston Churchill"
FDR = "Franklin D. Roosevelt"
USSR = "Soviet Union"
UK = "United Kingdom"
US = "United States"
SOVGOV = "Government of the Soviet Union"
UKGOV = "Government of the United Kingdom"
USGOV = "Federal government of the United States"
EASTFRONT = "Eastern Front (World War II)"
MOSCOW41 = "Moscow Conference (1941)"
HARRIMAN = "W. Averell Harriman"
MOLOTOV = "Vyacheslav Molotov"
KERR = "Archibald Clark Kerr, 1st Baron Inverchapel"
STANDLEY = "William Harrison Standley"
BEAVER = "Max Aitken, 1st Baron Beaverbrook"
NIL_COMMUNIQUE = "Anglo-Soviet Communiqué of 12 June 1942"


def E(surface, typ, wiki, occ=None, nil=None, uncertain=False):
    return dict(surface=surface, type=typ, wiki=wiki, occ=occ, nil=nil, uncertain=uncertain)


# ---------------------------------------------------------------- messages
# start: exact text at the message start (searched near `near`); end: text that closes the message
# (searched from start); body: text at the start of the first body line (-> first_line)
MESSAGES = [
    # ------------------------------------------------------------------ 1941
    dict(near=1100, start="PERSONAL MESSAGE FROM STALIN TO Mr CHURCHILL", end="July 18, 1941",
         body="Allow me to thank you", sender=STALIN, recipients=[CHURCHILL],
         date="1941-07-18", date_kind="written",
         notes="First message of the book; closed by a bare date line, no signature.",
         ents=[
             E("STALIN", "PERSON", STALIN), E("CHURCHILL", "PERSON", CHURCHILL),
             E("Soviet Union", "PLACE", USSR), E("Great Britain", "PLACE", UK),
             E("Britain", "PLACE", UK), E("Hitler", "PERSON", "Adolf Hitler"),
             E("Germany", "PLACE", "Germany"),
             E("Non-Aggression Pact", "EVENT", "Molotov–Ribbentrop Pact"),
             E("Kishinev", "PLACE", "Chișinău"), E("Lvov", "PLACE", "Lviv"),
             E("Brest", "PLACE", "Brest, Belarus"), E("Bialystok", "PLACE", "Białystok"),
             E("Kaunas", "PLACE", "Kaunas"), E("Vyborg", "PLACE", "Vyborg"),
             E("Odessa", "PLACE", "Odesa"), E("Kamenets Podolsk", "PLACE", "Kamianets-Podilskyi"),
             E("Minsk", "PLACE", "Minsk"), E("Leningrad", "PLACE", "Saint Petersburg"),
             E("Northern France", "PLACE", None, nil="Northern France"),
             E("North of France", "PLACE", None, nil="Northern France"),
             E("Arctic", "PLACE", "Arctic"),
             E("British Army", "ORG", "British Army"),
             E("Southern England", "PLACE", "Southern England"),
             E("Northern Norway", "PLACE", "Northern Norway"),
         ]),
    dict(near=3500, start="Sent on August 4, 1941", end="conclude a new peace treaty with her.",
         body="The U.S.S.R. attaches great importance", sender=STALIN, recipients=[FDR],
         date="1941-08-04", date_kind="sent",
         notes="Short message; no written date and no signature in the OCR.",
         ents=[
             E("J. V. STALIN", "PERSON", STALIN), E("F. ROOSEVELT", "PERSON", FDR),
             E("U.S.S.R.", "PLACE", USSR), E("Finland", "PLACE", "Finland"),
             E("Germany", "PLACE", "Germany"), E("Britain", "PLACE", UK),
             E("U.S. Government", "ORG", USGOV),
             E("Finnish Government", "ORG", "Finnish Government"),
             E("Soviet Government", "ORG", SOVGOV),
         ]),
    dict(near=8100, start="Sent on September 13, 1941", end="make good the damage after the war.",
         body="In my last message I set forth", sender=STALIN, recipients=[CHURCHILL],
         date="1941-09-13", date_kind="sent",
         notes="No written date or signature; the next header (J. V. STALIN TO F. ROOSEVELT) follows directly.",
         ents=[
             E("STALIN", "PERSON", STALIN), E("PRIME MINISTER", "ROLE", CHURCHILL),
             E("CHURCHILL", "PERSON", CHURCHILL),
             E("Government of the U.S.S.R.", "ORG", SOVGOV),
             E("British Government", "ORG", UKGOV),
             E("Soviet Union", "PLACE", USSR), E("Britain", "PLACE", UK),
             E("Archangel", "PLACE", "Arkhangelsk"), E("U.S.S.R.", "PLACE", USSR),
             E("Iran", "PLACE", "Iran"), E("France", "PLACE", "France"),
             E("Hitler", "PERSON", "Adolf Hitler"),
             E("Soviet Government", "ORG", SOVGOV),
             E("Cripps", "PERSON", "Stafford Cripps"), E("V. M. Molotov", "PERSON", MOLOTOV),
             E("Leningrad", "PLACE", "Saint Petersburg"),
             E("His Majesty's Government", "ORG", UKGOV),
             E("Germany", "PLACE", "Germany"),
         ]),
    dict(near=11700, start="J. V. STALIN TO W. CHURCHILL", end="October 3, 1941",
         body="My dear Prime Minister Churchill,", sender=STALIN, recipients=[CHURCHILL],
         date="1941-10-03", date_kind="written",
         notes="No 'Sent on' line; closed by signature and bare date line.",
         ents=[
             E("J. V. STALIN", "PERSON", STALIN), E("W. CHURCHILL", "PERSON", CHURCHILL),
             E("Churchill", "PERSON", CHURCHILL),
             E("Moscow Tripartite Conference", "EVENT", MOSCOW41),
             E("Moscow Conference", "EVENT", MOSCOW41),
             E("Moscow", "PLACE", "Moscow"),
             E("Beaverbrook", "PERSON", BEAVER), E("Harriman", "PERSON", HARRIMAN),
             E("Roosevelt", "PERSON", FDR),
             E("Soviet Government", "ORG", SOVGOV), E("British Government", "ORG", UKGOV),
             E("London", "PLACE", "London"), E("Washington", "PLACE", "Washington, D.C."),
             E("U.S.S.R.", "PLACE", USSR), E("Turkey", "PLACE", "Turkey"),
             E("China", "PLACE", "China"), E("Europe", "PLACE", "Europe"),
             E("Hitler", "PERSON", "Adolf Hitler"),
             E("J. STALIN", "PERSON", STALIN),
         ]),
    dict(near=13650, start="J. V. STALIN TO F. ROOSEVELT", end="November 4, 1941",
         body="Mr President,", sender=STALIN, recipients=[FDR],
         date="1941-11-04", date_kind="written",
         notes="Footnote marker '³' after 'Moscow,' (not annotated). 'the Conference' (anaphoric) not annotated.",
         ents=[
             E("J. V. STALIN", "PERSON", STALIN), E("F. ROOSEVELT", "PERSON", FDR),
             E("President", "ROLE", FDR),
             E("Steinhardt", "PERSON", "Laurence Steinhardt"),
             E("United States Ambassador", "ROLE", "Laurence Steinhardt"),
             E("Vyshinsky", "PERSON", "Andrey Vyshinsky"),
             E("Three-Power Conference in Moscow", "EVENT", MOSCOW41),
             E("Harriman", "PERSON", HARRIMAN), E("Beaverbrook", "PERSON", BEAVER),
             E("Soviet Government", "ORG", SOVGOV),
             E("Soviet Union", "PLACE", USSR),
             E("Government of the U.S.S.R.", "ORG", SOVGOV),
             E("United States of America", "PLACE", US), E("United States", "PLACE", US),
             E("J. STALIN", "PERSON", STALIN),
         ]),
    dict(near=18590, start="Sent on November 28, 1941", end="Our resolve to smash the enemy is unshakeable.",
         body="Thank you for your message.", sender=STALIN, recipients=[CHURCHILL],
         date="1941-11-28", date_kind="sent",
         notes="No written date or signature; the birthday greeting 'TO Mr WINSTON CHURCHILL' (Nov 30) follows.",
         ents=[
             E("STALIN", "PERSON", STALIN), E("CHURCHILL", "PERSON", CHURCHILL),
             E("Finland", "PLACE", "Finland"), E("U.S.S.R.", "PLACE", USSR),
             E("Hitler", "PERSON", "Adolf Hitler"),
             E("Hungary", "PLACE", "Hungary"), E("Roumania", "PLACE", "Romania"),
             E("Eden", "PERSON", "Anthony Eden"),
             E("Foreign Secretary", "ROLE", "Anthony Eden"),
             E("Germany", "PLACE", "Germany"), E("Prussia", "PLACE", "Prussia"),
             E("Great Britain", "PLACE", UK), E("U.S.A.", "PLACE", US),
             E("Libya", "PLACE", "Libya"),
         ]),
    # ------------------------------------------------------------------ 1942
    dict(near=26050, start="March 29, 1942", end="to take care of the matter.",
         body="Thank you for the message which reached me through Mr Kerr", sender=STALIN,
         recipients=[CHURCHILL], date="1942-03-29", date_kind="written",
         notes=("The bare date line 'March 29, 1942' stands ABOVE this message's header (OCR/layout "
                "displacement): it belongs to this message (Kerr / poison gas), not to the 'Sent on March "
                "14, 1942' message above it; the span therefore starts at that date line. No signature."),
         ents=[
             E("J. V. STALIN", "PERSON", STALIN), E("W. CHURCHILL", "PERSON", CHURCHILL),
             E("Kerr", "PERSON", KERR),
             E("Soviet Government", "ORG", SOVGOV), E("British Government", "ORG", UKGOV),
             E("U.S.S.R.", "PLACE", USSR), E("Great Britain", "PLACE", UK),
             E("British Air Force", "ORG", "Royal Air Force"),
             E("Britain", "PLACE", UK), E("Germany", "PLACE", "Germany"),
             E("Finland", "PLACE", "Finland"),
         ]),
    dict(near=38450, start="Sent on July 23, 1942", end="J. STALIN",
         body="I have received your message of July 18.", sender=STALIN, recipients=[CHURCHILL],
         date="1942-07-23", date_kind="sent",
         notes="Closed by signature 'J. STALIN'; the next message ('MOST SECRET ... FOR PRIME MINISTER CHURCHILL') follows.",
         ents=[
             E("STALIN", "PERSON", STALIN), E("CHURCHILL", "PERSON", CHURCHILL),
             E("British Government", "ORG", UKGOV),
             E("Soviet Union", "PLACE", USSR),
             E("Anglo-Soviet Communiqué", "EVENT", None, nil=NIL_COMMUNIQUE),
             E("British Admiralty", "ORG", "Admiralty (United Kingdom)"),
             E("P.Q. 17 convoy", "EVENT", "Convoy PQ 17"),
             E("Britain", "PLACE", UK), E("U.S.S.R.", "PLACE", USSR),
             E("Soviet-German front", "EVENT", EASTFRONT),
             E("Europe", "PLACE", "Europe"),
             E("Soviet Government", "ORG", SOVGOV),
             E("J. STALIN", "PERSON", STALIN),
         ]),
    dict(near=42880, start="J. V. STALIN TO W. CHURCHILL\nMEMORANDUM", end="August 13, 1942\n\nJ. STALIN",
         body="As a result of the exchange of views in Moscow", sender=STALIN, recipients=[CHURCHILL],
         date="1942-08-13", date_kind="written",
         notes=("Memorandum handed over during the Moscow talks; the date line precedes the signature "
                "'J. STALIN', so the span ends after the signature. Page break inside ('as\\n\\n1942.')."),
         ents=[
             E("J. V. STALIN", "PERSON", STALIN), E("W. CHURCHILL", "PERSON", CHURCHILL),
             E("Moscow talks", "EVENT", "Moscow Conference (1942)"),
             E("Moscow", "PLACE", "Moscow"),
             E("Churchill", "PERSON", CHURCHILL),
             E("British Prime Minister", "ROLE", CHURCHILL),
             E("Prime Minister", "ROLE", CHURCHILL),
             E("Europe", "PLACE", "Europe"), E("Molotov", "PERSON", MOLOTOV),
             E("London", "PLACE", "London"),
             E("Anglo-Soviet Communiqué", "EVENT", None, nil=NIL_COMMUNIQUE),
             E("Eastern Front", "EVENT", EASTFRONT),
             E("Soviet-German front", "EVENT", EASTFRONT),
             E("Soviet High Command", "ORG", "Stavka"),
             E("British Government", "ORG", UKGOV),
             E("Red Army", "ORG", "Red Army"), E("Britain", "PLACE", UK),
             E("Harriman", "PERSON", HARRIMAN),
             E("U.S. President", "ROLE", FDR),
             E("J. STALIN", "PERSON", STALIN),
         ]),
    dict(near=45650, start="Sent on September 8, 1942", end='all success in "Torch."',
         body="I received your message on September 7.", sender=STALIN, recipients=[CHURCHILL],
         date="1942-09-08", date_kind="sent",
         notes="Short message; no written date or signature. The following 'PREMIER STALIN TO PRIME MINISTER CHURCHILL' (Oct 3, 1942) is a separate message.",
         ents=[
             E("STALIN", "PERSON", STALIN), E("CHURCHILL", "PERSON", CHURCHILL),
             E("Soviet Union", "PLACE", USSR),
             E("P.Q. 18 convoy", "EVENT", "Convoy PQ 18"),
             E("Rommel", "PERSON", "Erwin Rommel"), E("Egypt", "PLACE", "Egypt"),
             E("Torch", "OPERATION", "Operation Torch"),
         ]),
    dict(near=47690, start="**FROM PREMIER STALIN\nTO THE PRESIDENT, Mr ROOSEVELT**", end="October 7, 1942",
         body="In taking this opportunity to send you a personal message through the courtesy of Mr Standley",
         sender=STALIN, recipients=[FDR], date="1942-10-07", date_kind="written",
         notes="Names Standley (U.S. Ambassador), who carried the message to Washington. No signature.",
         ents=[
             E("STALIN", "PERSON", STALIN), E("PRESIDENT", "ROLE", FDR),
             E("ROOSEVELT", "PERSON", FDR),
             E("Standley", "PERSON", STANDLEY),
             E("Washington", "PLACE", "Washington, D.C."),
             E("U.S.S.R.", "PLACE", USSR), E("Soviet Government", "ORG", SOVGOV),
             E("Soviet Union", "PLACE", USSR), E("U.S.A.", "PLACE", US),
             E("Vladivostok", "PLACE", "Vladivostok"),
             E("Willkie", "PERSON", "Wendell Willkie"),
             E("Stalingrad", "PLACE", "Volgograd"),
         ]),
    dict(near=50260, start="Sent on November 8, 1942", end="anniversary of the U.S.S.R.",
         body="Your message reached me on November 5.", sender=STALIN, recipients=[CHURCHILL],
         date="1942-11-08", date_kind="sent",
         notes="'Southern Front' and 'Caucasian front' taken as generic sectors (not annotated).",
         ents=[
             E("STALIN", "PERSON", STALIN), E("CHURCHILL", "PERSON", CHURCHILL),
             E("Egypt", "PLACE", "Egypt"), E("Rommel", "PERSON", "Erwin Rommel"),
             E("Torch", "OPERATION", "Operation Torch"),
             E("Roosevelt", "PERSON", FDR), E("Moscow", "PLACE", "Moscow"),
             E("Caucasus", "PLACE", "Caucasus"),
             E("Elmer E. Adler", "PERSON", None, nil="Elmer E. Adler", uncertain=True),
             E("Nalchik", "PLACE", "Nalchik"), E("Vladikavkaz", "PLACE", "Vladikavkaz"),
             E("U.S.S.R.", "PLACE", USSR),
         ]),
    dict(near=60000, start="Sent on December 14, 1942", end="Earlier I wrote the same to Mr Churchill.",
         body="I, too, express deep regret", sender=STALIN, recipients=[FDR],
         date="1942-12-14", date_kind="sent",
         notes="No written date or signature.",
         ents=[
             E("J. V. STALIN", "PERSON", STALIN), E("F. ROOSEVELT", "PERSON", FDR),
             E("Soviet Union", "PLACE", USSR), E("President", "ROLE", FDR),
             E("Churchill", "PERSON", CHURCHILL), E("Europe", "PLACE", "Europe"),
             E("Great Britain", "PLACE", UK), E("U.S.A.", "PLACE", US),
             E("Darlan", "PERSON", "François Darlan"),
             E("Eisenhower", "PERSON", "Dwight D. Eisenhower"),
             E("Boisson", "PERSON", "Pierre Boisson"), E("Giraud", "PERSON", "Henri Giraud"),
             E("Hitler", "PERSON", "Adolf Hitler"),
         ]),
    # ------------------------------------------------------------------ 1943
    dict(near=69230, start="**MOST SECRET AND PERSONAL MESSAGE\nFROM PREMIER STALIN\nTO THE PRIME MINISTER, Mr CHURCHILL**",
         end="February 16, 1943", body="On February 12 I received your message", sender=STALIN,
         recipients=[CHURCHILL], date="1943-02-16", date_kind="written",
         notes="'at Casablanca'/'Casablanca decisions' = the conference (metonymy) -> EVENT.",
         ents=[
             E("STALIN", "PERSON", STALIN), E("PRIME MINISTER", "ROLE", CHURCHILL),
             E("CHURCHILL", "PERSON", CHURCHILL),
             E("Casablanca", "EVENT", "Casablanca Conference"),
             E("President", "ROLE", FDR),
             E("Tunisia", "PLACE", "Tunisia"), E("North Africa", "PLACE", "North Africa"),
             E("Hitler", "PERSON", "Adolf Hitler"), E("Mussolini", "PERSON", "Benito Mussolini"),
             E("Sicily", "PLACE", "Sicily"),
             E("Eastern Mediterranean", "PLACE", "Eastern Mediterranean"),
             E("Europe", "PLACE", "Europe"), E("France", "PLACE", "France"),
             E("Soviet-German front", "EVENT", EASTFRONT),
             E("Low Countries", "PLACE", "Low Countries"), E("Germany", "PLACE", "Germany"),
             E("Soviet Union", "PLACE", USSR), E("Roosevelt", "PERSON", FDR),
             E("Rostov", "PLACE", "Rostov-on-Don"), E("Kharkov", "PLACE", "Kharkiv"),
         ]),
    dict(near=77510, start="Sent on March 15, 1943", end="advise you of the foregoing.",
         body="On March 12 Mr Standley, the U.S. Ambassador", sender=STALIN, recipients=[CHURCHILL],
         date="1943-03-15", date_kind="sent",
         notes="No written date or signature; the next message (air raids, written March 15, 1943) follows directly.",
         ents=[
             E("J. V. STALIN", "PERSON", STALIN), E("PRIME MINISTER", "ROLE", CHURCHILL),
             E("W. CHURCHILL", "PERSON", CHURCHILL),
             E("Standley", "PERSON", STANDLEY), E("U.S. Ambassador", "ROLE", STANDLEY),
             E("Molotov", "PERSON", MOLOTOV), E("U.S. Government", "ORG", USGOV),
             E("U.S.S.R.", "PLACE", USSR), E("Finland", "PLACE", "Finland"),
             E("Anglo-Soviet Treaty", "EVENT", "Anglo-Soviet Treaty of 1942"),
             E("Germany", "PLACE", "Germany"), E("Hitler", "PERSON", "Adolf Hitler"),
             E("Soviet Union", "PLACE", USSR),
         ]),
    dict(near=79900, start="**PERSONAL AND SECRET MESSAGE\nFROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER, Mr W. CHURCHILL**\n\nI have received your reply",
         end="March 15, 1943", body="I have received your reply to my message of February 16.",
         sender=STALIN, recipients=[CHURCHILL], date="1943-03-15", date_kind="written",
         notes="Footnote marker '^{ss}' after \"Husky\" (not annotated). Page break inside ('it should\\n\\nbe obvious').",
         ents=[
             E("J. V. STALIN", "PERSON", STALIN), E("PRIME MINISTER", "ROLE", CHURCHILL),
             E("W. CHURCHILL", "PERSON", CHURCHILL),
             E("North Africa", "PLACE", "North Africa"), E("Germany", "PLACE", "Germany"),
             E("Hitler", "PERSON", "Adolf Hitler"),
             E("Soviet Army", "ORG", "Red Army"),
             E("Soviet-German front", "EVENT", EASTFRONT),
             E("Husky", "OPERATION", "Allied invasion of Sicily"),
             E("France", "PLACE", "France"), E("U.S.S.R.", "PLACE", USSR),
             E("Europe", "PLACE", "Europe"), E("Channel", "PLACE", "English Channel"),
         ]),
    dict(near=90350, start="**PERSONAL AND SECRET MESSAGE\nFROM PREMIER J. V. STALIN\nTO THE PRESIDENT, Mr FRANKLIN D. ROOSEVELT**",
         end="April 21, 1943", body="The behaviour of the Polish Government", sender=STALIN,
         recipients=[FDR], date="1943-04-21", date_kind="written",
         notes="Katyn / rupture with the Polish Government. 'Sikorski Government' -> PERSON 'Sikorski'; 'Polish Government' -> ORG.",
         ents=[
             E("J. V. STALIN", "PERSON", STALIN), E("PRESIDENT", "ROLE", FDR),
             E("FRANKLIN D. ROOSEVELT", "PERSON", FDR),
             E("Polish Government", "ORG", "Polish government-in-exile"),
             E("U.S.S.R.", "PLACE", USSR), E("Soviet Government", "ORG", SOVGOV),
             E("Smolensk", "PLACE", "Smolensk"),
             E("Sikorski", "PERSON", "Władysław Sikorski"),
             E("Poland", "PLACE", "Poland"), E("Hitler", "PERSON", "Adolf Hitler"),
             E("International Red Cross", "ORG", "International Committee of the Red Cross"),
             E("Soviet Union", "PLACE", USSR), E("Germany", "PLACE", "Germany"),
             E("U.S. Government", "ORG", USGOV),
         ]),
    dict(near=120210, start="**PERSONAL AND SECRET MESSAGE\nFROM PREMIER J. V. STALIN\nTO THE PRESIDENT, Mr F. D. ROOSEVELT,\nAND THE PRIME MINISTER, Mr W. CHURCHILL**",
         end="August 22, 1943", body="I have received your message on the negotiations with the Italians",
         sender=STALIN, recipients=[FDR, CHURCHILL], date="1943-08-22", date_kind="written",
         notes="Joint message to Roosevelt and Churchill. 'Ambassador Kerr' -> PERSON 'Kerr' (title prefix).",
         ents=[
             E("J. V. STALIN", "PERSON", STALIN), E("PRESIDENT", "ROLE", FDR),
             E("F. D. ROOSEVELT", "PERSON", FDR), E("PRIME MINISTER", "ROLE", CHURCHILL),
             E("W. CHURCHILL", "PERSON", CHURCHILL),
             E("Italy", "PLACE", "Italy"), E("Eden", "PERSON", "Anthony Eden"),
             E("Sobolev", "PERSON", "Arkady Sobolev"), E("Moscow", "PLACE", "Moscow"),
             E("Soviet Government", "ORG", SOVGOV), E("Kerr", "PERSON", KERR),
             E("U.S.A.", "PLACE", US), E("Great Britain", "PLACE", UK),
             E("U.S.S.R.", "PLACE", USSR), E("Germany", "PLACE", "Germany"),
             E("Britain", "PLACE", UK), E("Sicily", "PLACE", "Sicily"),
         ]),
    dict(near=134490, start="**PERSONAL AND SECRET MESSAGE\nTO PRESIDENT ROOSEVELT FROM PREMIER J. V. STALIN**",
         end="September 28, 1943", body="Your message of September 27 reached me today.", sender=STALIN,
         recipients=[FDR], date="1943-09-28", date_kind="written",
         notes="'the Secretary of State, Mr Hull' -> ROLE + PERSON (appositive). 'the forthcoming conference' (Moscow Conference 1943) is generic wording, not annotated.",
         ents=[
             E("ROOSEVELT", "PERSON", FDR), E("J. V. STALIN", "PERSON", STALIN),
             E("Secretary of State", "ROLE", "Cordell Hull"), E("Hull", "PERSON", "Cordell Hull"),
             E("Moscow", "PLACE", "Moscow"), E("Britain", "PLACE", UK),
             E("V. M. Molotov", "PERSON", MOLOTOV), E("Molotov", "PERSON", MOLOTOV),
             E("U.S.S.R.", "PLACE", USSR), E("A. Y. Vyshinsky", "PERSON", "Andrey Vyshinsky"),
             E("People's Commissariat for Foreign Affairs", "ORG", "Ministry of Foreign Affairs (Soviet Union)"),
             E("Algiers", "PLACE", "Algiers"), E("Soviet Government", "ORG", SOVGOV),
         ]),
    dict(near=151420, start="**SECRET AND PERSONAL\nTO PRESIDENT ROOSEVELT\nFROM PREMIER STALIN**\n\nThank you for your letter",
         end="December 20, 1943", body="Thank you for your letter, which reached me through your Ambassador",
         sender=STALIN, recipients=[FDR], date="1943-12-20", date_kind="written",
         notes="'your Ambassador' -> ROLE 'Ambassador' = Harriman (U.S. Ambassador in Moscow from Oct 1943). 'in Tehran' read as the city (PLACE).",
         ents=[
             E("ROOSEVELT", "PERSON", FDR), E("STALIN", "PERSON", STALIN),
             E("Ambassador", "ROLE", HARRIMAN),
             E("Tehran", "PLACE", "Tehran"),
         ]),
]


def word_re(s):
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(s) + r"(?![A-Za-z0-9])")


def build():
    messages, mentions, log = [], [], []
    for m in MESSAGES:
        s = TEXT.find(m["start"], max(0, m["near"] - 400))
        assert s >= 0 and abs(s - m["near"]) < 2000, ("start not found", m["start"], s)
        e = TEXT.find(m["end"], s)
        assert e > s, ("end not found", m["end"])
        e += len(m["end"])
        mid = f"m-{s}"
        b = TEXT.find(m["body"], s)
        assert s <= b < e, ("body not found", m["body"])
        ls = TEXT.rfind("\n", 0, b) + 1
        le = TEXT.find("\n", b)
        first_line = TEXT[ls:le].strip()
        rec = {"file": FILE, "id": mid, "start": s, "end": e, "sender": m["sender"],
               "recipients": m["recipients"], "date": m["date"], "date_kind": m["date_kind"]}
        if m.get("sent"):
            rec["sent"] = m["sent"]
        rec["first_line"] = first_line
        if m.get("notes"):
            rec["notes"] = m["notes"]
        messages.append(rec)
        span = TEXT[s:e]
        taken = []  # (start, end)
        # longest surfaces first so nested shorter names are skipped
        ents = sorted(m["ents"], key=lambda x: -len(x["surface"]))
        for ent in ents:
            hits = [(s + h.start(), s + h.end()) for h in word_re(ent["surface"]).finditer(span)]
            if not hits:
                log.append(f"{mid}: NO HIT for {ent['surface']!r}")
                continue
            idx = range(len(hits)) if ent["occ"] is None else ent["occ"]
            for i in idx:
                a, z = hits[i]
                if any(a < tz and ta < z for ta, tz in taken):
                    log.append(f"{mid}: skip nested {ent['surface']!r} at {a} ({TEXT[a-25:z+5]!r})")
                    continue
                taken.append((a, z))
                mentions.append({"file": FILE, "start": a, "end": z, "surface": TEXT[a:z],
                                 "type": ent["type"], "wikipedia": ent["wiki"],
                                 "nil_name": ent["nil"], "uncertain": bool(ent["uncertain"]),
                                 "message": mid})
    mentions.sort(key=lambda r: r["start"])
    return messages, mentions, log


def main():
    msgs, ments, log = build()
    with open(os.path.join(HERE, "messages.jsonl"), "w", encoding="utf-8") as f:
        for r in msgs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(os.path.join(HERE, "mentions.jsonl"), "w", encoding="utf-8") as f:
        for r in ments:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    for line in log:
        print(line, file=sys.stderr)
    print(len(msgs), "messages,", len(ments), "mentions")
    verify()


def verify():
    """Re-read the written files and check every invariant of the guidelines."""
    import collections
    msgs = [json.loads(l) for l in open(os.path.join(HERE, "messages.jsonl"), encoding="utf-8")]
    ments = [json.loads(l) for l in open(os.path.join(HERE, "mentions.jsonl"), encoding="utf-8")]
    errs = []
    byid = {m["id"]: m for m in msgs}
    if len(byid) != len(msgs):
        errs.append("duplicate message id")
    for m in msgs:
        if m["id"] != f"m-{m['start']}":
            errs.append(("id", m["id"]))
        for k in ("sender", "recipients", "date", "date_kind", "first_line"):
            if not m.get(k):
                errs.append(("missing", m["id"], k))
        if m["date_kind"] not in ("written", "sent") or not re.fullmatch(r"\d{4}-\d\d-\d\d", m["date"]):
            errs.append(("date", m["id"]))
        if m["first_line"] not in TEXT[m["start"]:m["end"]]:
            errs.append(("first_line", m["id"]))
    srt = sorted(msgs, key=lambda m: m["start"])
    for a, b in zip(srt, srt[1:]):
        if a["end"] > b["start"]:
            errs.append(("message overlap", a["id"], b["id"]))
    for x in ments:
        m = byid.get(x["message"])
        if not m:
            errs.append(("no message", x)); continue
        if not (m["start"] <= x["start"] < x["end"] <= m["end"]):
            errs.append(("outside message", x))
        if TEXT[x["start"]:x["end"]] != x["surface"]:
            errs.append(("surface", x))
        if x["type"] not in ("PERSON", "ROLE", "PLACE", "EVENT", "OPERATION", "ORG"):
            errs.append(("type", x))
        if x["wikipedia"] is None and not x["nil_name"]:
            errs.append(("nil without nil_name", x))
    ms = sorted(ments, key=lambda x: x["start"])
    for a, b in zip(ms, ms[1:]):
        if a["end"] > b["start"]:
            errs.append(("mention overlap", a, b))
    print("verification errors:", errs if errs else "none")
    print("mentions per type:", dict(collections.Counter(x["type"] for x in ments)))
    print("messages per year:", dict(collections.Counter(m["date"][:4] for m in msgs)))
    if errs:
        sys.exit(1)


if __name__ == "__main__":
    main()
