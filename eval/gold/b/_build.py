#!/usr/bin/env python3
"""Build dev-gold set "b": messages.jsonl + mentions.jsonl.

Annotations are held here as (surface, type, wikipedia, extra) entries per message;
offsets are computed by searching inside the message span (all case-sensitive,
word-bounded occurrences unless `only` restricts them). Longer surfaces are placed
first; an occurrence overlapping an already placed mention is skipped (reported).
Run:  python3 _build.py        (writes the two jsonl files and prints a review)
"""
import json, os, re, sys
from collections import Counter

SEEDS = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'seeds')
OUT = os.path.dirname(os.path.abspath(__file__))
F000 = '000_711442c544e8c87b.txt'
F001 = '001_3885a6e84abb0fe1.txt'
F002 = '002_eb9ade955b06cca9.txt'
F003 = '003_e02371ac7781099f.txt'
F004 = '004_78820021b3d022f1.txt'

TEXT = {}
def text(f):
    if f not in TEXT:
        TEXT[f] = open(os.path.join(SEEDS, f), encoding='utf-8', newline='').read()
    return TEXT[f]

def find_unique(f, s, after=0):
    t = text(f)
    i = t.find(s, after)
    assert i >= 0, (f, s)
    return i

# ---------------------------------------------------------------- entities
STALIN = 'Joseph Stalin'; CHURCHILL = 'Winston Churchill'; FDR = 'Franklin D. Roosevelt'
TRUMAN = 'Harry S. Truman'; ATTLEE = 'Clement Attlee'; HARRIMAN = 'W. Averell Harriman'
MOLOTOV = 'Vyacheslav Molotov'; KERR = 'Archibald Clark Kerr, 1st Baron Inverchapel'
MARSHALL = 'George C. Marshall'; DEANE = 'John R. Deane'; TITO = 'Josip Broz Tito'
ALEX = 'Harold Alexander, 1st Earl Alexander of Tunis'; MONTY = 'Bernard Montgomery'
USSR = 'Soviet Union'; UK = 'United Kingdom'; US = 'United States'
SOVGOV = 'Government of the Soviet Union'; UKGOV = 'Government of the United Kingdom'
PGIE = 'Polish government-in-exile'; PKWN = 'Polish Committee of National Liberation'
SUNRISE = 'Operation Sunrise (World War II)'; EASTF = 'Eastern Front (World War II)'
SUBASIC = 'Ivan Šubašić'; MIKO = 'Stanisław Mikołajczyk'
PAGE_NIL = dict(nil='Edward Page Jr.', unc=True)

# helper constructors --------------------------------------------------------
def P(s, w, **k): return (s, 'PERSON', w, k)
def R(s, w, **k): return (s, 'ROLE', w, k)
def L(s, w, **k): return (s, 'PLACE', w, k)
def E(s, w, **k): return (s, 'EVENT', w, k)
def O(s, w, **k): return (s, 'OPERATION', w, k)
def G(s, w, **k): return (s, 'ORG', w, k)

def hdr_pm_churchill(name='W. CHURCHILL'):
    return [P('J. V. STALIN', STALIN), R('PRIME MINISTER', CHURCHILL), P(name, CHURCHILL)]
def hdr_president_fdr(name='F. ROOSEVELT'):
    return [P('J. V. STALIN', STALIN), R('PRESIDENT', FDR), P(name, FDR)]

MESSAGES = []
def msg(file, start, end, sender, recipients, date, kind, mentions, sent=None, notes=None, exclude=()):
    MESSAGES.append(dict(file=file, start=start, end=end, sender=sender, recipients=recipients,
                         date=date, date_kind=kind, sent=sent, notes=notes, mentions=mentions,
                         exclude=list(exclude)))

def span_001(header_start_str, closing_line, search_from, include_before=None):
    """start = offset of header_start_str (first occurrence at/after search_from);
    end = offset just after closing_line (first occurrence after start)."""
    t = text(F001)
    s = t.find(header_start_str, search_from)
    assert s >= 0, header_start_str
    if include_before is not None:
        s = include_before
    e = t.find(closing_line, s)
    assert e >= 0, closing_line
    return s, e + len(closing_line)

# ================================================================ 001 (book)
# M1 1944-01-07  Overlord, Beaverbrook
s, e = span_001('**PERSONAL AND SECRET\nFROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER, Mr WINSTON CHURCHILL**', 'January 7, 1944', 153090)
msg(F001, s, e, STALIN, [CHURCHILL], '1944-01-07', 'written', [
    P('J. V. STALIN', STALIN), R('PRIME MINISTER', CHURCHILL), P('WINSTON CHURCHILL', CHURCHILL),
    O('Overlord', 'Operation Overlord'),
    G('Polish émigré Government', PGIE),
    P('Beaverbrook', 'Max Aitken, 1st Baron Beaverbrook'),
], notes='Closing bare date "January 7, 1944" (book convention: date closes the message above). '
         'Footnote marker ³⁶ after "Overlord" not annotated. "the South" (direction) not annotated.')

