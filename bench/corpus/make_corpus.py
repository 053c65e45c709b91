"""Writes the false-positive corpus: ordinary contact-center text with no card number in it.

    .venv/bin/python bench/corpus/make_corpus.py

Every line is something a customer, a rep or a pasted document says in a contact center: order
numbers, dates and times, amounts, phone numbers, tracking numbers (USPS with a valid check
digit, UPS, FedEx, DHL), account and routing numbers, IBANs (valid MOD 97), invoice tables,
addresses. None holds a payment card number, so redaction should change none of them; the share
it does change is the false-positive rate that bench/redaction_fp.py reports.

Two halves from two seeds: heldout.txt (seed 2026) was written and committed before the
redaction rules were tuned and is only measured; tune.txt (seed 7) is the one looked at while
tuning.
"""

import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LINES_PER_HALF = 1500

FIRST = ["Maria", "James", "Aiko", "Pierre", "Fatima", "Liam", "Sofia", "Noah", "Chen", "Olga"]
LAST = ["Garcia", "Smith", "Tanaka", "Dubois", "Khan", "Murphy", "Rossi", "Brown", "Li", "Ivanova"]
STREETS = ["Main St", "Oak Avenue", "Rue de la Paix", "High Street", "Elm Rd", "Hauptstraße"]
CITIES = ["Springfield, IL", "Austin, TX", "Portland, OR", "Columbus, OH", "Denver, CO"]
PRODUCTS = ["Widget A", "USB-C cable", "Router X2", "Phone case", "Blender 600W", "SIM card"]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
IBAN_SHAPES = {  # country: BBAN as (kind, length) pieces; n = digits, a = capital letters
    "DE": [("n", 18)],
    "GB": [("a", 4), ("n", 14)],
    "FR": [("n", 23)],
    "NL": [("a", 4), ("n", 10)],
    "ES": [("n", 20)],
    "IT": [("a", 1), ("n", 22)],
    "BE": [("n", 12)],
    "CH": [("n", 17)],
    "PL": [("n", 24)],
    "AT": [("n", 16)],
}


def n(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(length))


def nz(rng: random.Random, length: int) -> str:
    return rng.choice("123456789") + n(rng, length - 1)


def groups(value: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(value[i : i + size] for i in range(0, len(value), size))


def iban(rng: random.Random, spaced: bool) -> str:
    country = rng.choice(sorted(IBAN_SHAPES))
    bban = "".join(
        n(rng, length)
        if kind == "n"
        else "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(length))
        for kind, length in IBAN_SHAPES[country]
    )
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = f"{98 - int(numeric) % 97:02d}"
    value = country + check + bban
    return groups(value) if spaced else value


def usps(rng: random.Random) -> str:
    body = rng.choice(["9400", "9205", "9261", "9270", "9302", "9405", "9505"]) + n(rng, 17)
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    number = body + str((10 - total % 10) % 10)
    return rng.choice([number, groups(number), groups(number, sep="  ")])


def phone(rng: random.Random) -> str:
    a, b, c = nz(rng, 3), nz(rng, 3), n(rng, 4)
    return rng.choice(
        [
            f"({a}) {b}-{c}",
            f"{a}-{b}-{c}",
            f"{a}.{b}.{c}",
            f"+1 {a} {b} {c}",
            f"1-800-{b}-{c}",
            f"+44 20 {n(rng, 4)} {n(rng, 4)}",
            f"07700 {n(rng, 6)}",
            f"0{rng.randint(1, 9)} {n(rng, 2)} {n(rng, 2)} {n(rng, 2)} {n(rng, 2)}",
            f"+33 {rng.randint(1, 7)} {n(rng, 2)} {n(rng, 2)} {n(rng, 2)} {n(rng, 2)}",
            f"+49 30 {n(rng, 8)}",
            f"0{rng.randint(30, 89)} {n(rng, 7)}",
            f"+1{a}{b}{c}",
        ]
    )


def date(rng: random.Random) -> str:
    y, m, d = rng.randint(2019, 2027), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        [
            f"{y}-{m:02d}-{d:02d}",
            f"{m:02d}/{d:02d}/{y}",
            f"{d:02d}.{m:02d}.{y}",
            f"{d:02d}/{m:02d}/{y}",
            f"{MONTHS[m - 1]} {d}, {y}",
            f"{d} {MONTHS[m - 1]} {y}",
            f"{y}-{m:02d}-{d:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
            f"{y}-{m:02d}-{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
            f"{m}/{d}/{y % 100:02d}",
        ]
    )


def time_of_day(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
            f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d} pm",
            f"{rng.randint(1, 12)}am",
        ]
    )