# M2 1944-03-23  Poland / Curzon Line
s, e = span_001('**PERSONAL AND SECRET\nFROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER,\nMr W. CHURCHILL**', 'March 23, 1944', 176640)
msg(F001, s, e, STALIN, [CHURCHILL], '1944-03-23', 'written',
    hdr_pm_churchill() + [
    P('Kerr', KERR), P('V. M. Molotov', MOLOTOV),
    L('Soviet Union', USSR), L('U.S.S.R.', USSR),
    L('Curzon Line', 'Curzon Line'),
    P('Curzon', 'George Curzon, 1st Marquess Curzon of Kedleston'),
    E('Tehran agreement', 'Tehran Conference'),
    E('Tehran', 'Tehran Conference'),
    R('President', FDR),
    G('Soviet Government', SOVGOV),
    G('Polish émigré Government', PGIE),
    G("Poland's émigré Government", PGIE),
    G('Yugoslav émigré Government', 'Yugoslav government-in-exile'),
    G('Supreme Council of the Allied Powers', 'Supreme War Council', unc=True),
    L('Poland', 'Poland'), L('London', 'London'),
    P('Mihajlović', 'Draža Mihailović'),
    G('House of Commons', 'House of Commons of the United Kingdom'),
], notes='Every "Tehran" here denotes the Tehran Conference (metonymy: "at Tehran", "in Tehran", '
         'noun-modifier uses "Tehran stand"/"Tehran standpoint") -> EVENT; "Tehran agreement" one EVENT span. '
         '"Supreme Council of the Allied Powers" (1919) linked to Supreme War Council, uncertain. '
         '"the Polish question", "armistice conference", "peace conferences" not annotated (generic).')

# M3 1944-05-22  Alexander / Overlord
s, e = span_001('**SECRET AND PERSONAL FROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER, Mr W. CHURCHILL**\n\nYour message of May 19', 'May 22, 1944', 186590)
msg(F001, s, e, STALIN, [CHURCHILL], '1944-05-22', 'written',
    hdr_pm_churchill() + [
    P('Lyttelton', 'Oliver Lyttelton, 1st Viscount Chandos'),
    L('Italy', 'Italy'),
    P('Alexander', ALEX),
    O('Overlord', 'Operation Overlord'),
    P('Tito', TITO),
    L('Yugoslavia', 'Yugoslavia'),
], notes='A stray OCR line "c" precedes the header and the page number "113" follows the closing date; both '
         'lie outside the span. "the successful Allied offensive in Italy" not annotated as EVENT (offensive '
         'descriptions are not annotated; see report); "Italy" annotated as PLACE.')

# M4 1944-06-07 (sent)  to Roosevelt, quoting the June 6 message to Churchill
t1 = text(F001)
s = find_unique(F001, 'Sent on June 7, 1944', 189500)
e = find_unique(F001, '"June 6, 1944."', s) + len('"June 6, 1944."')
msg(F001, s, e, STALIN, [FDR], '1944-06-07', 'sent', [
    R('PRESIDENT', FDR), P('F. ROOSEVELT', FDR), P('J. V. STALIN', STALIN),
    P('Churchill', CHURCHILL),
    O('Overlord', 'Operation Overlord'),
    E('Tehran Conference', 'Tehran Conference'),
], notes='Only a "Sent on" line precedes the header; no own written date. The message ends with the quoted '
         'text of the June 6 message to Churchill, whose quoted date line "\\"June 6, 1944.\\"" is part of the '
         'quotation (it closes the span but is not the date of this message). Footnote marker ⁴⁵ after '
         "'Overlord' not annotated. \"Soviet summer offensive\"/\"summer offensive of the Soviet troops\" not "
         'annotated (offensive descriptions skipped).')

# M5 1944-07-23  Lublin / PKWN
s, e = span_001('**SECRET AND PERSONAL FROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER, Mr W. CHURCHILL**\n\nYour message of July 20', 'July 23, 1944', 203550)
msg(F001, s, e, STALIN, [CHURCHILL], '1944-07-23', 'written',
    hdr_pm_churchill() + [
    L('Lublin', 'Lublin'), L('Poland', 'Poland'),
    G('Polish Committee of National Liberation', PKWN),
    G('National Council of Poland', 'State National Council'),
    L('Warsaw', 'Warsaw'),
    R('Ambassador in Moscow', KERR),
    G('Polish Government in London', PGIE),
    G('Polish Committee', PKWN),
    G('Provisional Polish Government', 'Provisional Government of the Republic of Poland', unc=True),
    P('Mikolajczyk', MIKO),
    G('Polish National Committee', PKWN),
], notes='"your Ambassador in Moscow" -> ROLE span "Ambassador in Moscow" (whole NP minus "your"), the British '
         'Ambassador at the date = Clark Kerr. "Provisional Polish Government" is prospective ("may ... constitute '
         'the core of"), linked to the government later formed, uncertain. "a Polish Government" generic, not annotated.')

# M6 1944-08-16  Warsaw Uprising
s, e = span_001('**SECRET AND PERSONAL FROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER, Mr W. CHURCHILL**\n\nAfter a talk with Mr Mikolajczyk', 'August 16, 1944', 215650)
msg(F001, s, e, STALIN, [CHURCHILL], '1944-08-16', 'written',
    hdr_pm_churchill() + [
    P('Mikolajczyk', MIKO),
    G('Red Army', 'Red Army'),
    E('Warsaw affair', 'Warsaw Uprising'), E('Warsaw action', 'Warsaw Uprising'),
    E('Warsaw adventure', 'Warsaw Uprising'),
    L('Warsaw', 'Warsaw'),
    P('Tito', TITO), P('Šubašić', SUBASIC),
    E('Allied landing in Southern France', 'Operation Dragoon'),
], notes='"the Warsaw affair/action/adventure" denote the Warsaw Uprising -> EVENT (place inside not separate); '
         '"the Warsaw area" -> PLACE Warsaw. "Red Army Command": only "Red Army" annotated (ORG). '
         '"Prime Minister Šubašić": title not annotated. "Soviet headquarters" generic.')

# M7 1944-10-19  to Roosevelt after Tolstoy conference
s, e = span_001('SECRET AND PERSONAL FROM PREMIER J. V. STALIN\nTO THE PRESIDENT, Mr F. ROOSEVELT\n\nDuring the stay', 'October 19, 1944', 227730)
msg(F001, s, e, STALIN, [FDR], '1944-10-19', 'written',
    hdr_president_fdr() + [
    P('Churchill', CHURCHILL), P('Eden', 'Anthony Eden'),
    E('Moscow talks', 'Moscow Conference (1944)'),
    L('Moscow', 'Moscow'),
    P('Harriman', HARRIMAN),
    R('Prime Minister', CHURCHILL),
    L('Germany', 'Germany'), L('Balkans', 'Balkans'),
    P('Gromyko', 'Andrei Gromyko'), P('Hopkins', 'Harry Hopkins'),
    L('Black Sea', 'Black Sea'),
    E('Tehran', 'Tehran Conference'),
], notes='Header without ** markup in this part of the OCR. "the Moscow talks" = Fourth Moscow Conference '
         '(article "Moscow Conference (1944)") -> EVENT; "since Tehran" = the Tehran Conference (metonymy). '
         '"Ambassador Harriman"/"Ambassador Gromyko": titles not annotated. "the Polish question" not annotated.')

# M8 1944-11-09  to Churchill: the President has won the election
s, e = span_001('**SECRET AND PERSONAL FROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER, Mr W. CHURCHILL**\n\nThank you for your message of November 5.', 'November 9, 1944', 231800)
msg(F001, s, e, STALIN, [CHURCHILL], '1944-11-09', 'written',
    hdr_pm_churchill() + [
    L('Antwerp', 'Antwerp'), L('Yugoslavia', 'Yugoslavia'),
    P('Subašić', SUBASIC), L('Moscow', 'Moscow'), P('Tito', TITO),
    G('United Yugoslav Government', 'Provisional Government of the Democratic Federal Yugoslavia', unc=True),
    P('Mikolajczyk', MIKO), L('Budapest', 'Budapest'), L('Hungary', 'Hungary'), L('Latvia', 'Latvia'),
    R('President', FDR),
    E('election', '1944 United States presidential election'),
    L('Soviet Union', USSR),
], notes='"Dr. Subašić" as printed (missing caron) -> Ivan Šubašić. "the election" = the 1944 US presidential '
         'election (uniquely identified) -> EVENT. "United Yugoslav Government" is prospective; linked to the '
         'provisional government formed in March 1945, uncertain. "Polish affairs", "the Allies" not annotated.')

# M9 1944-12-14  Tito / torpedo
s, e = span_001('**PERSONAL AND SECRET FROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER, Mr W. CHURCHILL**\n\nI have received your message and the copy of your letter to Marshal Tito.', 'December 14, 1944', 245500)
msg(F001, s, e, STALIN, [CHURCHILL], '1944-12-14', 'written',
    hdr_pm_churchill() + [
    P('Tito', TITO),
    R('Marshal', TITO, nf=' Tito'),
    E('Moscow', 'Moscow Conference (1944)'),
    L('Yugoslavia', 'Yugoslavia'),
    P('Šubašić', SUBASIC),
    L('Britain', UK),
    G('British Military Mission', None, nil='British Military Mission to the Soviet Union', unc=True),
    G('British Admiralty', 'Admiralty (United Kingdom)'),
    L('Soviet Union', USSR),
], notes='"the Marshal\'s views" -> ROLE "Marshal" = Tito (the three "Marshal Tito" are title+name: only "Tito"). '
         '"agreed in Moscow" refers to the October 1944 conference -> EVENT (metonymy, as "at Tehran"). '
         '"the Soviet and British Governments" (coordinated plural) not annotated. "German T5 torpedo" not an entity type.')

# ---- 1945
# M10 1945-01-10  Argonaut / Yalta
s, e = span_001('PERSONAL AND SECRET FROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER, Mr W. CHURCHILL\n\nI agree to the use of "Argonaut"', 'January 10, 1945', 260800)
msg(F001, s, e, STALIN, [CHURCHILL], '1945-01-10', 'written',
    hdr_pm_churchill() + [
    O('Argonaut', 'Yalta Conference'),
    R('President', FDR),
    L('Yalta', 'Yalta'),
], notes='Page number "161" follows the closing date (outside span). "the President" = Roosevelt (before 12 April 1945).')