def amount(rng: random.Random) -> str:
    whole, cents = rng.randint(1, 25000), rng.randint(0, 99)
    return rng.choice(
        [
            f"${whole:,}.{cents:02d}",
            f"{whole}.{cents:02d} USD",
            f"€{whole},{cents:02d}",
            f"{whole:,}.{cents:02d}".replace(",", " ") + " EUR",
            f"£{whole}.{cents:02d}",
            f"${whole}",
        ]
    )


def order(rng: random.Random) -> str:
    return rng.choice(
        [
            f"#{nz(rng, rng.randint(4, 6))}",
            f"{nz(rng, 3)}-{n(rng, 7)}-{n(rng, 7)}",  # marketplace style, 17 digits
            f"ORD-{rng.randint(2020, 2026)}-{n(rng, 6)}",
            nz(rng, rng.randint(8, 10)),
            f"W{n(rng, 9)}",
            f"{rng.randint(2020, 2026)}{n(rng, 8)}",
        ]
    )


def tracking(rng: random.Random) -> str:
    return rng.choice(
        [
            usps(rng),
            usps(rng),
            "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16)),
            groups(nz(rng, 12)),  # FedEx Express
            nz(rng, 15),  # FedEx Ground
            "96" + n(rng, 20),  # FedEx SmartPost / Ground 96
            n(rng, 10),  # DHL Express
            f"JJD{n(rng, 18)}",
            f"{rng.choice(['LX', 'RR', 'CP', 'AB'])}{n(rng, 9)}{rng.choice(['GB', 'US', 'DE', 'FR'])}",
        ]
    )


def account(rng: random.Random) -> str:
    return rng.choice(
        [
            n(rng, rng.randint(8, 12)),
            f"{n(rng, 4)}-{n(rng, 4)}-{n(rng, 2)}",
            f"CUST-{n(rng, 8)}",
            f"{nz(rng, 2)} {n(rng, 4)} {n(rng, 4)}",
            f"{n(rng, 3)}-{n(rng, 6)}",
            nz(rng, rng.randint(5, 7)),
        ]
    )


def invoice_row(rng: random.Random) -> str:
    qty = rng.randint(1, 40)
    unit = rng.randint(100, 99999) / 100
    sku = f"{rng.choice(['SKU', 'ART', 'P'])}-{n(rng, rng.randint(4, 6))}"
    line = rng.randint(1, 30)
    cells = rng.choice(
        [
            [str(line), sku, rng.choice(PRODUCTS), str(qty), f"{unit:.2f}", f"{qty * unit:.2f}"],
            [f"INV-{n(rng, 5)}", date(rng), str(qty), f"{unit:.2f}", f"{qty * unit:.2f}"],
            [str(line), str(qty), f"{unit:.2f}", f"{qty * unit:.2f}"],
            [nz(rng, 5), str(qty), f"{unit:,.2f}", f"{qty * unit:,.2f}"],
            [date(rng), f"INV-{n(rng, 6)}", amount(rng), rng.choice(["paid", "open", "overdue"])],
            [
                str(line),
                nz(rng, 6),
                str(qty),
                f"{unit:.2f}".replace(".", ","),
                f"{qty * unit:.2f}".replace(".", ","),
            ],
        ]
    )
    sep = rng.choice([" | ", "  ", "\t", "   ", " ; ", ", ", "    "])
    row = sep.join(cells)
    return f"| {row} |" if sep == " | " and rng.random() < 0.5 else row