# M11 1945-03-29  Bern negotiations / Alexander (same text as file 003)
s, e = span_001('**PERSONAL AND SECRET FROM PREMIER J. V. STALIN\nTO THE PRESIDENT, Mr F. ROOSEVELT**\n\nI have analysed the matter', 'March 29, 1945', 273790)
msg(F001, s, e, STALIN, [FDR], '1945-03-29', 'written',
    hdr_president_fdr() + [
    E('Berne negotiations', SUNRISE),
    L('Northern Italy', 'Northern Italy'),
    G('Soviet Government', SOVGOV),
    L('Berne', 'Bern'), L('Caserta', 'Caserta'),
    E('Crimea Conference', 'Yalta Conference'),
    P('Alexander', ALEX),
    L('Königsberg', 'Kaliningrad'), L('Danzig', 'Gdańsk'),
    L('Oder', 'Oder'), L('Germany', 'Germany'),
    E('Eastern Front', EASTF),
], notes='Same message as file 003 (FRUS translation). "the Berne negotiations" = Operation Sunrise/"Crossword" '
         '-> EVENT; "in Berne or in Caserta" -> PLACE. "Soviet Command", "Allied Command", "Soviet Military '
         'Command", "Anglo-American Military Command" not annotated (generic command descriptions). A page break '
         '(blank line) splits "at\\n\\nKönigsberg"; no page number inside the span.')

# M12 1945-03-30  Antonov to Deane, for Marshall
s, e = span_001('COPY. SECRET\n\nTO MAJOR-GENERAL JOHN R. DEANE', 'March 30, 1945', 277000)
msg(F001, s, e, 'Aleksei Antonov', [DEANE], '1945-03-30', 'written', [
    P('JOHN R. DEANE', DEANE),
    R('HEAD OF THE MILITARY MISSION\nOF THE U.S.A. IN THE U.S.S.R.', DEANE),
    P('Deane', DEANE),
    P('Marshall', MARSHALL),
    E('Eastern Front', EASTF),
    L('Pomerania', 'Pomerania'), L('Thorn', 'Toruń'),
    L('Vienna-Moravská Ostrava', None, nil='Vienna–Moravská Ostrava area'),
    L('Moravská Ostrava', 'Ostrava'),
    L('Lódz', 'Łódź'),
    G('6th S.S. Panzer Army', '6th Panzer Army'),
    P('Brinkman', None, nil='Brinkman (British Military Mission)', unc=True),
    R('head of the Army Section of the British Military Mission', None, nil='Brinkman (British Military Mission)', unc=True),
    L('Lake Balaton', 'Lake Balaton'), L('Danube', 'Danube'), L('Budapest', 'Budapest'),
    G('Soviet High Command', 'Stavka'),
    P('ANTONOV', 'Aleksei Antonov'),
    R('Chief of Staff of the Red Army', 'Aleksei Antonov'),
], notes='Not a Stalin message: letter of Army General A. I. Antonov (sender) to Maj.-Gen. John R. Deane '
         '(recipient), to be conveyed to General Marshall (ultimate addressee, not listed as recipient). '
         'Appositive office titles annotated as whole-NP ROLE spans (no nested ORG/PLACE). "Vienna-Moravská '
         'Ostrava area" treated like "Trieste-Istria": one PLACE span, NIL; the second "Moravská Ostrava area" -> Ostrava. '
         '"Soviet Headquarters" generic, not annotated.')

# M13 1945-04-13 (sent)  condolence to Truman
s = find_unique(F001, 'Sent on April 13, 1945', 294100)
e = find_unique(F001, 'J. STALIN', s) + len('J. STALIN')
msg(F001, s, e, STALIN, [TRUMAN], '1945-04-13', 'sent', [
    P('TRUMAN', TRUMAN),
    L('Washington', 'Washington, D.C.'),
    G('Soviet Government', SOVGOV),
    G('Government of the United States of America', 'Federal government of the United States'),
    P('Franklin Roosevelt', FDR), P('Roosevelt', FDR),
    G('United Nations', 'Allies of World War II', unc=True),
    G('Government of the Soviet Union', SOVGOV),
    P('J. STALIN', STALIN),
], notes='Sent-only date; closed by the signature "J. STALIN" (the next message begins without a date line). '
         '"FOR PRESIDENT TRUMAN": title + name, only "TRUMAN" annotated. "the United Nations" (April 1945, before '
         'the UN Charter) = the wartime alliance, linked to Allies of World War II, uncertain.')

# M14 1945-04-26  Crossword
s, e = span_001('PERSONAL AND SECRET FROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER, Mr W. CHURCHILL\n\nYour message on "Crossword"', 'April 26, 1945', 306750)
msg(F001, s, e, STALIN, [CHURCHILL], '1945-04-26', 'written',
    hdr_pm_churchill() + [
    O('Crossword', SUNRISE),
    P('Kislenko', None, nil='Aleksei Kislenko', unc=True),
    G('Soviet Government', SOVGOV),
    G('Advisory Council for Italy', None, nil='Advisory Council for Italy', unc=True),
    P('Alexander', ALEX),
    L('Northern Italy', 'Northern Italy'),
], notes='"Crossword" = British code name for the Bern surrender negotiations (article "Operation Sunrise (World '
         'War II)"). "Soviet Military Command" not annotated (generic). Kislenko and the Advisory Council for Italy: '
         'no article confirmed -> NIL, uncertain.')

# M15 1945-06-05  "the President" = Truman
s, e = span_001('**SECRET AND PERSONAL FROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER, Mr W. CHURCHILL**\n\nWith reference to your message', 'June 5, 1945', 352400)
msg(F001, s, e, STALIN, [CHURCHILL], '1945-06-05', 'written',
    hdr_pm_churchill() + [
    P('Truman', TRUMAN),
    R('President', TRUMAN, nf=' Truman'),
], notes='"President Truman" = title + name (PERSON "Truman" only); "the President" -> ROLE = Truman (after 12 April 1945). '
         '"our meeting"/"the meeting of the three of us" (future Potsdam Conference) not annotated (generic).')

# M16 1945-07-06  Terminal
s, e = span_001('**PERSONAL AND SECRET FROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER, Mr W. CHURCHILL**\n\nYour message of July 4 received.', 'July 6, 1945', 367830)
msg(F001, s, e, STALIN, [CHURCHILL], '1945-07-06', 'written',
    hdr_pm_churchill() + [
    O('Terminal', 'Potsdam Conference'),
])

# M17 1945-08-07  Attlee
s, e = span_001('**PERSONAL AND SECRET FROM PREMIER J. V. STALIN\nTO THE PRIME MINISTER, Mr C. ATTLEE**', 'August 7, 1945', 370100)
msg(F001, s, e, STALIN, [ATTLEE], '1945-08-07', 'written', [
    P('J. V. STALIN', STALIN), R('PRIME MINISTER', ATTLEE), P('C. ATTLEE', ATTLEE),
    R('British Ambassador in Moscow', KERR),
    P('V. M. Molotov', MOLOTOV),
    L('Great Britain', UK),
], notes='Prime Minister after 26 July 1945 = Attlee. "the British Ambassador in Moscow" (Aug 1945) = Clark Kerr '
         '(ambassador until early 1946); whole NP as ROLE span.')

# M18 1945-09-24 (sent)  Attlee, Council of Foreign Ministers
s = find_unique(F001, 'Sent on September 24, 1945', 374800)
e = find_unique(F001, 'or offend anyone.', s) + len('or offend anyone.')
msg(F001, s, e, STALIN, [ATTLEE], '1945-09-24', 'sent', [
    P('J. V. STALIN', STALIN), R('PRIME MINISTER', ATTLEE), P('ATTLEE', ATTLEE),
    G('Council of Foreign Ministers', 'Council of Foreign Ministers'),
    G('Council of Ministers', 'Council of Foreign Ministers'),
    P('V. M. Molotov', MOLOTOV),
    E('Berlin Conference', 'Potsdam Conference'),
], notes='Only a "Sent on" line (the bare "August 22, 1945" above it closes the previous message); the span ends at '
         'the last sentence because the next message follows without a date line. "the Conference" (anaphoric) not '
         'annotated. "Council of Ministers" = the Council of Foreign Ministers.')

# ================================================================ 000 (Wilson Center memcon)
t0 = text(F000)
m1s = find_unique(F000, 'June 26, 1944')
m1e = find_unique(F000, '3 copies to Ambassador') + len('3 copies to Ambassador')
m2s = find_unique(F000, 'TOP SECRET', find_unique(F000, 'S_{10}'))
m2e = t0.rfind('3 copies to Ambassador') + len('3 copies to Ambassador')

CIT000 = (find_unique(F000, 'Citation:'), find_unique(F000, 'Summary:'))
STAMP000 = (find_unique(F000, 'Diversion of the Property'), find_unique(F000, 'European Advisory Commission', find_unique(F000, 'Diversion of the Property')))
GERMAN_ARMY = G('German Army', None, nil='German Army (1935–1945)', unc=True)
common000 = [
    R('American Ambassador', HARRIMAN),
    P('Harriman', HARRIMAN),
    P('Edward Page', None, **PAGE_NIL),
    R('Second Secretary of Embassy', None, **PAGE_NIL),
    P('I. V. Stalin', STALIN),
    R("People's Commissar for Foreign Affairs", MOLOTOV),
    P('Pavlov', None, nil='Vladimir Pavlov (interpreter)', unc=True),
    P('Stalin', STALIN),
    E('Tehran', 'Tehran Conference'),
    E('invasion of Europe', 'Operation Overlord'),
    R('President', FDR),
    P('Marshall', MARSHALL),
    P('Eisenhower', 'Dwight D. Eisenhower'),
    P('Deane', DEANE),
    R('Marshal', STALIN, nf=r' (I\.|Stalin)'),
    P('Churchill', CHURCHILL),
    G('European Advisory Commission', 'European Advisory Commission'),
    L('Germany', 'Germany'),
    E('defeat of France', 'Battle of France'),
    R('Prime Minister', CHURCHILL, nf=' Churchill'),
    L('North Africa', 'North Africa'),
    L('Pacific', 'Pacific Ocean'),
]
msg(F000, m1s, m1e, HARRIMAN, [DEANE], '1944-06-26', 'written',
    [P('V. H. Molotov', MOLOTOV), R('Fresident', FDR), P('Deano', DEANE), R('Ambassador', HARRIMAN, only=[1]),
     GERMAN_ARMY] + common000,
    notes='File 000 annotated as TWO messages: this one = title + summary + OCR rendition of the scan (from the '
          'top date line to "3 copies to Ambassador"); the second = the clean transcript. Sender = Harriman (the '
          'first-person narrator; drafted by E. Page, initials "EP"/OCR "DP"); recipient = distribution list '
          '("copy to General Deane", 3 copies to the Ambassador himself). Not annotated: the Citation block, URL, '
          'repository lines, archival stamps and OCR noise ("4 6-26", "26.166", "axcise as thown", "Container 173 '
          'L. A. Harrison paper (4) LOC", "Harristics Fe Conversation", "AC. 14)", the mid-page stamp "Diversion '
          'of the Property ... Library of Congress ... ACDCISH by///50 -2-"), "DP:nn", "Conoral". OCR damage '
          'annotated as written: "V. H. Molotov", "Fresident", "Deano". "Russian offensive"/"Soviet offensive" '
          '(= Operation Bagration) not annotated (offensive descriptions skipped); bare "the invasion" (anaphoric) '
          'not annotated. "Soviet interpreter" not a ROLE (occupational description). "German army"/"French army" '
          '(lower case) not annotated; "German Army" in the summary -> ORG NIL.',
    exclude=[CIT000, STAMP000])