SENTENCES = [
    lambda r: f"Hi, I placed order {order(r)} on {date(r)} and it still hasn't arrived.",
    lambda r: f"My order number is {order(r)}, placed {date(r)} at {time_of_day(r)}.",
    lambda r: f"Tracking number {tracking(r)} shows delivered but nothing is here.",
    lambda r: f"USPS tracking: {usps(r)}",
    lambda r: f"The label says {usps(r)}, shipped {date(r)}.",
    lambda r: f"Please call me back at {phone(r)} after {time_of_day(r)}.",
    lambda r: f"You can reach me on {phone(r)} or {phone(r)}.",
    lambda r: f"tel: {phone(r)} / {phone(r)}",
    lambda r: f"I was charged {amount(r)} twice on {date(r)}.",
    lambda r: f"Refund of {amount(r)} for invoice INV-{n(r, 6)} issued {date(r)}.",
    lambda r: f"Account number {account(r)}, customer since {date(r)}.",
    lambda r: f"Routing {n(r, 9)}, account {n(r, r.randint(8, 12))}.",
    lambda r: f"Please transfer it to my IBAN {iban(r, True)}.",
    lambda r: (
        f"IBAN: {iban(r, r.random() < 0.5)} BIC: {r.choice(['DEUTDEFF', 'BNPAFRPP', 'NWBKGB2L', 'INGBNL2A'])}"
    ),
    lambda r: f"Bank details {iban(r, False)}, reference {order(r)}",
    lambda r: invoice_row(r),
    lambda r: invoice_row(r),
    lambda r: invoice_row(r),
    lambda r: f"Ticket #{n(r, 6)} opened {date(r)} {time_of_day(r)}, escalated {date(r)}.",
    lambda r: f"Ship to {r.randint(1, 9999)} {r.choice(STREETS)}, {r.choice(CITIES)} {n(r, 5)}",
    lambda r: (
        f"{r.choice(FIRST)} {r.choice(LAST)}, {r.randint(1, 999)} {r.choice(STREETS)}, {r.choice(CITIES)} {n(r, 5)}-{n(r, 4)}"
    ),
    lambda r: f"Card ending in {n(r, 4)} was declined on {date(r)}.",
    lambda r: f"Paid with Visa **** **** **** {n(r, 4)} on {date(r)}.",
    lambda r: f"Call ID {r.randint(2024, 2026)}{n(r, 2)}{n(r, 2)}-{n(r, 6)} at {time_of_day(r)}",
    lambda r: (
        f"Serial {r.choice('ABCDEFGH')}{n(r, 2)}{r.choice('XYZ')}{n(r, 6)}, firmware v{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 99)}"
    ),
    lambda r: (
        f"The router at 192.168.{r.randint(0, 255)}.{r.randint(1, 254)} reboots every {r.randint(2, 59)} minutes."
    ),
    lambda r: f"Meter reading {n(r, 6)} on {date(r)}, previous {n(r, 6)}.",
    lambda r: (
        f"Policy {r.choice('ABC')}{r.choice('XYZ')}-{n(r, 8)} renews {date(r)} for {amount(r)}."
    ),
    lambda r: (
        f"Flight {r.choice(['UA', 'LH', 'AF', 'BA'])}{r.randint(10, 9999)} on {date(r)}, booking {r.choice('ABCDEFGHJK')}{r.choice('LMNPQR')}{n(r, 1)}{r.choice('STUVWX')}{n(r, 2)}."
    ),
    lambda r: f"Membership no. {n(r, 10)}, points balance {r.randint(0, 99999):,}.",
    lambda r: (
        f"Between {date(r)} and {date(r)} I called {r.randint(2, 12)} times, waited {r.randint(5, 95)} minutes each."
    ),
    lambda r: f"{date(r)} {time_of_day(r)} {amount(r)} {r.choice(['debit', 'credit', 'fee'])}",
    lambda r: f"Order {order(r)}, {order(r)} and {order(r)} were all late.",
    lambda r: f"Return label {tracking(r)} for RMA {n(r, 8)}.",
    lambda r: (
        f"Invoice {n(r, 8)} dated {date(r)}: subtotal {amount(r)}, VAT {amount(r)}, total {amount(r)}."
    ),
    lambda r: (
        f"Customer {r.choice(FIRST)} {r.choice(LAST)} ({phone(r)}) asked about order {order(r)}."
    ),
    lambda r: f"Your case {n(r, 8)} was updated on {date(r)}.",
    lambda r: f"Contract {n(r, 4)}/{n(r, 4)}/{n(r, 2)} from {date(r)}",
    lambda r: (
        f"Quantity {r.randint(1, 500)}, unit price {amount(r)}, discount {r.randint(1, 50)}%."
    ),
    lambda r: "Thanks for your help today, everything works now.",
    lambda r: "I have been waiting for weeks and nobody answers my emails.",
    lambda r: f"Delivery window {date(r)} {time_of_day(r)}-{time_of_day(r)}",
    lambda r: f"{phone(r)}\n{date(r)}",
    lambda r: f"Ref. {order(r)}\nTracking {tracking(r)}",
]


def write(path: Path, seed: int) -> None:
    rng = random.Random(seed)
    lines: list[str] = []
    while len(lines) < LINES_PER_HALF:
        # A sentence with a line break inside is two lines of the file (a two-line email).
        lines.extend(rng.choice(SENTENCES)(rng).split("\n"))
    path.write_text("\n".join(lines[:LINES_PER_HALF]) + "\n", encoding="utf-8")


if __name__ == "__main__":
    which = sys.argv[1:] or ["heldout", "tune"]
    if "heldout" in which:
        write(HERE / "heldout.txt", 2026)
    if "tune" in which:
        write(HERE / "tune.txt", 7)