msg(F000, m2s, m2e, HARRIMAN, [DEANE], '1944-06-26', 'written',
    [P('V. M. Molotov', MOLOTOV), R('Ambassador', HARRIMAN, only=[1])] + common000,
    notes='Second rendition (transcript) of the same memorandum; date taken from the document header (1944-06-26). '
          '"Copy to General Deane 3 copies to Ambassador" distribution line annotated (Deane PERSON, Ambassador ROLE). '
          '"[sic]", "EP:nn", checkbox glyphs not annotated. The OCR artefact "S_{10}" between the two renditions '
          'belongs to neither message.')

# ================================================================ 002 (FO telegram 1947)
s2 = find_unique(F002, 'January 17, 1947')
e2 = find_unique(F002, '(This telegram has also been distributed to members of the Cabinet.)')
e2 += len('(This telegram has also been distributed to members of the Cabinet.)')
msg(F002, s2, e2, 'Foreign Office', ['Embassy of the United Kingdom, Washington, D.C.'], '1947-01-17', 'written', [
    L('Washington', 'Washington, D.C.'), L('WASHINGTON', 'Washington, D.C.'),
    P('Montgomery', MONTY), P('Stalin', STALIN),
    G('FOREIGN OFFICES', 'Foreign Office'),
    L('Moscow', 'Moscow'), L('Paris', 'Paris'),
    R('C.I.G.S.', MONTY),
    L('Russia', USSR),
    G('Red Army', 'Red Army'),
    G('British Army', 'British Army'),
    L('England', UK),
    L('United States', US),
    L('Soviet Union', USSR),
    G("His Majesty's Government", UKGOV),
    R('Field Marshal', MONTY, nf=' Montgomery'),
    L('Great Britain', UK), L('U.S.A.', US),
    L('France', 'France'),
    P('Churchill', CHURCHILL),
    L('Britain', UK),
    E('Anglo-Soviet Treaty of Alliance', 'Anglo-Soviet Treaty of 1942'),
    L('Germany', 'Germany'),
    G('League of Nations', 'League of Nations'),
    G('U.N.O.', 'United Nations'),
    R('Prime Minister', ATTLEE),
    G('Combined Chiefs-of-Staff Organisation', 'Combined Chiefs of Staff'),
    G('Combined-Chiefs-of-Staff Organisation', 'Combined Chiefs of Staff'),
    L('Kremlin', 'Moscow Kremlin'),
    P('Marshall', MARSHALL, nf=' Montgomery'),
    G('Cabinet', 'Cabinet of the United Kingdom'),
], sent='1947-01-17',
   notes='Sender: the Foreign Office (the 1782–1968 department; article "Foreign Office"); recipient: the British '
         'Embassy in Washington (telegram "FROM FOREIGN OFFICES TO WASHINGTON"; article "Embassy of the United '
         'Kingdom, Washington, D.C."). Repeat addressees (Moscow, Paris) not listed as recipients. Written date = '
         '"17th January 1947"; sent = despatch line "D. 5.25 17th January 1947". Span from the top date line to the '
         'Cabinet distribution note; the title (twice) and the summary are annotated; the Citation block is not. '
         'City names in address lines ("WASHINGTON", "Moscow", "Paris") annotated as PLACE (city) although they '
         'stand for the missions. "UK-USSR", "US-UK" (adjectival compounds) not annotated. "Field Marshall '
         'Montgomery" (OCR spelling) -> "Montgomery". C.I.G.S. in January 1947 = Montgomery. "the Prime '
         'Minister" (1947) = Attlee. "General Marshall had become Secretary of State": predicative office not '
         'annotated. "Anglo-Soviet Treaty of Alliance of 1943" (sic, the 1942 treaty): span excludes "of 1943"; '
         '"the Treaty" (anaphoric) not annotated. "head of the British Army" (predicative) not a ROLE.',
   exclude=[(find_unique(F002, 'Citation:'), find_unique(F002, 'Summary:'))])

# ================================================================ 003 (FRUS, Stalin to Roosevelt)
s3 = find_unique(F003, 'The Chairman of the Council')
e3 = find_unique(F003, 'secrets from each other.') + len('secrets from each other.')
msg(F003, s3, e3, STALIN, [FDR], '1945-03-29', 'written', [
    R('Chairman of the Council of Peopled Commissars of the Soviet Union', STALIN),
    P('Stalin', STALIN), P('Roosevelt', FDR),
    G('Soviet Government', SOVGOV),
    E('discussions in Bern', SUNRISE),
    L('Bern', 'Bern'), L('Caserta', 'Caserta'),
    L('Northern Italy', 'Northern Italy'),
    E('Crimea Conference', 'Yalta Conference', fn=True),
    P('Alexander', ALEX),
    L('Koenigsberg', 'Kaliningrad'), L('Danzig', 'Gdańsk'),
    L('Oder', 'Oder'), L('Germany', 'Germany'),
    E('Eastern front', EASTF),
], notes='The text carries no date. It is the FRUS translation of the message the book (001) prints with the '
         'closing date "March 29, 1945" (reply to Roosevelt\'s letter of March 24/25; the brief\'s "April 1945" '
         'does not match the content) -> date 1945-03-29, inferred. Footnote markers ("75" in the header, '
         '"76" after "Crimea Conference"), "[Page 740]" and the two footnotes after the body are apparatus: '
         'footnotes excluded from the span, markers inside it not annotated. "President Roosevelt": title + name. '
         '"Field-Marshal Alexander" -> "Alexander". "the discussions in Bern" -> EVENT (Bern negotiations); "in Bern '
         'or Caserta" -> PLACE. Command descriptions ("Soviet Command", "Allied Command", ...) not annotated.')

# ================================================================ 004 (FRUS, Harriman telegram)
s4 = find_unique(F004, '711.62114/9–2444: Telegram')
e4 = find_unique(F004, '\nHarriman\n') + len('\nHarriman')
DEPT = 'United States Department of State'
msg(F004, s4, e4, HARRIMAN, ['Cordell Hull'], '1944-09-24', 'sent', [
    R('Ambassador in the Soviet Union', HARRIMAN),
    P('Harriman', HARRIMAN),
    R('Secretary of State', 'Cordell Hull'),
    G('Dept', DEPT),
    G('British Embassy in Moscow', 'Embassy of the United Kingdom, Moscow'),
    G('Commissariat for Foreign Affairs', "People's Commissariat for Foreign Affairs"),
    G('British Foreign Office', 'Foreign Office'),
    G('Soviet Embassy in London', 'Embassy of Russia, London'),
    L('France', 'France'), L('United Kingdom', UK),
    G('British Embassy', 'Embassy of the United Kingdom, Moscow'),
    L('London', 'London'),
    R('British Ambassador', KERR),
    G('Foreign Office', 'Foreign Office'),
    R('British Resident Minister in Cairo', 'Walter Guinness, 1st Baron Moyne'),
    P('Moyne', 'Walter Guinness, 1st Baron Moyne', fn=True),
    G('Middle East command', 'Middle East Command'),
    L('Middle East', 'Middle East'),
    G('Soviet Government', SOVGOV),
    G('Department', DEPT),
    G('Combined Chiefs of Staff', 'Combined Chiefs of Staff'),
    G('Combined Chiefs', 'Combined Chiefs of Staff'),
    G('British Government', UKGOV),
], notes='Span from the FRUS file line "711.62114/9–2444: Telegram" to the signature "Harriman"; the three '
         'footnotes after the signature (Moyne, Gore-Booth, British memorandum) are apparatus and excluded. Date '
         '1944-09-24 from the file number 9–2444 (telegram, treated as sent date). Recipient: the Secretary of '
         'State in Sept. 1944 = Cordell Hull. "ReDept’s" -> ORG "Dept" (Department of State); "the Department" '
         'likewise. "British Embassy here" = in Moscow. "Lord Moyne66": span "Moyne" (footnote marker 66 excluded). '
         'Footnote markers 67, 68 and "[Page 1254]" not annotated. "Soviet authorities", "Russians" not annotated.')

# ---------------------------------------------------------------- placement
WORD = r'[0-9A-Za-zÀ-ÿĀ-ž]'
def place(m):
    t = text(m['file'])
    S, Eend = m['start'], m['end']
    placed = []   # (start,end,rec)
    skipped = []
    ents = sorted(m['mentions'], key=lambda x: -len(x[0]))
    for surf, typ, wiki, k in ents:
        rb = r'[A-Za-zÀ-ÿĀ-ž]' if k.get('fn') else WORD   # fn: a footnote number may follow
        pat = r'(?<!' + WORD + r')' + re.escape(surf) + r'(?!' + rb + r')'
        # allow "Dept" inside "ReDept’s": explicit opt-out of left boundary
        if k.get('inword'):
            pat = re.escape(surf)
        if k.get('nf'):
            pat += '(?!' + k['nf'] + ')'
        occ = [mm for mm in re.finditer(pat, t[S:Eend])
               if not any(xa <= S + mm.start() < xb for xa, xb in m.get('exclude', []))]
        if surf == 'Dept':
            occ = [mm for mm in re.finditer(re.escape(surf), t[S:Eend])]
        only = k.get('only')
        idxs = range(len(occ)) if only is None else only
        found = 0
        for i in idxs:
            mm = occ[i]
            a, b = S + mm.start(), S + mm.end()
            if any(not (b <= pa or a >= pb) for pa, pb, _ in placed):
                skipped.append((surf, a))
                continue
            rec = dict(file=m['file'], start=a, end=b, surface=t[a:b], type=typ, wikipedia=wiki,
                       nil_name=k.get('nil') if wiki is None else None,
                       uncertain=bool(k.get('unc', False)), message='m-%d' % m['start'])
            placed.append((a, b, rec)); found += 1
        if found == 0:
            print('WARNING no occurrence placed:', m['file'], m['start'], repr(surf), file=sys.stderr)
    placed.sort(key=lambda x: x[0])
    return [r for _, _, r in placed], skipped

def main(review=True):
    msgs_out, ments_out = [], []
    for m in MESSAGES:
        t = text(m['file'])
        first_line = t[m['start']:m['end']].split('\n', 1)[0]
        rec = dict(file=m['file'], id='m-%d' % m['start'], start=m['start'], end=m['end'],
                   sender=m['sender'], recipients=m['recipients'], date=m['date'], date_kind=m['date_kind'])
        if m['sent']:
            rec['sent'] = m['sent']
        rec['first_line'] = first_line
        if m['notes']:
            rec['notes'] = m['notes']
        msgs_out.append(rec)
        ms, skipped = place(m)
        ments_out.extend(ms)
        if review:
            print('=' * 100)
            print(rec['id'], m['file'], m['date'], repr(first_line))
            if skipped:
                print('  skipped (overlap):', skipped)
            # bracketed text
            out, pos = [], m['start']
            for r in ms:
                out.append(t[pos:r['start']]); out.append('[' + r['surface'] + '|' + r['type'][:3] + ']'); pos = r['end']
            out.append(t[pos:m['end']])
            print(''.join(out))
    with open(os.path.join(OUT, 'messages.jsonl'), 'w', encoding='utf-8') as f:
        for r in msgs_out:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    with open(os.path.join(OUT, 'mentions.jsonl'), 'w', encoding='utf-8') as f:
        for r in ments_out:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    print('messages', len(msgs_out), 'mentions', len(ments_out))
    print(Counter(r['type'] for r in ments_out))

def verify():
    """Re-read the written jsonl files and check them against the seed texts."""
    M = [json.loads(l) for l in open(os.path.join(OUT, 'messages.jsonl'), encoding='utf-8')]
    N = [json.loads(l) for l in open(os.path.join(OUT, 'mentions.jsonl'), encoding='utf-8')]
    errors = []
    byid = {}
    for m in M:
        key = (m['file'], m['id'])
        if key in byid: errors.append(('duplicate message', key))
        byid[key] = m
        t = text(m['file'])
        if m['id'] != 'm-%d' % m['start']: errors.append(('bad id', key))
        if not (0 <= m['start'] < m['end'] <= len(t)): errors.append(('bad span', key))
        if not m.get('sender') or not m.get('recipients') or not all(m['recipients']): errors.append(('no sender/recipients', key))
        if not m.get('date') or not re.fullmatch(r'\d{4}-\d{2}-\d{2}', m['date']): errors.append(('no date', key))
        if m.get('date_kind') not in ('written', 'sent'): errors.append(('date_kind', key))
        if 'sent' in m and not re.fullmatch(r'\d{4}-\d{2}-\d{2}', m['sent']): errors.append(('sent', key))
        if m['first_line'] != t[m['start']:m['end']].split('\n', 1)[0]: errors.append(('first_line', key))
    # message spans must not overlap within a file
    for f in set(m['file'] for m in M):
        sp = sorted((m['start'], m['end']) for m in M if m['file'] == f)
        for (a1, b1), (a2, b2) in zip(sp, sp[1:]):
            if a2 < b1: errors.append(('overlapping messages', f, a1, a2))
    TYPES = {'PERSON', 'ROLE', 'PLACE', 'EVENT', 'OPERATION', 'ORG'}
    per_msg = {}
    for n in N:
        t = text(n['file'])
        m = byid.get((n['file'], n['message']))
        if m is None: errors.append(('mention without message', n)); continue
        if t[n['start']:n['end']] != n['surface']: errors.append(('surface mismatch', n))
        if not (m['start'] <= n['start'] < n['end'] <= m['end']): errors.append(('outside message', n))
        if n['type'] not in TYPES: errors.append(('type', n))
        if n['wikipedia'] is None and not n.get('nil_name'): errors.append(('NIL without nil_name', n))
        if n['wikipedia'] is not None and n.get('nil_name') is not None: errors.append(('both link and nil', n))
        if set(n) != {'file', 'start', 'end', 'surface', 'type', 'wikipedia', 'nil_name', 'uncertain', 'message'}:
            errors.append(('keys', n))
        per_msg.setdefault((n['file'], n['message']), []).append(n)
    for key, ns in per_msg.items():
        ns = sorted(ns, key=lambda x: x['start'])
        for x, y in zip(ns, ns[1:]):
            if y['start'] < x['end']: errors.append(('overlapping mentions', x, y))
    for key in byid:
        if key not in per_msg: errors.append(('message without mentions', key))
    print('VERIFY:', 'OK' if not errors else '%d ERRORS' % len(errors))
    for e in errors[:50]: print('  ', e)
    print('messages:', len(M), ' mentions:', len(N))
    print('mentions per type:', dict(sorted(Counter(n['type'] for n in N).items())))
    print('mentions per file:', dict(sorted(Counter(n['file'][:3] for n in N).items())))
    print('NIL:', sum(n['wikipedia'] is None for n in N), ' uncertain:', sum(n['uncertain'] for n in N))
    return not errors

if __name__ == '__main__':
    main(review='-q' not in sys.argv)
    ok = verify()
    sys.exit(0 if ok else 1)
